"""Reading Celery task messages as kombu stores them in SQS (for DLQ tools and tests)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from fluxa.deadletter import DeadLetterEnvelope
from fluxa.messaging import CORRELATION_HEADER, DEAD_LETTER_HEADER


class UndecodableMessage(ValueError):
    """The SQS body is not a Celery task message."""


@dataclass(frozen=True)
class TaskMessage:
    """The parts of a Celery (protocol 2) task message that Fluxa cares about."""

    task: str
    task_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    headers: dict[str, Any]

    @property
    def correlation_id(self) -> str | None:
        return self.headers.get(CORRELATION_HEADER)

    @property
    def envelope(self) -> DeadLetterEnvelope | None:
        raw = self.headers.get(DEAD_LETTER_HEADER)
        return DeadLetterEnvelope.from_dict(raw) if isinstance(raw, dict) else None


def _json_or_base64_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        try:
            return json.loads(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise UndecodableMessage("body is neither JSON nor base64 JSON") from exc


def decode_sqs_body(body: str) -> TaskMessage:
    """Decode an SQS message body written by kombu's SQS transport (plain or base64)."""
    envelope = _json_or_base64_json(body)
    if not isinstance(envelope, dict) or "headers" not in envelope or "body" not in envelope:
        raise UndecodableMessage("not a kombu message envelope")
    headers = envelope["headers"] or {}
    inner = envelope["body"]
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        inner = base64.b64decode(inner)
    payload = json.loads(inner) if isinstance(inner, str | bytes) else inner
    if not isinstance(payload, list) or len(payload) < 2 or "task" not in headers:
        raise UndecodableMessage("not a Celery protocol 2 task message")
    args, kwargs = payload[0], payload[1]
    custom = {k: v for k, v in headers.items() if k.startswith("fluxa_")}
    return TaskMessage(
        task=headers["task"],
        task_id=headers.get("id", ""),
        args=list(args),
        kwargs=dict(kwargs),
        headers=custom,
    )
