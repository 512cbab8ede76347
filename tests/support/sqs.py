"""Reading queues in tests."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from fluxa.errors import MalformedMessageError
from fluxa.infra.queue_reader import read_each_once, show, start_read
from fluxa.messages.taskmessage import TaskMessage, decode_sqs_body


def receive_raw(
    sqs: Any, url: str, *, delete: bool | Callable[[dict[str, Any]], bool] = False
) -> list[dict[str, Any]]:
    """Every message now visible in the queue, each once (ReceiveMessage results, with
    `ApproximateReceiveCount`); all are left in the queue unless `delete` (True, or a test
    of a message: those it is true of are deleted).

    Short polls, read until SQS counts nothing visible (`fluxa.infra.queue_reader`): an
    empty short poll proves nothing on AWS, nor through the suites' strict layer.
    """
    received: dict[str, dict[str, Any]] = {}
    read = start_read(sqs, url)
    read_each_once(sqs, url, read, received, hide_seconds=20, wait_seconds=0, patience=40)
    for raw in received.values():
        handle = raw["ReceiptHandle"]
        if delete is True or (callable(delete) and delete(raw)):
            with contextlib.suppress(sqs.exceptions.ClientError):  # a handle SQS forgot
                sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        else:
            show(sqs, url, handle)
    return list(received.values())


def receive_all(sqs: Any, url: str, *, delete: bool = False) -> list[TaskMessage]:
    """Every Celery message now visible in the queue, decoded (others are skipped)."""
    messages: list[TaskMessage] = []
    for raw in receive_raw(sqs, url, delete=delete):
        with contextlib.suppress(MalformedMessageError):  # e.g. a poison test's garbage
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


@contextlib.contextmanager
def queue_visibility(sqs, url: str, seconds: int) -> Iterator[None]:
    """The queue's own visibility timeout set to `seconds` for the block."""
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=before["Attributes"])
