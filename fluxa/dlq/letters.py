"""Dead letters as read from SQS: the Celery task message, its envelope, its code."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from fluxa.dlq.envelope import ATTRIBUTE_ERROR_CODE, DeadLetterEnvelope
from fluxa.errors import ErrorCode, MalformedMessageError
from fluxa.messages.taskmessage import TaskMessage, decode_sqs_body
from fluxa.messages.tasks import DEAD_LETTER_HEADER

UNDECODABLE = "Undecodable"


@dataclass(frozen=True)
class DeadLetter:
    """One message of a DLQ. `task` is None when the body is not a Celery message."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    task: TaskMessage | None
    attributes: dict[str, str] = field(default_factory=dict)  # SQS message attributes

    @property
    def envelope(self) -> DeadLetterEnvelope | None:
        return self.task.envelope if self.task else None

    @property
    def error_code(self) -> str:
        """The envelope's code, else the message attributes' (a body a worker refused
        unread, e.g. `MalformedMessage`); a Celery message with neither was moved by SQS
        redrive (a crash loop); a body with neither is `Undecodable`."""
        if self.envelope:
            return self.envelope.error_code
        if ATTRIBUTE_ERROR_CODE in self.attributes:
            return self.attributes[ATTRIBUTE_ERROR_CODE]
        return ErrorCode.MAX_RECEIVE_EXCEEDED.value if self.task else UNDECODABLE

    @property
    def subject(self) -> str | None:
        """The event ids or user the message is about."""
        if self.task is None:
            return None
        if "user_id" in self.task.kwargs:
            return f"user {self.task.kwargs['user_id']}"
        users = self.task.kwargs.get("user_ids")
        if isinstance(users, list) and users:
            return f"users {users[0]} … ({len(users)})"
        events = self.task.kwargs.get("events")
        if isinstance(events, list):
            ids = [e.get("event_id") for e in events if isinstance(e, dict)]
            return "events " + ", ".join(str(i) for i in ids[:5]) + (" …" if len(ids) > 5 else "")
        return None


def from_sqs(raw: dict[str, Any]) -> DeadLetter:
    """Wrap a ReceiveMessage result."""
    try:
        task = decode_sqs_body(raw["Body"])
    except MalformedMessageError:
        task = None
    return DeadLetter(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw["Body"],
        receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
        task=task,
        attributes={
            name: value.get("StringValue", "")
            for name, value in raw.get("MessageAttributes", {}).items()
        },
    )


def with_replay_mark(body: str, queue: str, replayed_at: dt.datetime | None = None) -> str:
    """The same SQS body, bound for `queue`, with the envelope's `replay_count` raised by
    one and `replayed_at` (now, by default) set.

    The message's own routing key is set to `queue`: it said the DLQ, and Celery sends
    a retry (and Fluxa a dead letter) to where the message says it came from, so a
    replayed message that fails again would otherwise retry inside the DLQ.
    The body keeps its encoding (plain JSON, or base64 JSON as kombu's default writes);
    a message without an envelope (redriven by SQS) gets a minimal one.
    """
    encoded = False
    try:
        envelope = json.loads(body)
    except json.JSONDecodeError:
        try:
            envelope = json.loads(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise MalformedMessageError("cannot mark an undecodable body") from exc
        encoded = True
    headers = envelope.setdefault("headers", {})
    redriven = {"error_code": ErrorCode.MAX_RECEIVE_EXCEEDED.value}
    mark = dict(headers.get(DEAD_LETTER_HEADER) or redriven)
    mark["replay_count"] = int(mark.get("replay_count", 0)) + 1
    mark["replayed_at"] = (replayed_at or dt.datetime.now(dt.UTC)).isoformat()
    headers[DEAD_LETTER_HEADER] = mark
    delivery = envelope.setdefault("properties", {}).setdefault("delivery_info", {})
    delivery.update(exchange="", routing_key=queue)
    text = json.dumps(envelope)
    return base64.b64encode(text.encode()).decode() if encoded else text
