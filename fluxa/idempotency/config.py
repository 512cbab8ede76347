"""How long idempotency records live."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdempotencyConfig:
    """`ttl_seconds`: how long a completed response is replayed (then the key is new again).

    `lock_seconds`: how long an in-flight claim is honoured before another request
    may take it over (a crashed request must not hold its key for a day).
    """

    ttl_seconds: int = 24 * 3600
    lock_seconds: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> IdempotencyConfig:
        """The configuration every process builds from its settings."""
        return cls(
            ttl_seconds=settings.idempotency_ttl_seconds,
            lock_seconds=settings.idempotency_lock_seconds,
        )
