"""Generated event ids are UUIDv7: time-ordered, and they say when they were made."""

from __future__ import annotations

import datetime as dt
import uuid

from fluxa.events.ids import new_event_id, time_of


def test_generated_ids_are_uuid7_in_the_order_they_were_made():
    ids = [new_event_id() for _ in range(2000)]  # many within one millisecond
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_an_id_tells_when_it_was_made_even_after_a_burst():
    for _ in range(50_000):  # a burst within a few milliseconds must not run the clock ahead
        new_event_id()
    before = dt.datetime.now(dt.UTC)
    made = time_of(new_event_id())
    after = dt.datetime.now(dt.UTC)
    assert made is not None
    assert before - dt.timedelta(milliseconds=1) <= made <= after  # to the millisecond


def test_other_ids_carry_no_time():
    for other in (str(uuid.uuid4()), "order-123", "", "0" * 36):
        assert time_of(other) is None
