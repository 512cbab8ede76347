"""The idempotency store: shared claim/replay logic over a few backend primitives."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable

from fluxa.errors import IdempotencyKeyInFlightError, IdempotencyKeyMismatchError
from fluxa.idempotency.config import IdempotencyConfig
from fluxa.idempotency.records import IdempotencyRecord, RecordStatus, StoredResponse


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class IdempotencyStore(ABC):
    """Runs an operation at most once per (scope, key) and replays its response.

    Backends implement the private primitives; each must be atomic on its own.
    """

    def __init__(self, config: IdempotencyConfig) -> None:
        self.config = config

    def execute(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        operation: Callable[[], StoredResponse],
        *,
        now: dt.datetime | None = None,
    ) -> tuple[StoredResponse, bool]:
        """Run `operation` under the key, or replay the stored response.

        Returns the response and whether it was replayed. Raises
        `IdempotencyKeyMismatchError` (other body) or `IdempotencyKeyInFlightError`. If
        `operation` raises, the key is released so that a retry can run.
        """
        now = now or utcnow()
        claimed = self._claim(scope, key, fingerprint, now)
        if isinstance(claimed, StoredResponse):
            return claimed, True
        try:
            response = operation()
        except BaseException:
            self._delete(scope, key, claimed.locked_at)
            raise
        expires_at = utcnow() + dt.timedelta(seconds=self.config.ttl_seconds)
        self._complete(scope, key, claimed.locked_at, response, expires_at)
        return response, False

    def _claim(
        self, scope: str, key: str, fingerprint: str, now: dt.datetime
    ) -> IdempotencyRecord | StoredResponse:
        mine = IdempotencyRecord(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            status=RecordStatus.IN_PROGRESS,
            locked_at=now,
            expires_at=now + dt.timedelta(seconds=self.config.ttl_seconds),
        )
        # A record can vanish or change hands between our reads; try again then.
        for _ in range(3):
            if self._insert(mine):
                return mine
            existing = self._get(scope, key)
            if existing is None:
                continue
            if existing.expires_at <= now:
                # An expired key is a new request, whatever its body was (documented).
                if self._replace(existing, mine):
                    return mine
                continue
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyMismatchError(
                    "Idempotency-Key was already used with a different request",
                    details={"Idempotency-Key": ["Reused with a different request body."]},
                )
            if existing.status is RecordStatus.COMPLETED and existing.response is not None:
                return existing.response
            stale = existing.locked_at + dt.timedelta(seconds=self.config.lock_seconds) <= now
            if stale and self._replace(existing, mine):
                return mine
            raise IdempotencyKeyInFlightError(
                "a request with this Idempotency-Key is still in progress",
                details={"Idempotency-Key": ["Still in progress; retry later."]},
            )
        raise IdempotencyKeyInFlightError(
            "the Idempotency-Key is contended",
            details={"Idempotency-Key": ["Contended; retry later."]},
        )

    def purge_expired(self, now: dt.datetime | None = None) -> int:
        """Delete records expired at `now`; return how many."""
        return self._purge(now or utcnow())

    @abstractmethod
    def _insert(self, record: IdempotencyRecord) -> bool:
        """Insert `record` unless the key exists; return whether it was inserted."""

    @abstractmethod
    def _get(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The record of the key, if any."""

    @abstractmethod
    def _replace(self, expected: IdempotencyRecord, record: IdempotencyRecord) -> bool:
        """Replace the key's record if it is still `expected` (same lock time and status)."""

    @abstractmethod
    def _complete(
        self,
        scope: str,
        key: str,
        locked_at: dt.datetime,
        response: StoredResponse,
        expires_at: dt.datetime,
    ) -> None:
        """Store the response on the record claimed at `locked_at`."""

    @abstractmethod
    def _delete(self, scope: str, key: str, locked_at: dt.datetime) -> None:
        """Delete the in-progress record claimed at `locked_at`."""

    @abstractmethod
    def _purge(self, now: dt.datetime) -> int:
        """Delete every record expired at `now`."""
