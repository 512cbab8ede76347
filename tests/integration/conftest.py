"""Real parts for integration tests: PostgreSQL, the SQS/S3 emulator over HTTP, a Celery worker.

PostgreSQL is the server named by FLUXA_TEST_DATABASE_URL (a fresh database is
created on it for the run) or, when unset, an embedded server started here. The
worker reaches PostgreSQL through a TCP proxy that tests can cut.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from api.app import create_app
from config import Settings, load_settings
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.db import libpq_url, make_engine
from fluxa.infra.provisioning import setup_all
from fluxa.infra.queues import source_queues
from fluxa.migrations import upgrade
from launcher.emulator import MOTO_ACCOUNT_ID, MotoServer
from launcher.environment import child_environment, variable
from launcher.postgres import EmbeddedPostgres
from launcher.strict_sqs import SUITE_STRICTNESS, StrictSqs
from tests.support.pgdata import postgres_home
from tests.support.tcp_proxy import TcpProxy
from tests.support.worker import WorkerProcess

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class TestDatabase:
    url: str  # direct, for the test process and the API
    proxied_url: str  # through `proxy`, for the worker
    proxy: TcpProxy


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    with contextlib.ExitStack() as stack:
        yield from _test_database(stack)


def _test_database(stack: contextlib.ExitStack) -> Iterator[TestDatabase]:
    name = f"fluxa_test_{uuid.uuid4().hex[:10]}"
    server_url = variable("FLUXA_TEST_DATABASE_URL")
    embedded = None
    if server_url:
        parts = urlsplit(libpq_url(server_url))
        with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        user = parts.username or "postgres"
        url = f"postgresql+psycopg://{user}@{parts.hostname}:{parts.port or 5432}/{name}"
        upstream: tuple[str, int] | str = (parts.hostname or "127.0.0.1", parts.port or 5432)
    else:
        home = stack.enter_context(postgres_home("tests"))
        embedded = EmbeddedPostgres(home / "pg")
        url = embedded.ensure_database(name)
        user = "postgres"
        upstream = f"{embedded.socket_dir}/.s.PGSQL.5432"
    proxy = TcpProxy(upstream)
    yield TestDatabase(
        url=url,
        proxied_url=f"postgresql+psycopg://{user}@127.0.0.1:{proxy.port}/{name}",
        proxy=proxy,
    )
    proxy.close()
    if server_url:
        with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if embedded:
        embedded.stop()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    folder = tmp_path_factory.mktemp("moto")
    server = MotoServer(log_path=folder / "moto.log", recording_path=folder / "requests.jsonl")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def strict_sqs(emulator: MotoServer) -> Iterator[StrictSqs]:
    """SQS as AWS answers (sampled short polls, lost deletes, throttles, 5xx) in front of
    the emulator: every SQS request of the suites goes through it (S3 does not)."""
    layer = StrictSqs(("127.0.0.1", emulator.port), SUITE_STRICTNESS)
    yield layer
    layer.close()


# Short timings so that retries, redeliveries and dead-lettering happen within seconds.
TEST_TUNING = {
    "FLUXA_SQS_VISIBILITY_TIMEOUT": "10",
    "FLUXA_SQS_LEASE_SECONDS": "4",
    # Limits on, far above what a test sends (tests of the limits set their own).
    "FLUXA_RATE_LIMITS": "events.write=5000/second;events.read=5000/second;journal=5000/second",
    "FLUXA_SQS_MAX_RECEIVE_COUNT": "4",
    "FLUXA_SQS_WAIT_SECONDS": "1",
    "FLUXA_TASK_TIME_LIMIT": "6",
    "FLUXA_WORKER_PREFETCH_MULTIPLIER": "1",
    "FLUXA_RETRY_MAX_RETRIES": "4",
    "FLUXA_RETRY_BACKOFF_BASE": "0.5",
    "FLUXA_RETRY_BACKOFF_MAX": "2",
    "FLUXA_CLAIM_CHECK_BYTES": "8192",
    "FLUXA_STATS_SWEEP_SECONDS": "2",
    "FLUXA_STATS_THROTTLE_SECONDS": "1",
    # The workers' CloudWatch EMF lines, so that tests can read them.
    "FLUXA_METRICS_EMF": "true",
}


@pytest.fixture(scope="session")
def dev_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="session")
def auth(dev_issuer: DevIssuer):
    """`auth("alice")` → headers with a valid bearer token for user alice."""

    def headers(user: str, **claims: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {dev_issuer.mint(user, **claims)}"}

    return headers


@pytest.fixture(scope="session")
def environ(
    test_database: TestDatabase, emulator: MotoServer, strict_sqs: StrictSqs, dev_issuer: DevIssuer
) -> dict[str, str]:
    return {
        "FLUXA_AUTH_ISSUER": dev_issuer.issuer,
        "FLUXA_AUTH_AUDIENCE": dev_issuer.client_id,
        "FLUXA_AUTH_JWKS_URL": dev_issuer.jwks_url,
        "FLUXA_DATABASE_URL": test_database.url,
        "FLUXA_BROKER_URL": "sqs://",
        "FLUXA_AWS_ENDPOINT_URL": emulator.endpoint,
        "FLUXA_SQS_ENDPOINT_URL": strict_sqs.endpoint,
        "FLUXA_SQS_QUEUE_URL_PREFIX": f"{strict_sqs.endpoint}/{MOTO_ACCOUNT_ID}",
        "FLUXA_LOG_LEVEL": "INFO",
        **TEST_TUNING,
    }


@pytest.fixture(scope="session")
def settings(environ: dict[str, str]) -> Settings:
    settings = load_settings(environ)
    setup_all(settings, sqs_client(settings), s3_client(settings))
    return settings


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqs(settings: Settings) -> Any:
    return sqs_client(settings)


@pytest.fixture(scope="session")
def s3(settings: Settings) -> Any:
    return s3_client(settings)


@pytest.fixture(scope="session")
def queue_url(settings: Settings):
    def url(name: str) -> str:
        return f"{settings.sqs_queue_url_prefix}/{name}"

    return url


@pytest.fixture(scope="session")
def s3_proxy(emulator: MotoServer) -> Iterator[TcpProxy]:
    """The worker's way to S3, which tests can cut (SQS stays reachable)."""
    proxy = TcpProxy(("127.0.0.1", emulator.port))
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def worker_process(
    settings: Settings,
    environ: dict[str, str],
    test_database: TestDatabase,
    s3_proxy: TcpProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    env = {
        **child_environment(),
        **environ,
        "FLUXA_DATABASE_URL": test_database.proxied_url,
        "FLUXA_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_proxy.port}",
        "FLUXA_WORKER_HEARTBEAT_FILE": str(tmp_path_factory.mktemp("hb") / "worker.alive"),
    }
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    # The test worker also registers tasks that fail forever or crash their process.
    process = WorkerProcess(
        env, log_path, source_queues(settings), include=("tests.support.poison_tasks",)
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def worker(
    worker_process: WorkerProcess, test_database: TestDatabase, s3_proxy: TcpProxy
) -> WorkerProcess:
    """The running worker (restarted if an earlier test killed it), with its proxies open."""
    test_database.proxy.restore()
    s3_proxy.restore()
    if not worker_process.running:
        worker_process.start()
    return worker_process


@pytest.fixture(scope="session")
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture(scope="session")
def machine_token(dev_issuer: DevIssuer) -> str:
    """An event-ingesting machine client's access token (both event scopes)."""
    return dev_issuer.mint(
        "ingest-client", scopes=(SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ), ttl_seconds=6 * 3600
    )


@pytest.fixture
def client(app, machine_token: str):
    """A test client that sends the machine client's token unless a test sends another."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {machine_token}"
    return test_client


@pytest.fixture
def anonymous_client(app):
    return app.test_client()


@pytest.fixture
def start_maintenance_worker(
    environ: dict[str, str], sqs: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """`start_maintenance_worker(**env)` → (worker, queue): a worker of its own on a
    maintenance queue of its own, so that the suite's worker cannot take these tasks,
    with `env` over the suite's settings."""
    started: list[WorkerProcess] = []

    def start(**env: str) -> tuple[WorkerProcess, str]:
        queue = f"Test-Maintenance-{uuid.uuid4().hex[:8]}"
        sqs.create_queue(QueueName=queue)
        folder = tmp_path_factory.mktemp("maintenance")
        settings = {**child_environment(), **environ, "FLUXA_MAINTENANCE_QUEUE": queue, **env}
        worker = WorkerProcess(settings, folder / "worker.log", [queue])
        worker.start()
        started.append(worker)
        return worker, queue

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def scratch_database_at(test_database: TestDatabase) -> Iterator[Any]:
    """`scratch_database_at(revision)` → the URL of a database of its own on the suite's
    server, migrated to `revision`; dropped after the test."""
    names: list[str] = []

    def create(revision: str) -> str:
        name = f"fluxa_scratch_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(libpq_url(test_database.url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        url = make_url(test_database.url).set(database=name)
        rendered = url.render_as_string(hide_password=False)
        upgrade(rendered, revision)
        return rendered

    yield create
    with psycopg.connect(libpq_url(test_database.url), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
