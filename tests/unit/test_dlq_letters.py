import base64
import datetime as dt
import json

import pytest

from fluxa.dlq.envelope import build_envelope, raw_dead_letter_attributes
from fluxa.dlq.letters import UNDECODABLE, from_sqs, with_replay_mark
from fluxa.dlq.runbook import action_for
from fluxa.errors import ErrorCode, MalformedMessageError
from fluxa.messages.taskmessage import decode_sqs_body
from fluxa.messages.tasks import DEAD_LETTER_HEADER


def body(headers):
    inner = json.dumps([[], {"user_id": "u1"}, {}])
    return json.dumps(
        {"body": inner, "headers": {"task": "t", "id": "i", **headers}, "properties": {}}
    )


def raw(text):
    return {
        "MessageId": "m",
        "ReceiptHandle": "r",
        "Body": text,
        "Attributes": {"ApproximateReceiveCount": "6"},
    }


def test_replay_mark_counts_up_and_keeps_the_encoding():
    plain = body({DEAD_LETTER_HEADER: {"error_code": "DBConnectionError", "replay_count": 1}})
    at = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    marked = decode_sqs_body(with_replay_mark(plain, "Fluxa-StatsQueue", replayed_at=at))
    assert marked.headers[DEAD_LETTER_HEADER]["replay_count"] == 2
    assert marked.headers[DEAD_LETTER_HEADER]["replayed_at"] == at.isoformat()
    assert marked.kwargs == {"user_id": "u1"}
    encoded = base64.b64encode(plain.encode()).decode()
    assert (
        json.loads(base64.b64decode(with_replay_mark(encoded, "Fluxa-StatsQueue")))["headers"][
            DEAD_LETTER_HEADER
        ]["replay_count"]
        == 2
    )


def test_a_replayed_message_is_routed_to_its_source_queue_not_the_dlq():
    dead = json.loads(body({DEAD_LETTER_HEADER: {"error_code": "DBConnectionError"}}))
    dead["properties"] = {"delivery_info": {"exchange": "", "routing_key": "Fluxa-DLQ"}}
    marked = json.loads(with_replay_mark(json.dumps(dead), "Fluxa-InputQueue"))
    # Celery retries to, and Fluxa dead-letters from, the queue the message names.
    assert marked["properties"]["delivery_info"] == {
        "exchange": "",
        "routing_key": "Fluxa-InputQueue",
    }


def test_a_redriven_message_has_no_envelope_and_is_max_receive_exceeded():
    letter = from_sqs(raw(body({})))
    assert letter.error_code == "MaxReceiveExceeded"
    assert letter.subject == "user u1"
    assert letter.receive_count == 6
    marked = decode_sqs_body(with_replay_mark(letter.body, "Fluxa-StatsQueue"))
    assert marked.headers[DEAD_LETTER_HEADER]["replay_count"] == 1


def test_undecodable_bodies():
    assert from_sqs(raw("garbage")).error_code == UNDECODABLE
    with pytest.raises(MalformedMessageError):
        with_replay_mark("garbage!", "Fluxa-InputQueue")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("HashMismatch", "never retry"),
        ("DBConnectionError", "Safe to retry"),
        ("SchemaValidation", "Fix the producer"),
        ("Bogus", "Unknown code"),
    ],
)
def test_runbook_actions(code, words):
    assert words in action_for(code)


def test_a_raw_dead_letter_takes_its_code_from_the_message_attributes():
    attributes = raw_dead_letter_attributes(
        error_code=ErrorCode.MALFORMED_MESSAGE,
        error_message="message body is nested deeper than 40 levels",
        source_queue="Fluxa-InputQueue",
        attempts=1,
    )
    letter = from_sqs({**raw("[" * 500 + "]" * 500), "MessageAttributes": attributes})
    assert letter.task is None
    assert letter.error_code == "MalformedMessage"
    assert letter.attributes["fluxa_source_queue"] == "Fluxa-InputQueue"
    assert (
        "replay" not in action_for(letter.error_code).lower()
        or "never" in action_for(letter.error_code).lower()
    )


def test_the_envelope_code_wins_over_attributes_and_bodies_without_either_are_undecodable():
    envelope = build_envelope(
        error_code=ErrorCode.DB_CONNECTION_ERROR,
        error_message="down",
        attempts=5,
        first_failed_at=None,
        now=dt.datetime.now(dt.UTC),
        correlation_id=None,
        source_queue="Fluxa-InputQueue",
    )
    enveloped = body({DEAD_LETTER_HEADER: envelope.to_dict()})
    attributes = {"fluxa_error_code": {"DataType": "String", "StringValue": "Unhandled"}}
    assert from_sqs({**raw(enveloped), "MessageAttributes": attributes}).error_code == (
        "DBConnectionError"
    )
    assert from_sqs(raw("garbage")).error_code == UNDECODABLE
