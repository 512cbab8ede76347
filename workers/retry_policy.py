"""When to retry a failed task, and how long to wait (exponential backoff with jitter)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from config import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """Retries `max_retries` times; the n-th wait is in [d/2, d] with d = min(cap, base·2ⁿ)."""

    max_retries: int
    base_seconds: float
    cap_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_retries=settings.retry_max_retries,
            base_seconds=settings.retry_backoff_base,
            cap_seconds=settings.retry_backoff_max,
        )

    def should_retry(self, *, retryable: bool, retries_so_far: int) -> bool:
        """Whether a failure after `retries_so_far` retries gets another attempt."""
        return retryable and retries_so_far < self.max_retries

    def countdown(self, retries_so_far: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before the next attempt ("equal jitter": never zero, never above cap).

        The cap stays below the SQS visibility timeout (checked by Settings), since a
        countdown beyond it makes SQS deliver the task a second time.
        """
        ceiling = min(self.cap_seconds, self.base_seconds * 2**retries_so_far)
        return ceiling / 2 + rng() * ceiling / 2
