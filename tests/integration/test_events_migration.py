"""Migration 0009 on a populated database: the unpartitioned `events` becomes the history
partition of the partitioned one while a writer keeps inserting, without being rewritten;
retention then trims the history by processing time, a batch at a time."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import Engine, func, select, text

from fluxa.events import repository
from fluxa.events.models import events
from fluxa.events.partition_repository import list_partitions
from fluxa.events.partitions import HISTORY
from fluxa.events.retention import maintain
from fluxa.infra.db import make_engine
from fluxa.migrations import upgrade
from launcher.waiting import wait_until

pytestmark = pytest.mark.integration

ROWS = 30_000
DAYS = 60  # the old rows arrived over the last DAYS days


@pytest.fixture
def scratch_database(scratch_database_at) -> str:
    """A database of its own at revision 0008 (before partitions)."""
    return scratch_database_at("0008")


def fill(engine: Engine, now: dt.datetime) -> None:
    """ROWS events, one every DAYS/ROWS days back from now, processed a second later."""
    step = dt.timedelta(days=DAYS) / ROWS
    rows = []
    for i in range(ROWS):
        accepted = now - step * (i + 1)
        rows.append(row(f"old-{i:06d}", accepted, processed_at=accepted + dt.timedelta(seconds=1)))
    with engine.begin() as conn:
        conn.execute(events.insert(), rows)


def row(event_id: str, accepted: dt.datetime, **extra: object) -> dict[str, object]:
    return {
        "event_id": event_id, "type": "fill", "source": "migration", "occurred_at": accepted,
        "accepted_at": accepted, "payload_sha256": "0" * 64, "payload_size": 2,
        "archive_key": "archive/none", "archive_offset": 0, **extra,
    }  # fmt: skip


class Writer(threading.Thread):
    """Inserts one event after another, as a processor would, until stopped."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine, self.stop, self.written, self.errors = engine, threading.Event(), [], []

    def run(self) -> None:
        while not self.stop.is_set():
            event_id = f"new-{uuid.uuid4().hex}"
            try:
                with self.engine.begin() as conn:
                    conn.execute(events.insert(), [row(event_id, dt.datetime.now(dt.UTC))])
                self.written.append(event_id)
            except Exception as exc:  # every failure is the finding
                self.errors.append(repr(exc))


def relfilenode(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        query = text("SELECT relfilenode FROM pg_class WHERE relname = :t")
        return conn.execute(query, {"t": table}).scalar_one()


def test_a_populated_table_moves_into_partitions_online(scratch_database):
    engine = make_engine(scratch_database)
    now = dt.datetime.now(dt.UTC)
    try:
        fill(engine, now)
        storage = relfilenode(engine, "events")
        writer = Writer(engine)
        writer.start()
        wait_until(lambda: len(writer.written) >= 20, timeout=30, what="the writer")
        upgrade(scratch_database)
        written = len(writer.written)
        wait_until(lambda: len(writer.written) >= written + 20, timeout=30, what="more writes")
        writer.stop.set()
        writer.join()

        assert writer.errors == []
        with engine.connect() as conn:
            kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'events'"))
            assert kind.scalar_one() == "p"
            partitions = list_partitions(conn)
            total = conn.execute(select(func.count()).select_from(events)).scalar_one()
            assert repository.get_event(conn, "old-000123") is not None
        assert partitions[0].name == HISTORY and partitions[0].lower is None
        assert len(partitions) > 1  # days after the history's end, made ahead
        assert relfilenode(engine, HISTORY) == storage  # attached, not rewritten
        assert total == ROWS + len(writer.written)

        report = maintain(engine, 30, now=dt.datetime.now(dt.UTC))
        older = sum(1 for i in range(ROWS) if (DAYS / ROWS) * (i + 1) > 30 + 1e-3)
        assert abs(report.history_rows_deleted - older) <= 2  # the seconds the test took
        with engine.connect() as conn:
            left = conn.execute(select(func.count()).select_from(events)).scalar_one()
            assert HISTORY in {p.name for p in list_partitions(conn)}  # still spans today
        assert left == total - report.history_rows_deleted
    finally:
        engine.dispose()
