"""How long idempotency records live."""

from __future__ import annotations

from dataclasses import dataclass

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdempotencyConfig:
    """`ttl_seconds`: how long a completed response is replayed (then the key is new again).

    `lock_seconds`: how long an in-flight claim is honoured before another request
    may take it over (a crashed request must not hold its key for a day).
    """

    ttl_seconds: int = 24 * 3600
    lock_seconds: int = 60
