"""The dead-letter envelope (DESIGN §4): why a message was dead-lettered, carried with it.

The envelope travels in the Celery message headers beside the original task
message, so the task stays whole and a blind move back to its source queue still
yields a runnable task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from fluxa.errors import REPLAYABLE_CODES, ErrorCode

MAX_ERROR_MESSAGE = 1000


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


def is_replayable(code: str) -> bool:
    """Whether messages dead-lettered with `code` may be replayed (never HashMismatch)."""
    return code in REPLAYABLE_CODES
