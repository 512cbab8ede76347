"""PostgreSQL crashes (`pg_ctl stop -m immediate`) mid-run and restarts with WAL replay."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from fluxa.infra.db import make_engine
from fluxa.migrations import upgrade
from launcher.postgres import EmbeddedPostgres
from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.faults.ledger import dead_lettered_ids, doubles, persisted, rows_of
from tests.integration.helpers import worker_lines
from tests.support.builders import event_body, unique_source
from tests.support.pgdata import postgres_home
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.faults]

DOWN_SECONDS = 10
BATCH = 50


@pytest.fixture
def pg_home() -> Iterator[Path]:
    with postgres_home("crash") as home:
        yield home


def test_postgres_crash_and_restart_loses_nothing(
    settings, worker_process, machine_token, sqs, s3, queue_url, tmp_path, pg_home
):
    # A PostgreSQL of its own, so that crashing it touches only this scenario.
    postgres = EmbeddedPostgres(pg_home / "pg")
    url = postgres.ensure_database("crash")
    upgrade(url)
    engine = make_engine(url)
    worker_process.stop()
    patient = WorkerProcess(
        {**worker_process.env, "FLUXA_DATABASE_URL": url, "FLUXA_RETRY_MAX_RETRIES": "16",
         "FLUXA_RETRY_BACKOFF_MAX": "3"},
        tmp_path / "worker.log", worker_process.queues,
    )  # fmt: skip
    patient.start()
    api = create_app(dataclasses.replace(settings, database_url=url)).test_client()
    headers = {"Authorization": f"Bearer {machine_token}"}
    source = unique_source()

    def post_batch():
        return api.post(
            "/v1/events/batch",
            headers=headers,
            json={"events": [event_body(source=source) for _ in range(BATCH)]},
        )

    accepted: list[str] = []
    try:
        for _ in range(3):
            accepted += [r["event_id"] for r in post_batch().get_json()["results"]]
        postgres.crash()
        crashed = time.monotonic()
        answers: list[int] = []

        def post_while_down() -> None:
            # Ingest honours sign-outs from memory (refreshed from PostgreSQL each second),
            # so an outage of the database does not stop it: every batch is queued.
            response = post_batch()
            answers.append(response.status_code)
            if response.status_code == 202:
                accepted.extend(r["event_id"] for r in response.get_json()["results"])

        post_while_down()
        wait_until(
            lambda: worker_lines(patient, status="retrying", error_code="DBConnectionError"),
            timeout=30,
            what="worker retries while PostgreSQL is down",
        )
        while time.monotonic() - crashed < DOWN_SECONDS:  # the outage itself, under load
            post_while_down()
            time.sleep(0.5)
        assert set(answers) == {202}, answers
        postgres.start()
        restarted = time.monotonic()
        retry = wait_until(
            lambda: (r := post_batch()).status_code == 202 and r,
            timeout=30,
            what="ingest to accept after the restart",
        )
        accepted += [r["event_id"] for r in retry.get_json()["results"]]
        wait_until(
            lambda: persisted(engine, source) == len(accepted),
            timeout=90,
            interval=0.5,
            what="every accepted event persisted",
        )
        recovered = time.monotonic() - restarted
        rows = rows_of(engine, source)
        ids = [str(row.event_id) for row in rows]
        lines = patient.log_lines(since_start=False)
    finally:
        patient.stop()
        engine.dispose()
        postgres.stop()
    dead = dead_lettered_ids(sqs, queue_url(settings.dead_letter_queue), source)
    found, _ = doubles(rows, lines, s3, settings.payload_bucket, dead)
    report(
        "PostgreSQL crashed (-m immediate) and restarted",
        sent=len(accepted),
        batches_while_down=len(answers),
        accepted=len(accepted),
        persisted=len(ids),
        dead_lettered=len(dead),
        duplicates=found.total,
        lost=len(set(accepted) - set(ids)),
        seconds_to_recover=round(recovered, 1),
    )
    assert sorted(ids) == sorted(accepted) and dead == []
    assert found.total == 0, found
