"""`events` by day: partitions made ahead (setup, beat, and a message that finds none),
retention by whole partitions, and one row per client-chosen id across days.

The suite shares one database, so each test works on days of its own far in the past
(other tests' rows arrive today) and applies retention only up to those days.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import uuid

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy import event as sa_event

from fluxa.events import partition_repository as partitions_store
from fluxa.events import repository
from fluxa.events.models import events
from fluxa.events.partitions import day_partition, days_ahead
from fluxa.events.processor import EventProcessor, ProcessResult
from fluxa.events.retention import lateness_now
from fluxa.events.trail import Delivery
from fluxa.infra.storage import S3ObjectStore
from fluxa.messages.tasks import TaskName
from launcher.waiting import wait_until
from tests.integration.helpers import fluxa, run_task, wait_for_rows
from tests.support.builders import event_body, event_message
from tests.support.hostile_messages import events_body

pytestmark = pytest.mark.integration


def partition_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {p.name for p in partitions_store.list_partitions(conn)}


def a_day_of_our_own(engine: Engine) -> dt.date:
    """A day in 2001–2004 that no partition covers yet."""
    taken = partition_names(engine)
    while True:
        day = dt.date(2001, 1, 1) + dt.timedelta(days=random.randrange(4 * 365))
        if day_partition(day).name not in taken:
            return day


def at_noon(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).isoformat()


def drop_if_empty(engine: Engine, day: dt.date) -> None:
    name = day_partition(day).name
    if name in partition_names(engine):
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(events).where(
                events.c.accepted_at >= day_partition(day).lower,
                events.c.accepted_at < day_partition(day).upper,
            )).scalar_one() == 0, f"{name} holds rows"  # fmt: skip
        partitions_store.detach_partition(engine, name)
        partitions_store.drop_table(engine, name)


def test_setup_makes_the_partitions_of_the_week_ahead(environ, engine):
    last = days_ahead(dt.datetime.now(dt.UTC).date())[-1]
    drop_if_empty(engine, last)
    assert day_partition(last).name not in partition_names(engine)
    out = json.loads(fluxa(environ, "setup"))
    assert day_partition(last).name in out["event_partitions_made"]
    assert day_partition(last).name in partition_names(engine)
    assert json.loads(fluxa(environ, "setup"))["event_partitions_made"] == []  # once


def test_beat_makes_the_week_ahead_and_drops_what_retention_passed(
    start_maintenance_worker, settings, engine
):
    """Retention here is 20 years: it reaches only this test's day of 2001–2004."""
    old = a_day_of_our_own(engine)
    partitions_store.make_partitions_now(engine, [old])
    last = days_ahead(dt.datetime.now(dt.UTC).date())[-1]
    drop_if_empty(engine, last)
    retention = (dt.datetime.now(dt.UTC).date() - old).days - 2
    _worker, queue = start_maintenance_worker(FLUXA_EVENTS_RETENTION_DAYS=str(retention))
    run_task(settings, queue, TaskName.MAINTAIN_EVENT_PARTITIONS)

    def maintained() -> bool:
        names = partition_names(engine)
        return day_partition(last).name in names and day_partition(old).name not in names

    wait_until(maintained, timeout=60, what="beat's partition job")


def test_a_message_for_a_day_without_a_partition_makes_it(worker, settings, sqs, queue_url, engine):
    """Beat down longer than a week, or a replay of a day retention dropped: the processor
    makes the partition rather than fail the message."""
    day = a_day_of_our_own(engine)
    message = event_message(accepted_at=at_noon(day))
    sqs.send_message(QueueUrl=queue_url(settings.input_queue), MessageBody=events_body([message]))
    wait_for_rows(engine, [message["event_id"]], timeout=60)
    assert day_partition(day).name in partition_names(engine)


def test_retention_drops_whole_partitions_and_keeps_what_kept_rows_name(
    environ, worker, settings, sqs, queue_url, engine, client
):
    """Two events of one message share an archive object; retention drops the older
    one's day, and the newer one (kept) still reads its payload."""
    old = a_day_of_our_own(engine)
    newer = old + dt.timedelta(days=3)
    leaving = event_message(accepted_at=at_noon(old))
    staying = event_message(accepted_at=at_noon(newer))
    partitions_store.make_partitions_now(engine, [old, newer])
    body = events_body([leaving, staying])
    sqs.send_message(QueueUrl=queue_url(settings.input_queue), MessageBody=body)
    wait_for_rows(engine, [leaving["event_id"], staying["event_id"]], timeout=60)
    retention = (dt.datetime.now(dt.UTC).date() - old).days - 2  # cuts between the two
    env = {**environ, "FLUXA_EVENTS_RETENTION_DAYS": str(retention)}

    planned = json.loads(fluxa(env, "events", "retention", "--dry-run"))
    assert day_partition(old).name in planned["dropped"]
    assert day_partition(newer).name not in planned["dropped"]
    assert client.get(f"/v1/events/{leaving['event_id']}").status_code == 200  # dry: kept

    done = json.loads(fluxa(env, "events", "retention"))
    assert day_partition(old).name in done["dropped"]
    assert day_partition(old).name not in partition_names(engine)
    assert client.get(f"/v1/events/{leaving['event_id']}").status_code == 404
    kept = client.get(f"/v1/events/{staying['event_id']}")
    assert kept.status_code == 200 and kept.get_json()["payload"] == staying["payload"]


