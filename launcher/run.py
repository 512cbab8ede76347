"""`fluxa standalone`: the whole system on one machine, with no services installed."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

from config import Settings, load_settings
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.events.retention import make_days_ahead
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.provisioning import setup_all
from fluxa.infra.queues import queue_urls, source_queues, visible_count
from launcher.dependencies import DependencyKeeper, Provisioned
from launcher.emulator import MOTO_ACCOUNT_ID, MotoServer
from launcher.environment import (
    EMULATOR_CREDENTIALS,
    child_environment,
    use_emulator_credentials,
)
from launcher.postgres import EmbeddedPostgres
from launcher.strict_sqs import STANDALONE_STRICTNESS, StrictSqs
from launcher.supervisor import Supervisor
from launcher.waiting import answers, wait_until

DEV_SCOPES = ("fluxa/events.write", "fluxa/events.read")


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signum)


def standalone_environ(
    postgres_url: str,
    moto: MotoServer,
    issuer: DevIssuer,
    log_level: str,
    api_url: str,
    metrics_dir: Path,
    heartbeat_file: Path,
    sqs_endpoint: str | None = None,
) -> dict[str, str]:
    """The settings every child process (and other shells, via standalone.env) uses;
    `sqs_endpoint`: SQS through another endpoint than the emulator's (the strict layer)."""
    sqs = {}
    if sqs_endpoint:
        sqs = {
            "FLUXA_SQS_ENDPOINT_URL": sqs_endpoint,
            "FLUXA_SQS_QUEUE_URL_PREFIX": f"{sqs_endpoint}/{MOTO_ACCOUNT_ID}",
        }
    return {
        "FLUXA_API_URL": api_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "FLUXA_AUTH_ISSUER": issuer.issuer,
        "FLUXA_AUTH_AUDIENCE": issuer.client_id,
        "FLUXA_AUTH_JWKS_URL": issuer.jwks_url,
        "FLUXA_AUTH_DEV_KEY_PATH": str(issuer.private_key_path),
        "FLUXA_DATABASE_URL": postgres_url,
        "FLUXA_BROKER_URL": "sqs://",
        "FLUXA_AWS_ENDPOINT_URL": moto.endpoint,
        "FLUXA_SQS_QUEUE_URL_PREFIX": moto.queue_url_prefix,
        "FLUXA_SQS_WAIT_SECONDS": "2",
        "FLUXA_LOG_LEVEL": log_level,
        "AWS_REGION": "us-east-1",
        "FLUXA_WORKER_HEARTBEAT_FILE": str(heartbeat_file),
        **EMULATOR_CREDENTIALS,  # with AWS_DEFAULT_REGION, which the AWS CLI reads
        **sqs,
    }


def api_argv(host: str, port: int, *, workers: int, app: str = "api.asgi:app") -> list[str]:
    """The command line of the API server: uvicorn with Fluxa's HTTP protocol (bounded
    request heads) serving the ASGI app (bodies read whole before a thread runs Flask)."""
    return [
        sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port),
        "--workers", str(workers), "--http", "api.http_protocol:FluxaHttpProtocol",
        "--loop", "uvloop", "--no-access-log", "--no-server-header",
        "--timeout-graceful-shutdown", "25",
    ]  # fmt: skip


def worker_argv(queues: list[str], *, concurrency: int, log_level: str) -> list[str]:
    """The command line of a Celery worker consuming `queues` (no broadcast features: SQS)."""
    return [
        sys.executable, "-m", "celery", "-A", "workers.worker", "worker",
        "--concurrency", str(concurrency), "--queues", ",".join(queues),
        "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", log_level,
    ]  # fmt: skip


def _wait_ready(url: str, timeout: float = 60.0) -> bool:
    try:
        wait_until(lambda: answers(url, below=300), timeout=timeout, interval=0.3, what=url)
    except AssertionError:
        return False
    return True


