"""Tokens verified lately, so that a client's every request does not pay for the RSA check.

A client sends the same access token for up to an hour; verifying it (two base64 passes
in Python, an RSA signature) cost about a fifth of a single-event request. An entry is
kept only after a full verification succeeded, keyed by the exact token string, and it
ends when the token expires (with the verifier's leeway) or after `ttl_seconds`, so that
a key removed from the JWKS stops working within that time. Sign-out is checked on every
request apart from this cache (`fluxa.auth.revocation`). Failures are never kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fluxa.auth.principal import Principal

TTL_SECONDS = 60.0
MAX_ENTRIES = 4096


class VerifiedTokens:
    """A bounded map of token → principal, each entry valid until its own deadline."""

    def __init__(
        self,
        *,
        ttl_seconds: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The principal of `token` if it was verified and its entry has not ended."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            principal, until = entry
            if self._clock() >= until:
                del self._entries[token]
                return None
            return principal

    def put(self, token: str, principal: Principal, valid_until: float) -> None:
        """Keep a verified `token` until `valid_until` (epoch seconds) or the ttl, the sooner."""
        until = min(valid_until, self._clock() + self._ttl)
        with self._lock:
            self._entries.pop(token, None)
            while len(self._entries) >= self._max:
                del self._entries[next(iter(self._entries))]  # the oldest kept
            self._entries[token] = (principal, until)