def test_a_client_chosen_id_is_stored_once_across_days(worker, settings, sqs, queue_url, engine):
    """The key is (id, arrival): the same id sent again a day later arrives with another
    key, and only the processor's check keeps it one event."""
    event_id = f"client-{uuid.uuid4().hex}"
    first = event_message(event_id=event_id)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    again = event_message(event_id=event_id, accepted_at=later.isoformat())
    inbox = queue_url(settings.input_queue)
    sqs.send_message(QueueUrl=inbox, MessageBody=events_body([first]))
    wait_for_rows(engine, [event_id], timeout=60)
    sqs.send_message(QueueUrl=inbox, MessageBody=events_body([again, marker := event_message()]))
    wait_for_rows(engine, [marker["event_id"]], timeout=60)  # the message was processed
    with engine.connect() as conn:
        stored = conn.execute(select(events.c.accepted_at).where(events.c.event_id == event_id))
        assert [row.accepted_at for row in stored] == [
            dt.datetime.fromisoformat(first["accepted_at"])
        ]


def test_one_client_id_on_two_days_at_once_is_stored_once(engine, s3, settings):
    """Two processors take two messages with one client-chosen id, arriving on two days,
    at the same moment: the per-id lock lets one store it."""
    processors = [
        EventProcessor(engine, S3ObjectStore(s3, settings.payload_bucket)) for _ in range(2)
    ]
    today = dt.datetime.now(dt.UTC)
    for _ in range(10):
        event_id = f"race-{uuid.uuid4().hex}"
        messages = [
            event_message(event_id=event_id, accepted_at=(today + dt.timedelta(days=n)).isoformat())
            for n in range(2)
        ]
        results = at_once(processors, messages)
        assert sorted(len(result.inserted) for result in results) == [0, 1]
        with engine.connect() as conn:
            count = select(func.count()).select_from(events).where(events.c.event_id == event_id)
            assert conn.execute(count).scalar_one() == 1


def at_once(processors: list[EventProcessor], messages: list[dict]) -> list[ProcessResult]:
    """Each processor processes its message, all starting together."""
    delivery = Delivery(task_id=None, correlation_id=None, enqueued_at=None, dead_letter=None)
    start, results = threading.Barrier(len(processors)), []

    def process(processor: EventProcessor, message: dict) -> None:
        start.wait()
        results.append(processor.process([message], delivery))

    threads = [
        threading.Thread(target=process, args=pair)
        for pair in zip(processors, messages, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_lookup_by_a_uuidv7_id_reads_the_partition_of_its_time(client, engine, worker):
    """The id says when it was made, which is when its event arrived: one day's partition
    answers (two only within 5 minutes of midnight)."""
    event_id = client.post("/v1/events", json=event_body()).get_json()["event_id"]
    wait_for_rows(engine, [event_id])
    ran: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM events" in statement:
            ran.append((statement, parameters))

    sa_event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            assert repository.get_event(conn, event_id) is not None
    finally:
        sa_event.remove(engine, "before_cursor_execute", capture)
    [(statement, parameters)] = ran  # found by the first, narrowed query
    with engine.connect() as conn:
        explain = f"EXPLAIN (FORMAT JSON) {statement}"
        plan = conn.exec_driver_sql(explain, parameters).scalar_one()
    scanned = set(re.findall(r'"Relation Name": "(events_p\d+)"', json.dumps(plan)))
    assert 1 <= len(scanned) <= 2 and len(partition_names(engine)) > 2, scanned


def test_a_default_partition_is_named_late_until_it_is_gone(scratch_database_at):
    """Fluxa makes none; one made by hand would make every new partition scan it and
    forbid concurrent detaches, so the EventPartitions alarm names it."""
    engine = create_engine(scratch_database_at("head"))
    now = dt.datetime.now(dt.UTC)
    try:
        with engine.begin() as conn:
            assert lateness_now(conn, None, now) == []
            conn.execute(text("CREATE TABLE events_default PARTITION OF events DEFAULT"))
        with engine.connect() as conn:
            assert lateness_now(conn, None, now) == [
                "events_default is a DEFAULT partition: move its rows into day partitions"
                " and drop it"
            ]
    finally:
        engine.dispose()


def test_an_operator_makes_the_partitions_of_past_days(environ, engine):
    day = a_day_of_our_own(engine)
    while day_partition(day + dt.timedelta(days=1)).name in partition_names(engine):
        day = a_day_of_our_own(engine)
    after = day + dt.timedelta(days=1)
    made = json.loads(
        fluxa(environ, "events", "make-partitions", "--from", f"{day}", "--to", f"{after}")
    )
    assert made == [day_partition(day).name, day_partition(after).name]
    assert (
        json.loads(
            fluxa(environ, "events", "make-partitions", "--from", f"{day}", "--to", f"{after}")
        )
        == []
    )
