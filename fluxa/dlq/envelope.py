"""The dead-letter envelope (architecture §4): why a message was dead-lettered, carried with it.

The envelope travels in the Celery message headers beside the original task
message, so the task stays whole and a blind move back to its source queue still
yields a runnable task.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fluxa.errors import REPLAYABLE_CODES, ErrorCode

MAX_ERROR_MESSAGE = 1000

#: SQS message attributes a dead letter carries, so that `aws sqs receive-message
#: --attribute-names All --message-attribute-names All` and any SQS console show why.
ATTRIBUTE_ERROR_CODE = "fluxa_error_code"
ATTRIBUTE_ERROR_MESSAGE = "fluxa_error_message"
ATTRIBUTE_SOURCE_QUEUE = "fluxa_source_queue"
ATTRIBUTE_ATTEMPTS = "fluxa_attempts"
ATTRIBUTE_FAILED_AT = "fluxa_failed_at"


@dataclass(frozen=True)
class DeadLetterEnvelope:
    """Why and when a message failed, and whether an operator may replay it."""

    error_code: str
    error_message: str
    attempts: int
    first_failed_at: str
    last_failed_at: str
    correlation_id: str | None
    source_queue: str
    retryable: bool
    replay_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeadLetterEnvelope:
        """Rebuild an envelope, ignoring fields this version does not know."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def build_envelope(
    *,
    error_code: ErrorCode,
    error_message: str,
    attempts: int,
    first_failed_at: dt.datetime | None,
    now: dt.datetime,
    correlation_id: str | None,
    source_queue: str,
    replay_count: int = 0,
) -> DeadLetterEnvelope:
    """The envelope of a message that failed for the last time at `now`."""
    return DeadLetterEnvelope(
        error_code=error_code.value,
        error_message=error_message[:MAX_ERROR_MESSAGE],
        attempts=attempts,
        first_failed_at=(first_failed_at or now).isoformat(),
        last_failed_at=now.isoformat(),
        correlation_id=correlation_id,
        source_queue=source_queue,
        retryable=is_replayable(error_code),
        replay_count=replay_count,
    )


#: Names the dead letters made of a part of a message (uuid5 namespace).
PART_NAMESPACE = uuid.UUID("6f1c3a52-6a1e-4b8e-9a57-2d0f5c1e7b90")


def part_task_id(task_id: str, kwargs: Mapping[str, Any]) -> str:
    """The task id of a dead letter made of a part (`kwargs`) of message `task_id`: the same
    for every delivery of that message, so that a second copy (SQS delivers at least once)
    is known as a copy of one task, which DLQ replay sends back once."""
    part = json.dumps(kwargs, sort_keys=True, separators=(",", ":"), default=str)
    return str(uuid.uuid5(PART_NAMESPACE, f"{task_id}\n{part}"))


def is_replayable(code: str) -> bool:
    """Whether messages dead-lettered with `code` may be replayed (never HashMismatch)."""
    return code in REPLAYABLE_CODES


def raw_dead_letter_attributes(
    *,
    error_code: ErrorCode,
    error_message: str,
    source_queue: str,
    attempts: int,
    now: dt.datetime | None = None,
) -> dict[str, dict[str, str]]:
    """SQS message attributes saying why a message is dead (see `fluxa.messages.taskmessage`).

    Every dead letter carries them, whole task messages and raw bodies alike, so that
    `aws sqs receive-message --message-attribute-names All` shows the code.
    """
    moment = (now or dt.datetime.now(dt.UTC)).isoformat()
    values = {
        ATTRIBUTE_ERROR_CODE: error_code.value,
        ATTRIBUTE_ERROR_MESSAGE: error_message[:MAX_ERROR_MESSAGE] or "-",
        ATTRIBUTE_SOURCE_QUEUE: source_queue,
        ATTRIBUTE_FAILED_AT: moment,
    }
    attributes = {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}
    attributes[ATTRIBUTE_ATTEMPTS] = {"DataType": "Number", "StringValue": str(attempts)}
    return attributes
