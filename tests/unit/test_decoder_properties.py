"""Property tests of the pure decoders (issue 13): whatever they are given — deep and wide
structures, huge numbers, lone surrogates, NaN, wrong types at every level — they answer
with a value or one of the project's own validation errors, never anything else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from fluxa.errors import HashMismatchError, MalformedMessageError, SchemaValidationError
from fluxa.events.checks import check_event
from fluxa.events.hashing import NotCanonicalizableError, canonical_of
from fluxa.events.schemas import EventSchema
from fluxa.messages.taskmessage import check_sqs_body, decode_sqs_body
from fluxa.messages.tasks import TaskName
from fluxa.trades import integrity
from fluxa.trades.schemas import TradeCreateSchema
from fluxa.trades.service import _field_values
from fluxa.trades.trade import Trade
from fluxa.validation import PAYLOAD_LIMITS, REQUEST_LIMITS, JsonLimitExceededError, loads_bounded
from tests.support.hostile_messages import envelope

MANY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Every code point, lone surrogates included (st.text() leaves those out by default).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**99, max_value=10**4000)
    | st.floats()  # NaN and infinities too
    | any_text
)
json_like = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=25,
)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    """A value nested between 1 and 3,000 levels, of lists or objects."""
    depth = draw(st.integers(1, 3000))
    value: Any = draw(scalars)
    for _ in range(depth):
        value = {"k": value} if draw(st.booleans()) else [value]
    return value


json_texts = st.one_of(
    any_text,
    json_like.map(lambda v: json.dumps(v, ensure_ascii=False)),
    json_like.map(json.dumps),
    st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 5000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(101, 6000).map(lambda n: "9" * n),
    st.just('"\\ud800"'),
)


@MANY
@given(json_texts)
def test_bounded_decoding_raises_only_its_own_errors(text: str):
    try:
        value = loads_bounded(text, REQUEST_LIMITS)
    except JsonLimitExceededError:
        return
    except ValueError as exc:  # JSONDecodeError: not JSON at all
        assert isinstance(exc, json.JSONDecodeError), exc
        return
    json.dumps(value)  # what passed is shallow enough for anything recursive


@MANY
@given(json_like | deep())
def test_the_rfc8785_form_encodes_or_refuses(value: Any):
    with contextlib.suppress(NotCanonicalizableError):
        assert isinstance(canonical_of(value), bytes)


event_fields = st.fixed_dictionaries(
    {},
    optional={
        "type": json_like | st.just("trade.executed"),
        "source": json_like | st.just("fuzz"),
        "occurred_at": json_like
        | st.just("2026-01-01T00:00:00Z")
        | st.just("0001-01-01T00:00:00+01:00"),
        "payload": json_like | deep() | st.just({"a": 1}),
        "event_id": json_like,
        "payload_sha256": json_like | st.just("a" * 64),
        "accepted_at": json_like | st.just("2026-01-01T00:00:00Z"),
        "payload_ref": json_like,
        "correlation_id": json_like,
    },
)


@MANY
@given(event_fields)
def test_event_schema_loads_or_raises_validation_errors(body: dict[str, Any]):
    with contextlib.suppress(ValidationError):
        EventSchema().load(body)


@MANY
@given(event_fields | json_like)
def test_processor_check_raises_only_its_codes(raw: Any):
    with contextlib.suppress(SchemaValidationError, HashMismatchError):
        check_event(raw)


amounts = (
    json_like
    | st.decimals(allow_nan=True).map(str)
    | st.sampled_from(
        ["1e999999", "1E-999999999", "1_000", " 5", "５", "0", "-1", "10", "0.00000000001"]
    )
)
trade_fields = st.fixed_dictionaries(
    {
        "symbol": st.just("AAPL") | json_like,
        "side": st.sampled_from(["long", "short"]) | json_like,
        "quantity": amounts,
        "entry_price": amounts,
        "entered_at": st.just("2026-01-01T00:00:00Z") | json_like,
    },
    optional={
        "fees": amounts,
        "exit_price": amounts,
        "exited_at": st.just("2026-01-02T00:00:00Z") | json_like,
        "partial_closes": st.lists(
            st.fixed_dictionaries({"quantity": amounts, "price": amounts, "closed_at": json_like}),
            max_size=3,
        )
        | json_like,
        "notes": json_like,
        "tags": json_like,
    },
)


@MANY
@given(trade_fields)
def test_trade_schema_and_integrity_raise_only_validation_errors(body: dict[str, Any]):
    try:
        data = TradeCreateSchema().load(body)
    except ValidationError:
        return
    trade = Trade(id="t", user_id="u", **_field_values(data))
    try:
        integrity.check(trade)
    except SchemaValidationError:
        return
    assert trade.status and trade.remaining_quantity >= 0


KNOWN = frozenset({TaskName.PROCESS_EVENTS})
message_texts = json_texts | st.builds(
    lambda args, kwargs: json.dumps(envelope(TaskName.PROCESS_EVENTS, args, kwargs)),
    json_like,
    json_like,
)


@MANY
@given(message_texts)
def test_worker_message_check_raises_only_malformed_message(text: str):
    try:
        checked = check_sqs_body(text, known_tasks=KNOWN)
    except MalformedMessageError:
        return
    assert checked["headers"]["task"] in KNOWN


@MANY
@given(message_texts)
def test_dlq_decoding_raises_only_undecodable(text: str):
    with contextlib.suppress(MalformedMessageError):
        decode_sqs_body(text)


def test_payload_limit_is_what_the_request_limit_leaves_room_for():
    assert REQUEST_LIMITS.max_depth == PAYLOAD_LIMITS.max_depth + 3
