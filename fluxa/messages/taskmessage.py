"""Reading Celery task messages as kombu stores them in SQS: one bounded reader, for the
worker's admission check, the DLQ tools and the tests alike."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from fluxa.dlq.envelope import DeadLetterEnvelope
from fluxa.errors import MalformedMessageError
from fluxa.messages.tasks import CORRELATION_HEADER, DEAD_LETTER_HEADER
from fluxa.validation import MESSAGE_LIMITS, JsonLimitExceededError, loads_bounded


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
        if not isinstance(raw, dict):
            return None
        try:
            return DeadLetterEnvelope.from_dict(raw)
        except (TypeError, ValueError):  # anyone who may send to a DLQ can write a header
            return None


def read_sqs_body(body: str | bytes) -> tuple[dict[str, Any], TaskMessage]:
    """Decode an SQS body written by kombu's SQS transport (plain or base64 JSON), bounded
    by `MESSAGE_LIMITS` before anything recursive touches it.

    Returns kombu's envelope and the task message. Raises `MalformedMessageError` unless
    the body is a Celery protocol 2 message: an envelope with object headers naming the
    task, and a `[args, kwargs, embed]` body of the right types.
    """
    envelope = _json_or_base64_json(body, "message body")
    if not isinstance(envelope, dict) or "body" not in envelope:
        raise MalformedMessageError("not a kombu message envelope")
    headers, properties = envelope.get("headers"), envelope.get("properties") or {}
    if not isinstance(headers, dict) or not isinstance(properties, dict):
        raise MalformedMessageError("headers or properties are not objects")
    if not isinstance(headers.get("task"), str):
        raise MalformedMessageError("no task named in the headers")
    args, kwargs = _task_arguments(envelope["body"], properties)
    custom = {k: v for k, v in headers.items() if k.startswith("fluxa_")}
    message = TaskMessage(
        task=headers["task"], task_id=str(headers.get("id", "")), args=args, kwargs=kwargs,
        headers=custom,
    )  # fmt: skip
    return envelope, message


def decode_sqs_body(body: str | bytes) -> TaskMessage:
    """The task message of an SQS body (the DLQ tools, the tests); see `read_sqs_body`."""
    return read_sqs_body(body)[1]


def check_sqs_body(body: str, *, known_tasks: Container[str]) -> dict[str, Any]:
    """What a worker admits: `read_sqs_body`, for one of `known_tasks`. Returns kombu's
    envelope; raises `MalformedMessageError`."""
    envelope, message = read_sqs_body(body)
    if message.task not in known_tasks:
        raise MalformedMessageError(f"unknown task {message.task[:100]!r}")
    return envelope


def _json_or_base64_json(text: str | bytes, what: str) -> Any:
    try:
        return loads_bounded(text, MESSAGE_LIMITS)
    except JsonLimitExceededError as exc:
        raise MalformedMessageError(f"{what} is {exc.message}") from exc
    except ValueError as exc:
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise MalformedMessageError(f"{what} is not JSON: {exc}") from exc
        try:
            return loads_bounded(decoded, MESSAGE_LIMITS)
        except JsonLimitExceededError as limit:
            raise MalformedMessageError(f"{what} is {limit.message}") from limit
        except ValueError as again:
            raise MalformedMessageError(f"{what} is neither JSON nor base64 JSON") from again


def _task_arguments(inner: Any, properties: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    if properties.get("body_encoding") == "base64":
        try:
            inner = base64.b64decode(inner, validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise MalformedMessageError("task body is not base64") from exc
    if isinstance(inner, str | bytes):
        inner = _json_or_base64_json(inner, "task body")
    if not (
        isinstance(inner, list)
        and len(inner) == 3
        and isinstance(inner[0], list)
        and isinstance(inner[1], dict)
        and isinstance(inner[2], dict | None)
    ):
        raise MalformedMessageError("task body is not [args, kwargs, embed]")
    return inner[0], inner[1]
