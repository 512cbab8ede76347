"""Delayed delivery: on SQS the queue holds the message, not the worker.

A Celery countdown becomes an ETA that the worker keeps, unacknowledged, in memory
until it is due. On SQS such a message counts against its visibility timeout while it
waits (and behind the busy pool after it), is delivered again when that runs out, and
every SIGKILL of the holder adds a receive: enough of these and the redrive policy
moves a healthy message to the DLQ. SQS's own per-message delay (`DelaySeconds`, at
most 15 minutes, whole seconds) keeps the message invisible in the queue instead, so
a worker only ever holds what it is running.
"""

from __future__ import annotations

import math
from typing import Any

#: The longest per-message delay SQS accepts.
SQS_MAX_DELAY_SECONDS = 900


def delay_options(broker_url: str, seconds: float | None) -> dict[str, Any]:
    """Options for `apply_async` / `Task.retry` that deliver a message `seconds` from now."""
    if not seconds or seconds <= 0:
        return {"countdown": 0}
    if broker_url.startswith("sqs://"):
        # countdown=0: no ETA for the worker to hold (None would mean Celery's default).
        return {"countdown": 0, "DelaySeconds": min(math.ceil(seconds), SQS_MAX_DELAY_SECONDS)}
    return {"countdown": seconds}
