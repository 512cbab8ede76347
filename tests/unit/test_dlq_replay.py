"""`fluxa.dlq.operations.replay` against a DLQ whose answers are scripted as AWS may give
them: the same message delivered twice, a delete that missed a copy."""

from __future__ import annotations

import datetime as dt
import json

from fluxa.dlq.envelope import build_envelope, part_task_id
from fluxa.dlq.operations import replay
from fluxa.errors import ErrorCode
from fluxa.messages.tasks import DEAD_LETTER_HEADER


def letter_body(code: str, task_id: str = "i", user: str = "u1", attempts: int = 1) -> str:
    inner = json.dumps([[], {"user_id": user}, {}])
    envelope = build_envelope(
        error_code=ErrorCode(code), error_message="m", attempts=attempts, first_failed_at=None,
        now=dt.datetime(2026, 12, 4, tzinfo=dt.UTC), correlation_id=None, source_queue="q",
    )  # fmt: skip
    headers = {"task": "t", "id": task_id, DEAD_LETTER_HEADER: envelope.to_dict()}
    return json.dumps({"body": inner, "headers": headers, "properties": {}})


class ScriptedDlq:
    """Receives answer `batches` in turn (then nothing); sends and deletes are recorded."""

    def __init__(self, batches):
        self.batches = list(batches)
        self.sent, self.deleted, self.shown = [], [], []

    def receive_message(self, **_):
        return {"Messages": self.batches.pop(0)} if self.batches else {}

    def get_queue_attributes(self, **_):
        counts = {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
        return {"Attributes": counts}

    def send_message(self, QueueUrl, MessageBody):  # noqa: N803 - boto3's names
        self.sent.append(QueueUrl)

    def delete_message(self, QueueUrl, ReceiptHandle):  # noqa: N803
        self.deleted.append(ReceiptHandle)

    def change_message_visibility(self, QueueUrl, ReceiptHandle, VisibilityTimeout):  # noqa: N803
        self.shown.append(ReceiptHandle)


def received(message_id: str, handle: str, code: str, **task: object) -> dict:
    return {"MessageId": message_id, "ReceiptHandle": handle, "Body": letter_body(code, **task)}


def test_a_letter_delivered_again_after_its_move_is_deleted_not_sent_twice():
    dlq = ScriptedDlq([
        [received("a", "h1", "DBConnectionError"), received("p", "h2", "HashMismatch")],
        [received("a", "h3", "DBConnectionError"), received("p", "h4", "HashMismatch")],
    ])  # fmt: skip
    report = replay(dlq, "dlq-url", lambda letter: "http://sqs/000/Fluxa-StatsQueue")
    assert dlq.sent == ["http://sqs/000/Fluxa-StatsQueue"]
    assert dlq.deleted == ["h1", "h3"]  # the copy SQS kept is deleted too
    assert dict(report.moved) == {"DBConnectionError": 1}
    assert dict(report.left) == {"HashMismatch": 1}
    assert dlq.shown == ["h4"]  # the poison made visible again, by its newest handle
    assert report.read.drained


def test_a_letter_whose_envelope_is_forged_is_read_not_a_crash():
    forged = json.dumps({"body": "[[], {}, {}]", "headers": {"task": "t", "id": "i",
                         DEAD_LETTER_HEADER: {"error_code": "DBConnectionError"}}})  # fmt: skip
    dlq = ScriptedDlq([[{"MessageId": "f", "ReceiptHandle": "h", "Body": forged}]])
    report = replay(dlq, "dlq-url", lambda letter: "http://sqs/000/Fluxa-InputQueue")
    assert report.examined == 1


def test_two_copies_of_one_task_are_sent_back_once_and_max_counts_tasks():
    dlq = ScriptedDlq([[
        received("a1", "h1", "DBConnectionError", task_id="A"),
        received("a2", "h2", "DBConnectionError", task_id="A", attempts=2),  # dead-lettered twice
        received("b", "h3", "DBConnectionError", task_id="B", user="u2"),
        received("c", "h4", "DBConnectionError", task_id="C", user="u3"),
    ]])  # fmt: skip
    report = replay(dlq, "dlq-url", lambda letter: "http://sqs/000/Q", max_messages=2)
    assert len(dlq.sent) == 2 and dict(report.moved) == {"DBConnectionError": 2}
    assert report.copies == 1
    assert dlq.deleted == ["h1", "h2", "h3"]
    assert dlq.shown == ["h4"] and dict(report.left) == {"DBConnectionError": 1}


def test_a_dry_run_counts_copies_and_leaves_them():
    dlq = ScriptedDlq([[
        received("a1", "h1", "DBConnectionError", task_id="A"),
        received("a2", "h2", "DBConnectionError", task_id="A"),
        received("p", "h3", "HashMismatch", task_id="A"),  # same task, another failure: kept
    ]])  # fmt: skip
    report = replay(dlq, "dlq-url", lambda letter: "http://sqs/000/Q", dry_run=True)
    assert dlq.sent == [] and dlq.deleted == []
    assert report.copies == 1 and dict(report.moved) == {"DBConnectionError": 1}
    assert dict(report.left) == {"HashMismatch": 1}
    assert sorted(dlq.shown) == ["h1", "h2", "h3"]


def test_a_part_of_a_message_dead_lettered_twice_is_one_task():
    event = {"events": [{"event_id": "evt-1", "payload": {"a": 1}}]}
    first = part_task_id("task-1", event)
    assert first == part_task_id("task-1", {"events": [{"payload": {"a": 1}, "event_id": "evt-1"}]})
    assert first != part_task_id("task-2", event)
    assert first != part_task_id("task-1", {"events": [{"event_id": "evt-2", "payload": {}}]})
