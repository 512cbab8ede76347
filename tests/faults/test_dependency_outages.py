"""PostgreSQL, or S3, unreachable from the workers for 15 s in the middle of a run."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.faults.ledger import dead_lettered_ids, doubles, persisted, rows_of
from tests.integration.helpers import worker_lines
from tests.support.builders import event_body, unique_source
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OUTAGE_SECONDS = 15
BATCHES, BATCH = 6, 50


@pytest.mark.parametrize(
    ("dependency", "error_code"),
    [("database", "DBConnectionError"), ("storage", "StorageUnavailable")],
)
def test_an_outage_is_ridden_out_by_retries(
    worker_process, test_database, s3_proxy, client, engine, s3, sqs, queue_url, settings, tmp_path,
    dependency, error_code,
):  # fmt: skip
    proxy = test_database.proxy if dependency == "database" else s3_proxy
    # This scenario needs a retry budget longer than the outage (~20 s of backoff), so a
    # patient worker replaces the suite's worker for its duration.
    worker_process.stop()
    patient = WorkerProcess(
        {**worker_process.env, "FLUXA_RETRY_MAX_RETRIES": "16", "FLUXA_RETRY_BACKOFF_MAX": "3"},
        tmp_path / "patient.log",
        worker_process.queues,
    )
    patient.start()
    source = unique_source()

    def post_batch() -> list[str]:
        response = client.post(
            "/v1/events/batch", json={"events": [event_body(source=source) for _ in range(BATCH)]}
        )
        assert response.status_code == 202
        return [r["event_id"] for r in response.get_json()["results"]]

    try:
        accepted = post_batch()
        wait_until(lambda: persisted(engine, source) == BATCH, what="the first batch")
        proxy.refuse()
        cut = time.monotonic()
        for _ in range(BATCHES - 1):
            accepted += post_batch()  # ingest keeps accepting: its database path is up
        wait_until(
            lambda: worker_lines(patient, status="retrying", error_code=error_code),
            what="retries during the outage",
        )
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut)))  # the outage itself
        proxy.restore()
        restored = time.monotonic()
        wait_until(
            lambda: persisted(engine, source) == len(accepted),
            timeout=60,
            interval=0.5,
            what="every accepted event persisted",
        )
        recovered = time.monotonic() - restored
    finally:
        proxy.restore()
        patient.stop()
    retries = len(worker_lines(patient, status="retrying", error_code=error_code))
    dead = dead_lettered_ids(sqs, queue_url(settings.dead_letter_queue), source)
    rows = rows_of(engine, source)
    found, successes = doubles(rows, patient.log_lines(), s3, settings.payload_bucket, dead)
    report(
        f"{dependency} unreachable 15 s mid-run",
        sent=len(accepted),
        accepted=len(accepted),
        persisted=len(rows),
        dead_lettered=len(dead),
        duplicates=found.total,
        logged_twice=found.logged_twice,
        archived_twice=found.archived_twice,
        lost=len(set(accepted) - {str(row.event_id) for row in rows}),
        retries=retries,
        seconds_to_recover=round(recovered, 1),
    )
    assert len(rows) == len(accepted) == BATCHES * BATCH
    assert dead == [] and retries > 0
    assert found.total == 0, found
    assert successes == Counter(dict.fromkeys(accepted, 1))  # no kill here: each line once
