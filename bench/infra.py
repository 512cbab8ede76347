"""The parts every benchmark runs on: PostgreSQL, the SQS/S3 emulator, a token issuer,
and Fluxa's own processes (the API server, Celery workers) started as they run in production."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from config import Settings, load_settings
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.db import libpq_url
from fluxa.infra.provisioning import setup_all
from fluxa.infra.queues import source_queues
from fluxa.migrations import upgrade
from launcher.emulator import MotoServer
from launcher.environment import child_environment, use_emulator_credentials
from launcher.ports import free_port
from launcher.postgres import EmbeddedPostgres
from launcher.processes import rss_bytes
from launcher.run import api_argv, standalone_environ, worker_argv
from launcher.waiting import answers, wait_until

BENCH_RATE_LIMITS = "events.write=100000/second;events.read=100000/second;journal=100000/second"


class Infra:
    """Started once per `make bench`; each benchmark takes a fresh database and queues."""

    def __init__(self, root: Path, database_url: str | None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        use_emulator_credentials()  # boto3 in this process needs some
        self._embedded = None if database_url else EmbeddedPostgres(root / "postgres")
        self.server_url = database_url or self._embedded.url()
        self.moto = MotoServer(
            log_path=root / "emulator.log", recording_path=root / "emulator-requests.jsonl"
        )
        self.issuer = DevIssuer(root / "auth")
        self._processes: list[subprocess.Popen[bytes]] = []

    def close(self) -> None:
        for process in self._processes:
            stop(process)
        self.moto.stop()
        if self._embedded:
            self._embedded.stop()

    def fresh_database(self) -> str:
        """A new, migrated database; its SQLAlchemy URL."""
        name = f"fluxa_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(libpq_url(self.server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(self.server_url).set(drivername="postgresql+psycopg", database=name)
        url = url.render_as_string(hide_password=False)
        upgrade(url)
        return url

    def environ(self, database_url: str, **overrides: str) -> dict[str, str]:
        """Production settings (defaults) on these parts, with fresh queue names."""
        suffix = uuid.uuid4().hex[:6]
        env = standalone_environ(
            database_url,
            self.moto,
            self.issuer,
            "INFO",
            "http://127.0.0.1",
            self.root / "metrics",
            self.root / "worker.alive",
        )
        env |= {
            "FLUXA_INPUT_QUEUE": f"Bench-Input-{suffix}",
            "FLUXA_STATS_QUEUE": f"Bench-Stats-{suffix}",
            "FLUXA_MAINTENANCE_QUEUE": f"Bench-Maintenance-{suffix}",
            "FLUXA_DLQ": f"Bench-DLQ-{suffix}",
            "FLUXA_SQS_WAIT_SECONDS": "1",
            # Limits counted as in production (their cost is in the figures), but far
            # above what one benchmark client sends: throughput is measured, not quotas.
            "FLUXA_RATE_LIMITS": BENCH_RATE_LIMITS,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR")
        return env | overrides

    def settings(self, env: Mapping[str, str]) -> Settings:
        """The settings of `env`, with its queues and buckets created in the emulator."""
        settings = load_settings(env)
        setup_all(settings, sqs_client(settings), s3_client(settings))
        return settings

    def start(self, argv: list[str], env: Mapping[str, str], log_name: str) -> subprocess.Popen:
        log = open(self.root / log_name, "ab")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen(
            argv, env=child_environment(env), stdout=log, stderr=subprocess.STDOUT
        )
        self._processes.append(process)
        return process

    def api_server(
        self, app: str, env: Mapping[str, str], workers: int
    ) -> tuple[subprocess.Popen, str]:
        """`app` (an ASGI app) served as the API is (`launcher.run.api_argv`), once it answers."""
        port = free_port()
        process = self.start(api_argv("127.0.0.1", port, workers=workers, app=app), env, "api.log")
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: answers(url + "/healthz"), timeout=60, interval=0.2, what=f"{app} to answer"
        )
        return process, url

    def worker(
        self, env: Mapping[str, str], settings: Settings, concurrency: int
    ) -> subprocess.Popen:
        """A Celery worker on Fluxa's queues, as `fluxa standalone` starts it."""
        argv = worker_argv(source_queues(settings), concurrency=concurrency, log_level="INFO")
        return self.start(argv, env, "worker.log")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MiB."""
    return rss_bytes(pid) / 2**20
