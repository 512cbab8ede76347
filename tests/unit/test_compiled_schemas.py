"""The compiled loaders against marshmallow's own `load`: for every input hypothesis finds,
both accept with equal results or both refuse with equal messages (field by field), the
structural limits of the hostile-input work included."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from fluxa.events.schemas import EventMessageSchema, EventSchema, PayloadRefSchema
from fluxa.validation.compiled import CompiledSchema

SCHEMAS = [EventSchema(), EventMessageSchema()]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**120), 10**120),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
names = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,10}", fullmatch=True),
    st.sampled_from(["batch", "a\n", "", " x", "a" * 128, "a" * 129, "\x00a", "a\ud800", "é"]),
    st.text(max_size=12),
)
moments = st.one_of(
    st.sampled_from([
        "2026-11-01T12:00:00Z", "2026-11-01T12:00:00+02:00", "2026-11-01T12:00:00",
        "1969-12-31T23:59:59Z", "9000-01-01T00:00:00Z", "8999-12-31T23:59:59.999999Z",
        "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30T00:00:00Z",
        "2026-11-01", "2026-11-01T12:00Z", "2026-11-01 12:00:00Z", "", "now",
        "2026-11-01T12:00:00.123+0530",
    ]),
    st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=25),
)  # fmt: skip


def deep(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


payloads = st.one_of(
    st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    st.sampled_from([deep(32), deep(33), {"n": 10**99}, {"n": 10**100}, {"s": "\ud800"},
                     {"f": math.nan}, {"f": math.inf}, {"x": [1] * 10_001}, {}]),
    json_values,
)  # fmt: skip
payload_refs = st.one_of(
    st.fixed_dictionaries({"key": names, "size": st.integers(-2, 10**6)}),
    st.dictionaries(st.sampled_from(["key", "size", "other"]), json_values, max_size=3),
    json_values,
)
sha256s = st.one_of(st.from_regex(r"[0-9a-fA-F]{64}", fullmatch=True), st.text(max_size=66))
FIELD_VALUES = {
    "event_id": names, "type": names, "source": names, "occurred_at": moments,
    "accepted_at": moments, "payload": payloads, "payload_sha256": sha256s,
    "payload_ref": payload_refs, "correlation_id": st.one_of(names, st.text(max_size=210)),
}  # fmt: skip
VALID = {
    "event_id": "e-1", "type": "trade.executed", "source": "broker-a",
    "occurred_at": "2026-11-01T12:00:00Z", "accepted_at": "2026-11-01T12:00:01Z",
    "payload": {"qty": 3}, "payload_sha256": "a" * 64, "correlation_id": "c-1",
}  # fmt: skip


@st.composite
def events(draw) -> dict:
    """A valid event message, then some fields dropped, changed, nulled, or added."""
    event = dict(VALID)
    for name in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=4, unique=True)):
        action = draw(st.sampled_from(["drop", "change", "change", "null", "any"]))
        if action == "drop":
            event.pop(name, None)
        elif action == "null":
            event[name] = None
        elif action == "any":
            event[name] = draw(json_values)
        else:
            event[name] = draw(FIELD_VALUES[name])
    if draw(st.booleans()) and draw(st.booleans()):
        event[draw(st.text(max_size=8))] = draw(json_values)
    return event


def outcome(load, data):
    try:
        return ("ok", load(data))
    except ValidationError as exc:
        return ("refused", exc.messages)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: type(s).__name__)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(events(), json_values))
def test_the_compiled_loader_decides_exactly_as_marshmallow(schema, data):
    marshmallows = outcome(lambda d: Schema.load(schema, d), data)
    assert outcome(CompiledSchema(schema).load, data) == marshmallows
    assert outcome(schema.load, data) == marshmallows  # the schema's own load is compiled


@pytest.mark.parametrize("side", ["ok", "refused"])
def test_the_sweep_reaches_both_sides(side):
    """Guard on the property above: its inputs include valid and invalid events."""
    loader = CompiledSchema(EventMessageSchema())
    found = find(events(), lambda event: outcome(loader.load, event)[0] == side)
    assert outcome(lambda d: Schema.load(EventMessageSchema(), d), found)[0] == side


def test_schemas_with_hooks_it_cannot_run_alike_are_refused():
    from marshmallow import fields, post_load

    class WithPostLoad(Schema):
        x = fields.Integer()

        @post_load
        def wrap(self, data, **_):
            return data

    with pytest.raises(ValueError, match="not compilable"):
        CompiledSchema(WithPostLoad())
    assert CompiledSchema(PayloadRefSchema()).load({"key": "k", "size": 1}) == {
        "key": "k",
        "size": 1,
    }
