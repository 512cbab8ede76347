import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kombu.utils.json import dumps as kombu_dumps

from fluxa.errors import BrokerUnavailableError, ErrorCode, HashMismatchError, PartlyEnqueuedError
from fluxa.events.batch import without_unsent
from fluxa.events.hashing import legacy_payload_sha256, payload_sha256
from fluxa.events.ingest import (
    EventIngestor,
    IngestLimits,
    as_claim_checked,
    message_size,
    needs_claim_check,
    prepare_event,
    split_messages,
)

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def valid_event(**overrides):
    event = {
        "type": "fill",
        "source": "broker",
        "occurred_at": NOW,
        "payload": {"qty": 1},
    }
    event.update(overrides)
    return event


def prepare(event, declared=None):
    return prepare_event(event, declared_sha256=declared, correlation_id="c", accepted_at=NOW)


def test_a_declared_pre_rfc_8785_hash_is_accepted_in_transition_or_named_when_refused():
    event = valid_event(payload={"price": 1.0})
    legacy = legacy_payload_sha256(event["payload"])
    accepted = prepare(event, declared=legacy)
    assert accepted.declared_legacy_hash
    assert accepted.payload_sha256 == payload_sha256(event["payload"]) != legacy
    assert not prepare(event, declared=payload_sha256(event["payload"])).declared_legacy_hash
    with pytest.raises(HashMismatchError) as refused:
        prepare_event(event, declared_sha256=legacy, correlation_id="c", accepted_at=NOW,
                      accept_legacy_hash=False)  # fmt: skip
    assert "before RFC 8785" in refused.value.details["payload_sha256"][0]
    with pytest.raises(HashMismatchError) as wrong:
        prepare(event, declared="0" * 64)
    assert "before RFC 8785" not in wrong.value.details["payload_sha256"][0]


def test_prepare_assigns_an_id_and_hash():
    prepared = prepare(valid_event())
    assert prepared.payload_sha256 == payload_sha256({"qty": 1})
    assert prepared.message["event_id"]
    assert prepared.message["correlation_id"] == "c"
    assert prepared.message["accepted_at"] == NOW.isoformat()


def test_client_event_id_is_kept():
    assert prepare(valid_event(event_id="mine-1")).event_id == "mine-1"


@pytest.mark.parametrize("where", ["header", "body"])
def test_declared_hash_must_match(where):
    event = valid_event(payload_sha256="0" * 64) if where == "body" else valid_event()
    with pytest.raises(HashMismatchError) as error:
        prepare(event, declared="0" * 64 if where == "header" else None)
    assert "payload_sha256" in error.value.details


def test_split_keeps_order_and_respects_the_budget():
    events = [
        prepare(valid_event(payload={"n": f"{i:03d}", "pad": "x" * 100})).message for i in range(50)
    ]
    budget = message_size(events[0]) * 7
    groups = split_messages(events, budget)
    assert [e for group in groups for e in group] == events
    assert all(sum(message_size(e) for e in group) <= budget for group in groups)
    assert len(groups) == 8


def test_one_event_larger_than_the_budget_still_travels_alone():
    big = prepare(valid_event(payload={"pad": "x" * 1000})).message
    assert split_messages([big], 10) == [[big]]


def test_large_payloads_are_claim_checked():
    limits = IngestLimits(claim_check_bytes=100, max_message_bytes=64 * 1024)
    small = prepare(valid_event())
    large = prepare(valid_event(payload={"pad": "x" * 200}))
    assert not needs_claim_check(small, limits)
    assert needs_claim_check(large, limits)
    checked = as_claim_checked(large)
    assert checked.message["payload"] is None
    assert checked.message["payload_ref"]["size"] == len(large.canonical_payload)
    assert large.payload_sha256 in checked.message["payload_ref"]["key"]


def test_an_event_that_cannot_fit_a_message_is_claim_checked_even_below_the_threshold():
    limits = IngestLimits(claim_check_bytes=10**9, max_message_bytes=8 * 1024 + 50)
    assert needs_claim_check(prepare(valid_event(payload={"pad": "x" * 500})), limits)


json_values = st.recursive(  # what RFC 8785 writes: integers within ±(2^53 − 1)
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


def sqs_body_bytes(messages):
    """What the SQS transport sends for a task carrying `messages`: Celery's JSON body
    inside kombu's JSON envelope, both written by kombu's own `dumps`."""
    body = kombu_dumps([[], {"events": messages}, {"callbacks": None}])
    return len(kombu_dumps({"body": body, "headers": {}}).encode())


@settings(max_examples=300)
@given(st.lists(json_values, min_size=1, max_size=4))
def test_message_size_is_what_each_event_adds_to_the_sqs_body(payloads):
    # Summed sizes decide how many events share a message; an undercount (emoji were
    # counted as 12 bytes, not 14) made messages SQS refuses.
    events = [prepare(valid_event(payload={"v": payload})).message for payload in payloads]
    empty = sqs_body_bytes([events[0]]) - message_size(events[0])
    assert sqs_body_bytes(events) == empty + sum(message_size(e) for e in events)


class RefusingPublisher:
    """Accepts `accept` messages, then refuses every send as the broker would."""

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.sent: list[dict] = []

    def publish(self, task_name, kwargs, *, queue, headers, countdown=None):
        if len(self.sent) >= self.accept:
            raise BrokerUnavailableError("SQS refused the message")
        self.sent.append(kwargs)
        return f"task-{len(self.sent)}"


def ingestor(publisher):
    limits = IngestLimits(claim_check_bytes=10**6, max_message_bytes=8 * 1024 + 600)
    return EventIngestor(publisher, store=None, queue="q", limits=limits)


def test_a_send_that_fails_after_another_names_the_events_that_went():
    events = [prepare(valid_event(payload={"n": n, "pad": "x" * 200})) for n in range(6)]
    publisher = RefusingPublisher(accept=1)
    with pytest.raises(PartlyEnqueuedError) as raised:
        ingestor(publisher).enqueue(events, "cid")
    sent = {e["event_id"] for e in publisher.sent[0]["events"]}
    assert raised.value.sent_event_ids == sent and 0 < len(sent) < len(events)
    assert raised.value.cause.code == ErrorCode.BROKER_UNAVAILABLE


def test_a_first_send_that_fails_is_the_plain_error_nothing_went():
    events = [prepare(valid_event(payload={"n": n, "pad": "x" * 200})) for n in range(6)]
    with pytest.raises(BrokerUnavailableError):
        ingestor(RefusingPublisher(accept=0)).enqueue(events, "cid")


def test_unsent_items_of_a_batch_are_rejected_with_the_cause_and_the_rest_kept():
    results = [
        {"index": 0, "status": "accepted", "event_id": "a", "payload_sha256": "0" * 64},
        {"index": 1, "status": "rejected", "code": "SchemaValidation", "errors": {"x": ["y"]}},
        {"index": 2, "status": "accepted", "event_id": "b", "payload_sha256": "1" * 64},
    ]
    after = without_unsent(results, {"a"}, BrokerUnavailableError("SQS refused"))
    assert after[:2] == results[:2]
    assert after[2]["status"] == "rejected" and after[2]["code"] == "BrokerUnavailable"
    assert "send this event again" in after[2]["errors"]["_schema"][0]
