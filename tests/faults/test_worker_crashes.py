"""Workers SIGKILLed again and again mid-batch: nothing lost, nothing doubled."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from fluxa.events.models import events
from tests.faults.figures import report
from tests.faults.ledger import persisted
from tests.integration.helpers import worker_lines
from tests.support.builders import event_body, unique_source
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]

EVENTS = 2000
BATCH = 100
KILLS = 5


def test_repeated_worker_kills_lose_and_double_nothing(client, worker, engine, s3, settings):
    source = unique_source()
    accepted: list[str] = []
    for _ in range(EVENTS // BATCH):
        response = client.post(
            "/v1/events/batch", json={"events": [event_body(source=source) for _ in range(BATCH)]}
        )
        assert response.status_code == 202
        accepted += [r["event_id"] for r in response.get_json()["results"]]

    started = time.monotonic()
    kills = 0
    while kills < KILLS and persisted(engine, source) < EVENTS:
        seen = len(worker_lines(worker, message="task started"))
        wait_until(
            lambda s=seen: len(worker_lines(worker, message="task started")) > s,
            timeout=60,
            interval=0.05,
            what="the worker to pick up a batch",
        )
        worker.kill()  # mid-batch: the message stays unacknowledged
        kills += 1
        worker.start()
    wait_until(
        lambda: persisted(engine, source) == EVENTS,
        timeout=240,
        interval=0.5,
        what="every accepted event persisted",
    )
    recovered = time.monotonic() - started

    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.event_id, events.c.archive_key).where(events.c.source == source)
        ).all()
    ids = [row.event_id for row in rows]
    keys = {row.archive_key for row in rows}
    missing_objects = [
        k
        for k in keys
        if s3.list_objects_v2(Bucket=settings.payload_bucket, Prefix=k)["KeyCount"] != 1
    ]
    successes = [
        line
        for line in worker_lines(worker, since_start=False)
        if line.get("message") == "Successfully processed event"
        and line.get("event_id") in set(ids)
    ]
    lost = len(set(accepted) - set(ids))
    duplicates = len(ids) - len(set(ids))
    report(
        "worker SIGKILLed mid-batch",
        sent=EVENTS,
        accepted=len(accepted),
        persisted=len(ids),
        dead_lettered=0,
        duplicates=duplicates,
        lost=lost,
        kills=kills,
        missing_objects=len(missing_objects),
        seconds_to_recover=round(recovered, 1),
    )
    assert kills >= KILLS
    assert lost == 0 and duplicates == 0 and sorted(ids) == sorted(accepted)
    assert missing_objects == []
    assert len(successes) <= EVENTS  # never reported twice
