"""`GET /v1/events`: filters and keyset pagination over a few thousand rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event

from fluxa.events.partition_repository import make_partitions
from fluxa.events.repository import insert_events
from fluxa.infra.db import transaction
from tests.support.builders import unique_source

pytestmark = pytest.mark.integration

ROWS = 3000


@pytest.fixture(scope="module")
def seeded(engine):
    """ROWS events of one source, two types, one minute apart (inserted directly)."""
    source = unique_source()
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    rows = [
        {
            "event_id": f"{source}-{i:05d}",
            "type": "fill" if i % 3 else "order",
            "source": source,
            "occurred_at": start + dt.timedelta(minutes=i // 2),  # pairs share a timestamp
            "accepted_at": start,
            "status": "processed",
            "payload_sha256": "0" * 64,
            "payload_size": 2,
            "archive_key": "archive/none",
            "archive_offset": 0,
            "correlation_id": None,
        }
        for i in range(ROWS)
    ]
    with transaction(engine) as conn:
        make_partitions(conn, [start.date()])  # a day long past: beat made none for it
        insert_events(conn, rows)
        conn.exec_driver_sql("ANALYZE events")
    return source, rows


def page_through(client, query: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        url = f"/v1/events?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        ids += [item["event_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def newest_first(rows):
    return [
        r["event_id"]
        for r in sorted(rows, key=lambda r: (r["occurred_at"], r["event_id"]), reverse=True)
    ]


def test_paging_visits_every_event_once_newest_first(client, seeded):
    source, rows = seeded
    assert page_through(client, f"source={source}&limit=250") == newest_first(rows)


def test_filters_by_type_and_time_window(client, seeded):
    source, rows = seeded
    since, until = "2025-01-01T02:00:00Z", "2025-01-01T05:00:00Z"
    lo = dt.datetime(2025, 1, 1, 2, tzinfo=dt.UTC)
    hi = dt.datetime(2025, 1, 1, 5, tzinfo=dt.UTC)
    expected = newest_first(
        [r for r in rows if r["type"] == "order" and lo <= r["occurred_at"] < hi]
    )
    got = page_through(client, f"source={source}&type=order&since={since}&until={until}&limit=7")
    assert got == expected and expected


def test_a_deep_page_uses_the_index_not_an_offset(engine, app, client, seeded):
    """EXPLAIN of the very statement the API ran for a deep page (captured on its engine)."""
    source, _ = seeded
    first = client.get(f"/v1/events?source={source}&limit=50").get_json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    ran: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM events" in statement and "ORDER BY" in statement:
            ran.append((statement, parameters))

    api_engine = app.extensions["fluxa"].engine
    event.listen(api_engine, "before_cursor_execute", capture)
    try:
        deep = client.get(f"/v1/events?source={source}&limit=50&cursor={first['next_cursor']}")
    finally:
        event.remove(api_engine, "before_cursor_execute", capture)
    assert deep.status_code == 200 and len(deep.get_json()["items"]) == 50
    [(statement, parameters)] = ran
    with engine.connect() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
    assert "Index Cond" in plan, plan
    # Partitions are merged in order (Merge Append's "Sort Key"), never sorted.
    nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    assert not [node for node in nodes if re.match(r"(Incremental )?Sort\s+\(", node)], plan


def test_event_whose_archive_is_missing_answers_metadata_and_a_problem(client, seeded):
    """The rows above point at `archive/none`, an object that does not exist."""
    _source, rows = seeded
    event_id = rows[0]["event_id"]
    response = client.get(f"/v1/events/{event_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["event_id"] == event_id and body["payload"] is None
    assert body["payload_problem"]["code"] == "PayloadMissing"
    assert "archive/" not in response.get_data(as_text=True)
