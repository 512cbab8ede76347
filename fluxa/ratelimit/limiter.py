"""Counting requests per principal and scope, with the `limits` library.

The sliding-window counter strategy (two counters per key and window, weighted) keeps
a store round trip per limit and request. The store is `FLUXA_RATE_LIMIT_STORAGE_URL`:
`memory://` counts in this process (the standalone: each API process counts apart), a
`redis://` / `rediss://` URL (ElastiCache Valkey in the stack) counts across processes.
When the store fails, the request passes (fail open) and `store_failures` counts it:
limits protect the service, they must never be what takes it down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from fluxa.ratelimit.policy import RateLimitPolicy

log = logging.getLogger("fluxa.ratelimit")

#: At most one log line per this many seconds while the store keeps failing.
FAILURE_LOG_SECONDS = 30.0


@dataclass(frozen=True)
class Decision:
    """Whether a request may go on, and what its answer should say about the quota."""

    allowed: bool
    scope: str
    limit: RateLimitItem | None = None  # the tightest limit (or the one breached)
    remaining: int = 0
    reset_seconds: float = 0.0

    @property
    def limited(self) -> bool:
        return self.limit is not None


class RateLimiter:
    """Decides per request: counts it against each of its scope's limits for its principal."""

    def __init__(
        self,
        policy: RateLimitPolicy,
        storage_url: str = "memory://",
        *,
        on_store_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._policy = policy
        self._strategy = SlidingWindowCounterRateLimiter(storage_from_string(storage_url))
        self._on_store_failure = on_store_failure
        self._lock = threading.Lock()
        self._last_failure_log = 0.0

    def check(self, scope: str, principal: str) -> Decision:
        """Count one request of `principal` in `scope`; the decision (allowed when the
        store fails)."""
        limits = self._policy.limits_for(scope, principal)
        if not limits:
            return Decision(True, scope)
        try:
            return self._count(scope, principal, limits)
        except Exception as exc:  # the store: down, timing out, refusing
            self._store_failed(exc)
            return Decision(True, scope)

    def _count(self, scope: str, principal: str, limits: tuple[RateLimitItem, ...]) -> Decision:
        tightest: Decision | None = None
        for item in limits:
            allowed = self._strategy.hit(item, scope, principal)
            stats = self._strategy.get_window_stats(item, scope, principal)
            decision = Decision(allowed, scope, item, stats.remaining,
                                stats.reset_time - time.time())  # fmt: skip
            if not allowed:
                return decision
            if tightest is None or decision.remaining < tightest.remaining:
                tightest = decision
        assert tightest is not None
        return tightest

    def _store_failed(self, exc: Exception) -> None:
        self._on_store_failure()
        now = time.monotonic()
        with self._lock:
            if now - self._last_failure_log < FAILURE_LOG_SECONDS:
                return
            self._last_failure_log = now
        log.warning(
            "rate-limit store unavailable; requests pass unlimited",
            extra={"error": type(exc).__name__, "status": "degraded"},
        )