def port_problem(host: str, port: int) -> str | None:
    """Why the API could not listen on `host:port` (e.g. address already in use), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds (SO_REUSEADDR): a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _start_children(
    supervisor: Supervisor,
    env: dict[str, str],
    host: str,
    port: int,
    data_dir: Path,
    settings: Settings,
) -> None:
    python, log_level = sys.executable, settings.log_level
    supervisor.start("api", api_argv(host, port, workers=2), env)
    supervisor.start(
        "worker", worker_argv(source_queues(settings), concurrency=2, log_level=log_level), env
    )
    supervisor.start(
        "beat",
        [
            python, "-m", "celery", "-A", "workers.worker", "beat", "--loglevel", log_level,
            "--schedule", str(data_dir / "beat-schedule"),
        ],
        env,
    )  # fmt: skip


def drain(supervisor: Supervisor, settings: Settings, timeout: float) -> int:
    """A clean stop's first half: the API and beat stop taking work, then the workers get up
    to `timeout` seconds to take every queued message (the tasks they are running finish
    in the worker's warm shutdown that follows). Returns how many were left (kept on disk
    for the next start); a second Ctrl-C stops waiting.

    Messages in flight are not waited for: one taken by a worker that was killed stays
    invisible until its lease ends, and only the next start brings it back."""
    supervisor.stop("api", "beat")
    sqs = sqs_client(settings)
    urls = [
        url for name, url in queue_urls(settings, sqs).items() if name in source_queues(settings)
    ]
    deadline = time.monotonic() + timeout
    left = sum(visible_count(sqs, url) for url in urls)
    try:
        while left and time.monotonic() < deadline:
            print(f"fluxa: draining: {left} messages queued", flush=True)
            time.sleep(1.0)
            left = sum(visible_count(sqs, url) for url in urls)
    except _Stop:
        pass
    return left


def run_standalone(
    host: str,
    port: int,
    data_dir: Path,
    log_level: str = "INFO",
    drain_seconds: float = 60.0,
    strict_sqs: bool = False,
) -> int:
    """Run until SIGINT/SIGTERM, restarting children that die, and PostgreSQL and the
    emulator when they do; return the exit status.

    Everything the system keeps lives under `data_dir`: PostgreSQL's files, and the queued
    messages and objects of the emulator, so a stop or a crash loses nothing accepted.
    With `strict_sqs`, every process reaches SQS through `launcher.strict_sqs`.
    """
    if problem := port_problem(host, port):  # before anything starts, not after a timeout
        print(f"fluxa: {problem}", file=sys.stderr, flush=True)
        return 2
    data_dir = data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    postgres = moto = settings = strict = None
    supervisor = Supervisor(logs)
    try:
        print(f"fluxa: starting PostgreSQL in {data_dir / 'postgres'}", flush=True)
        postgres = EmbeddedPostgres(data_dir / "postgres")
        moto = MotoServer(log_path=logs / "emulator.log", state_dir=data_dir / "emulator")
        strict = StrictSqs(("127.0.0.1", moto.port), STANDALONE_STRICTNESS) if strict_sqs else None
        issuer = DevIssuer(data_dir / "auth")
        metrics_dir = data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # counters start again with the processes
        metrics_dir.mkdir()
        env_vars = standalone_environ(
            postgres.ensure_database("fluxa"), moto, issuer, log_level,
            f"http://{host}:{port}", metrics_dir, data_dir / "worker.alive",
            strict.endpoint if strict else None,
        )  # fmt: skip
        use_emulator_credentials()  # this process provisions the emulator with boto3
        settings = load_settings(env_vars)
        provision = functools.partial(
            setup_all, settings, sqs_client(settings), s3_client(settings)
        )
        provision()
        make_days_ahead(settings.database_url, dt.datetime.now(dt.UTC))  # as `fluxa setup`
        (data_dir / "standalone.env").write_text(
            "".join(f"{key}={value}\n" for key, value in env_vars.items())
        )
        _start_children(supervisor, child_environment(env_vars), host, port, data_dir, settings)
        api_url = f"http://{host}:{port}"
        ready = _wait_ready(f"{api_url}/readyz")
        print(
            f"fluxa: API {api_url}/v1  (ready: {ready})\n"
            f"fluxa: SQS/S3 emulator {moto.endpoint}"
            + (f" (SQS as strict as AWS: {strict.endpoint})\n" if strict else "\n")
            + f"fluxa: settings for other shells: {data_dir / 'standalone.env'}\n"
            f"fluxa: development token (user dev-user, 24 h):\n"
            f"{issuer.mint('dev-user', scopes=DEV_SCOPES, ttl_seconds=86400)}\n"
            f"fluxa: logs in {logs}; Ctrl-C stops everything",
            flush=True,
        )
        dependencies = DependencyKeeper([postgres, Provisioned(moto, provision)])
        while True:  # until Ctrl-C / SIGTERM (_Stop)
            for line in dependencies.tend() + supervisor.tend():
                print(f"fluxa: {line}", flush=True)
            time.sleep(0.5)
    except _Stop:
        if settings is not None and supervisor.children:
            print(f"fluxa: stopping; draining the queues (at most {drain_seconds:g} s)", flush=True)
            left = drain(supervisor, settings, drain_seconds)
            kept = f"{left} messages kept for the next start" if left else "queues drained"
            print(f"fluxa: stopping: {kept}", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        supervisor.stop_all()
        if strict:
            strict.close()
        if moto:
            moto.stop()
        if postgres:
            postgres.stop()
