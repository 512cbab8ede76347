"""Scheduled jobs on real processes: `celery beat` leadership taken over after the leader
dies, and the maintenance tasks run by a real worker with their effects checked."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select, update

from cli.main import main
from fluxa.events.trail import event_trail
from fluxa.idempotency.models import idempotency_keys
from fluxa.imports import repository as imports_repository
from fluxa.imports.files import import_id_of, import_key
from fluxa.infra import leases
from fluxa.infra.db import transaction
from fluxa.messages.tasks import TaskName
from fluxa.trades.images import S3ImageStore
from fluxa.trades.trail import work_trail
from launcher.environment import child_environment
from launcher.waiting import wait_until
from tests.integration.helpers import run_task
from tests.support.trades import trade_body, uploaded_image
from tests.support.worker import WorkerProcess
from workers.beat import LEASE_NAME, LEASE_TTL

pytestmark = pytest.mark.integration


class BeatProcess:
    """`celery -A workers.worker beat` with its JSON log in a file."""

    def __init__(self, env: dict[str, str], folder: Path, name: str) -> None:
        self.log_path = folder / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "--quiet", "-A", "workers.worker", "beat",
                 "--loglevel", "INFO", "--schedule", str(folder / f"{name}-schedule")],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def leads(self) -> bool:
        """Whether a JSON log line of this beat says it holds the lease."""
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                if line.startswith("{") and json.loads(line).get("leader") is True:
                    return True
        return False

    def sent(self) -> int:
        return self.log().count("Sending due task sweep-stats-outbox")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def hang(self) -> None:
        os.killpg(self.process.pid, signal.SIGSTOP)


@pytest.fixture
def beats(environ: dict[str, str], engine, tmp_path: Path) -> Iterator[list[BeatProcess]]:
    leases.release(engine, LEASE_NAME, "")  # no-op unless a holder of this name is left
    started: list[BeatProcess] = []
    yield started
    for beat in started:
        if beat.process.poll() is None:
            beat.kill()


def test_a_follower_beat_takes_over_when_the_leader_stops_renewing(
    beats: list[BeatProcess], environ: dict[str, str], tmp_path: Path
):
    env = child_environment(environ)
    first = BeatProcess(env, tmp_path, "first")
    beats.append(first)
    wait_until(first.leads, timeout=60, what="the first beat to lead")
    second = BeatProcess(env, tmp_path, "second")
    beats.append(second)
    wait_until(lambda: "beat: Starting" in second.log(), timeout=60, what="the second beat")
    # The leader sends the 2 s sweep a few more times while the second one follows.
    leader_sent = first.sent()
    wait_until(lambda: first.sent() >= leader_sent + 3, timeout=30, what="the leader to send")
    follower_sent = second.sent()
    assert not second.leads() and follower_sent == 0, "a follower sent while the leader led"

    first.kill()  # no release: the lease must lapse on its own
    killed = time.monotonic()
    wait_until(second.leads, timeout=LEASE_TTL.total_seconds() + 30, what="the takeover")
    took = time.monotonic() - killed
    wait_until(lambda: second.sent() > 0, timeout=30, what="the new leader to send")
    assert took <= LEASE_TTL.total_seconds() + 10, took


def test_beat_reports_health_until_it_hangs(
    beats: list[BeatProcess], environ: dict[str, str], tmp_path: Path
):
    """beat's container health check is `fluxa worker-ready`: each tick touches the
    heartbeat file, and a beat stuck in a tick stops touching it."""
    heartbeat = tmp_path / "beat.alive"
    env = {**child_environment(environ), "FLUXA_WORKER_HEARTBEAT_FILE": str(heartbeat)}
    beat = BeatProcess(env, tmp_path, "checked")
    beats.append(beat)

    def healthy() -> bool:
        ready = CliRunner(env=env).invoke(main, ["worker-ready", "--max-age", "3"])
        return ready.exit_code == 0

    wait_until(healthy, timeout=60, what="beat's first heartbeat")
    beat.hang()
    wait_until(lambda: not healthy(), timeout=30, what="the hung beat to fail its check")
    assert beat.process.poll() is None  # still there: only the check can tell


@pytest.fixture
def maintenance_worker(start_maintenance_worker) -> tuple[WorkerProcess, str]:
    """With a 1 s image grace, so that the grace can pass in a test."""
    return start_maintenance_worker(FLUXA_IMAGE_ORPHAN_GRACE_SECONDS="1")


def test_purge_expired_idempotency_keys_runs_on_a_real_worker(
    maintenance_worker, settings, engine, client
):
    worker, queue = maintenance_worker
    keys = [f"k-{uuid.uuid4().hex}" for _ in range(2)]
    for key in keys:
        response = client.post("/v1/events", json=_event(), headers={"Idempotency-Key": key})
        assert response.status_code == 202
    expired, kept = keys
    with transaction(engine) as conn:
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == expired)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    run_task(settings, queue, TaskName.PURGE_IDEMPOTENCY_KEYS)
    wait_until(lambda: _key_rows(engine, expired) == 0, timeout=60, what="the expired key purged")
    assert _key_rows(engine, kept) == 1
    assert [
        line
        for line in worker.log_lines()
        if line.get("message") == "expired idempotency keys purged"
    ]


def test_purge_trails_removes_rows_past_their_retention_on_a_real_worker(
    maintenance_worker, settings, engine
):
    """Rows older than FLUXA_TRAIL_RETENTION_DAYS go, in batches; younger ones stay."""
    _, queue = maintenance_worker
    marker = f"purge-{uuid.uuid4().hex[:8]}"
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=settings.trail_retention_days, hours=1)
    young = now - dt.timedelta(days=settings.trail_retention_days - 1)
    with transaction(engine) as conn:
        for at in (old, young):
            conn.execute(
                insert(event_trail).values(
                    event_id=f"{marker}-{at:%s}",
                    stage="dead_lettered",
                    at=at,
                    correlation_id=marker,
                )
            )
            conn.execute(insert(work_trail).values(
                correlation_id=marker, stage="trade_written", subject=marker, at=at))  # fmt: skip
    run_task(settings, queue, TaskName.PURGE_TRAILS)

    def left() -> list[dt.datetime]:
        with engine.connect() as conn:
            events = conn.execute(
                select(event_trail.c.at).where(event_trail.c.correlation_id == marker)
            )
            trades = conn.execute(
                select(work_trail.c.at).where(work_trail.c.correlation_id == marker)
            )
            return sorted([*events.scalars(), *trades.scalars()])

    wait_until(lambda: len(left()) == 2, timeout=60, what="the old rows purged")
    assert left() == [young, young]


def test_cleanup_orphan_images_runs_on_a_real_worker(
    maintenance_worker, settings, client, auth, s3, engine
):
    """Images no trade lists go, and imported files no import names (the API stored the
    file, then could not commit its import); what is named stays."""
    _, queue = maintenance_worker
    user = f"user-{uuid.uuid4().hex[:8]}"
    trade = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()
    kept, orphan = (uploaded_image(client, auth, user, trade["id"]) for _ in range(2))
    imported, unrecorded = (import_key(user, str(uuid.uuid4()), "csv") for _ in range(2))
    for key in (imported, unrecorded):
        s3.put_object(Bucket=settings.image_bucket, Key=key, Body=b"when,symbol\n")
    with transaction(engine) as conn:
        imports_repository.insert_import(conn, {
            "id": import_id_of(imported), "user_id": user, "format": "fluxa-csv",
            "account": "", "timezone": None, "object_key": imported, "size": 12,
        })  # fmt: skip
    attached = client.patch(
        f"/v1/trades/{trade['id']}", json={"images": [kept], "version": 1}, headers=auth(user)
    )
    assert attached.status_code == 200
    store = S3ImageStore(s3, settings.image_bucket)
    wait_until(
        lambda: _older_than(s3, settings.image_bucket, orphan, seconds=1),
        timeout=10,
        what="the grace to pass",
    )
    run_task(settings, queue, TaskName.CLEANUP_ORPHAN_IMAGES)
    wait_until(lambda: store.stored(orphan) is None, timeout=60, what="the orphan deleted")
    wait_until(lambda: store.stored(unrecorded) is None, timeout=60, what="the file deleted")
    assert store.stored(kept) is not None and store.stored(imported) is not None


def _event() -> dict[str, Any]:
    return {
        "type": "t",
        "source": "maintenance-test",
        "occurred_at": "2026-11-01T00:00:00Z",
        "payload": {"marker": uuid.uuid4().hex},
    }


def _key_rows(engine, key: str) -> int:
    with engine.connect() as conn:
        query = (
            select(func.count()).select_from(idempotency_keys).where(idempotency_keys.c.key == key)
        )
        return conn.execute(query).scalar_one()


def _older_than(s3, bucket: str, key: str, *, seconds: float) -> bool:
    head = s3.head_object(Bucket=bucket, Key=key)
    return dt.datetime.now(dt.UTC) - head["LastModified"] > dt.timedelta(seconds=seconds)
