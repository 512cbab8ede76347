"""Reading Celery task messages as kombu stores them in SQS: bounded checks for workers,
decoding for the DLQ tools and tests."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from fluxa.dlq.envelope import DeadLetterEnvelope
from fluxa.errors import MalformedMessageError
from fluxa.messages.tasks import CORRELATION_HEADER, DEAD_LETTER_HEADER
from fluxa.validation import MESSAGE_LIMITS, JsonLimitExceeded, loads_bounded


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
        if not isinstance(raw, dict):
            return None
        try:
            return DeadLetterEnvelope.from_dict(raw)
        except (TypeError, ValueError):  # anyone who may send to a DLQ can write a header
            return None


def _json_or_base64_json(text: str | bytes) -> Any:
    try:
        return loads_bounded(text, MESSAGE_LIMITS)
    except JsonLimitExceeded as exc:
        raise UndecodableMessage(f"body is {exc.message}") from exc
    except ValueError:
        try:
            return loads_bounded(base64.b64decode(text, validate=True), MESSAGE_LIMITS)
        except (binascii.Error, ValueError) as exc:
            raise UndecodableMessage("body is neither JSON nor base64 JSON") from exc


def decode_sqs_body(body: str) -> TaskMessage:
    """Decode an SQS message body written by kombu's SQS transport (plain or base64)."""
    envelope = _json_or_base64_json(body)
    if not isinstance(envelope, dict) or "headers" not in envelope or "body" not in envelope:
        raise UndecodableMessage("not a kombu message envelope")
    headers, properties = envelope["headers"] or {}, envelope.get("properties") or {}
    if not isinstance(headers, dict) or not isinstance(properties, dict):
        raise UndecodableMessage("headers or properties are not objects")
    inner = envelope["body"]
    try:
        if properties.get("body_encoding") == "base64":
            inner = base64.b64decode(inner, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise UndecodableMessage("task body is not base64") from exc
    try:
        payload = loads_bounded(inner, MESSAGE_LIMITS) if isinstance(inner, str | bytes) else inner
    except ValueError as exc:
        raise UndecodableMessage(f"task body is not bounded JSON: {exc}") from exc
    if (
        not isinstance(payload, list)
        or len(payload) < 2
        or not isinstance(headers.get("task"), str)
    ):
        raise UndecodableMessage("not a Celery protocol 2 task message")
    args, kwargs = payload[0], payload[1]
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise UndecodableMessage("task arguments are not [list, dict]")
    custom = {k: v for k, v in headers.items() if k.startswith("fluxa_")}
    return TaskMessage(
        task=headers["task"],
        task_id=headers.get("id", ""),
        args=args,
        kwargs=kwargs,
        headers=custom,
    )


def check_sqs_body(body: str, *, known_tasks: Container[str]) -> dict[str, Any]:
    """Decode and bound an SQS body before anything recursive touches it.

    Returns kombu's envelope (the outer JSON object). Raises `MalformedMessageError`
    unless the body is a Celery protocol 2 message within `MESSAGE_LIMITS`, for one
    of `known_tasks`, with a `[args, kwargs, embed]` body of the right types.
    """
    envelope = _load_malformed_or(body, "message body")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("headers"), dict):
        raise MalformedMessageError("not a kombu message envelope")
    task = envelope["headers"].get("task")
    if not isinstance(task, str) or task not in known_tasks:
        raise MalformedMessageError(f"unknown task {str(task)[:100]!r}")
    _check_task_body(envelope)
    return envelope


def _load_malformed_or(text: str | bytes, what: str) -> Any:
    """`text` decoded within `MESSAGE_LIMITS`, or `MalformedMessageError` naming `what`."""
    try:
        return loads_bounded(text, MESSAGE_LIMITS)
    except JsonLimitExceeded as exc:
        raise MalformedMessageError(f"{what} is {exc.message}") from exc
    except ValueError as exc:
        raise MalformedMessageError(f"{what} is not JSON: {exc}") from exc


def _check_task_body(envelope: dict[str, Any]) -> None:
    inner = envelope.get("body")
    properties = envelope.get("properties")
    if isinstance(properties, dict) and properties.get("body_encoding") == "base64":
        try:
            inner = base64.b64decode(inner, validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise MalformedMessageError("task body is not base64") from exc
    if isinstance(inner, str | bytes):
        inner = _load_malformed_or(inner, "task body")
    if not (
        isinstance(inner, list)
        and len(inner) == 3
        and isinstance(inner[0], list)
        and isinstance(inner[1], dict)
        and isinstance(inner[2], dict | None)
    ):
        raise MalformedMessageError("task body is not [args, kwargs, embed]")
