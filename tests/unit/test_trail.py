import datetime as dt

from fluxa.events.trail import Delivery, implied_rows, replay_rows

AT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
EVENT = {"event_id": "e1", "correlation_id": "c1", "accepted_at": AT.isoformat()}


def test_a_first_delivery_costs_no_trail_rows():
    delivery = Delivery(task_id="t1", correlation_id="c1", enqueued_at=AT, dead_letter=None)
    assert replay_rows([EVENT], delivery) == []


def test_a_replayed_delivery_records_when_it_was_dead_lettered_and_replayed():
    envelope = {
        "error_code": "DBConnectionError",
        "last_failed_at": AT.isoformat(),
        "attempts": 5,
        "replay_count": 1,
        "replayed_at": (AT + dt.timedelta(minutes=3)).isoformat(),
    }
    delivery = Delivery(task_id="t2", correlation_id="c1", enqueued_at=AT, dead_letter=envelope)
    rows = replay_rows([EVENT], delivery)
    assert [(r["stage"], r["at"]) for r in rows] == [
        ("dead_lettered", envelope["last_failed_at"]),
        ("replayed", envelope["replayed_at"]),
    ]
    assert rows[0]["error_code"] == "DBConnectionError"


def test_an_events_row_implies_accepted_enqueued_and_persisted():
    row = {
        "event_id": "e1",
        "correlation_id": "c1",
        "accepted_at": AT,
        "enqueued_at": None,  # a row from before events carried it
        "processed_at": AT + dt.timedelta(seconds=1),
        "task_id": "t1",
    }
    assert [r["stage"] for r in implied_rows(row)] == ["accepted", "persisted"]
    assert {r["task_id"] for r in implied_rows(row | {"enqueued_at": AT})} == {"t1"}
    assert len(implied_rows(row | {"enqueued_at": AT})) == 3
