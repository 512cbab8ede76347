"""Reading queues in tests."""

from __future__ import annotations

import contextlib
from typing import Any

from fluxa.messages.taskmessage import TaskMessage, UndecodableMessage, decode_sqs_body


def receive_raw(
    sqs: Any, url: str, *, delete: bool = False, attributes: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every message now visible in the queue, each once (ReceiveMessage results); all
    are left in the queue unless `delete`."""
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=20,
            WaitTimeSeconds=0,
            AttributeNames=attributes or [],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        received.extend(batch)
    for raw in received:
        handle = raw["ReceiptHandle"]
        if delete:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return received


def receive_all(sqs: Any, url: str, *, delete: bool = False) -> list[TaskMessage]:
    """Every Celery message now visible in the queue, decoded (others are skipped)."""
    messages: list[TaskMessage] = []
    for raw in receive_raw(sqs, url, delete=delete):
        with contextlib.suppress(UndecodableMessage):  # e.g. a poison test's garbage
            messages.append(decode_sqs_body(raw["Body"]))
    return messages


def queue_depth(sqs: Any, url: str) -> int:
    """Messages visible, in flight or delayed."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def events_of(messages: list[TaskMessage]) -> list[dict[str, Any]]:
    """The events carried by event-processing task messages."""
    return [event for m in messages for event in m.kwargs.get("events", [])]


def empty(sqs: Any, url: str) -> int:
    """Delete every message now visible in `url` (PurgeQueue may run once a minute only):
    a test that acts on a whole queue first makes its contents its own."""
    return len(receive_raw(sqs, url, delete=True))
