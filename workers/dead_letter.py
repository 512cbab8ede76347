"""Dead-lettering: publish a task message, whole, to its DLQ with the envelope in its headers.

Celery deletes a failed message, so SQS redrive only catches crashes; routing by
error code to the DLQ is done here, explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import Task

from fluxa.dlq.envelope import build_envelope, part_task_id, raw_dead_letter_attributes
from fluxa.errors import ErrorCode
from fluxa.events.trail import Delivery
from fluxa.messages.tasks import CORRELATION_HEADER, DEAD_LETTER_HEADER, ENQUEUED_AT_HEADER

log = logging.getLogger(__name__)

#: Header holding when the first attempt of a message failed (kept across retries).
FIRST_FAILED_HEADER = "fluxa_first_failed_at"


def source_queue(task: Task) -> str:
    """The queue the current message came from."""
    info = task.request.delivery_info or {}
    return info.get("routing_key") or task.app.settings.input_queue


def task_headers(task: Task) -> dict[str, Any]:
    """The custom headers of the current message (correlation id, failure times …)."""
    return dict(task.request.headers or {})


def delivery_of(task: Task) -> Delivery:
    """How the current message came to be (for the event trail)."""
    headers = task_headers(task)
    enqueued = headers.get(ENQUEUED_AT_HEADER)
    return Delivery(
        task_id=task.request.id,
        correlation_id=headers.get(CORRELATION_HEADER),
        enqueued_at=dt.datetime.fromisoformat(enqueued) if enqueued else None,
        dead_letter=headers.get(DEAD_LETTER_HEADER),
    )


def first_failed_at(task: Task) -> dt.datetime | None:
    raw = task_headers(task).get(FIRST_FAILED_HEADER)
    return dt.datetime.fromisoformat(raw) if raw else None


def dead_letter(
    task: Task,
    *,
    error_code: ErrorCode,
    error_message: str,
    kwargs: dict[str, Any] | None = None,
    whole_message: bool = True,
) -> str:
    """Send the current task message (or a part of it, as `kwargs`) to its DLQ.

    A whole message keeps its task id; a part gets one made from it and the part (the
    same on every delivery of the message). Returns the DLQ name.
    """
    headers = task_headers(task)
    queue = source_queue(task)
    dlq = task.app.dead_letter_queue_for(queue)
    previous = headers.get(DEAD_LETTER_HEADER) or {}
    envelope = build_envelope(
        error_code=error_code,
        error_message=error_message,
        attempts=task.request.retries + 1,
        first_failed_at=first_failed_at(task),
        now=dt.datetime.now(dt.UTC),
        correlation_id=headers.get(CORRELATION_HEADER),
        source_queue=queue,
        replay_count=int(previous.get("replay_count", 0)),
    )
    headers[DEAD_LETTER_HEADER] = envelope.to_dict()
    task.app.send_task(
        task.name,
        args=task.request.args or [],
        kwargs=task.request.kwargs if kwargs is None else kwargs,
        queue=dlq,
        task_id=task.request.id if whole_message else part_task_id(task.request.id, kwargs or {}),
        headers=headers,
        # kombu's SQS transport sends these as SQS message attributes (the AWS CLI shows them).
        message_attributes=raw_dead_letter_attributes(
            error_code=error_code,
            error_message=error_message,
            source_queue=queue,
            attempts=envelope.attempts,
        ),
    )
    return dlq
