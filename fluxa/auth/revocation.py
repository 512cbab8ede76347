"""Global sign-out: every token of a user issued before a moment stops working.

Local JWT verification cannot see Cognito's global sign-out; this per-user
revocation time, checked on each request, closes that gap.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import Column, DateTime, Engine, Table, Text, select
from sqlalchemy.dialects.postgresql import insert

from fluxa.auth.principal import Principal
from fluxa.auth.verifier import LEEWAY_SECONDS
from fluxa.infra.db import metadata, transaction, translated_errors

#: How long one API process trusts its last answer for a user (a sign-out's reach).
CACHE_SECONDS = 1.0

token_revocations = Table(
    "token_revocations",
    metadata,
    Column("sub", Text, primary_key=True),
    Column("revoked_before", DateTime(timezone=True), nullable=False),
)


def revoke_all(engine: Engine, sub: str, at: dt.datetime | None = None) -> dt.datetime:
    """Revoke every token of `sub` issued up to `at` (now); return that moment."""
    moment = at or dt.datetime.now(dt.UTC)
    statement = (
        insert(token_revocations)
        .values(sub=sub, revoked_before=moment)
        .on_conflict_do_update(index_elements=["sub"], set_={"revoked_before": moment})
    )
    with transaction(engine) as conn:
        conn.execute(statement)
    return moment


class RevocationList:
    """Answers "is this token revoked?" from PostgreSQL, caching each answer briefly.

    The cache (default 1 s) bounds the database load of busy clients; a sign-out
    takes effect on every API process within that time. Fails closed: when the
    database cannot answer, `DBConnectionError` propagates (503).
    """

    def __init__(self, engine: Engine, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._engine = engine
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, dt.datetime | None]] = {}
        self._lock = threading.Lock()

    def _revoked_before(self, sub: str) -> dt.datetime | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(sub)
        if cached and now - cached[0] < self._cache_seconds:
            return cached[1]
        with translated_errors(), self._engine.connect() as conn:
            value = conn.execute(
                select(token_revocations.c.revoked_before).where(token_revocations.c.sub == sub)
            ).scalar_one_or_none()
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[sub] = (now, value)
        return value

    def is_revoked(self, principal: Principal) -> bool:
        """Whether the token may have been issued before the user's last sign-out.

        The verifier accepts an `iat` up to `LEEWAY_SECONDS` in the future (clock
        skew), so a token minted just before a sign-out can carry a later `iat`: every
        token whose `iat` is within that leeway after the sign-out is revoked too.
        """
        revoked_before = self._revoked_before(principal.sub)
        if revoked_before is None:
            return False
        return principal.issued_at <= revoked_before.timestamp() + LEEWAY_SECONDS

    def forget(self, sub: str) -> None:
        """Drop the cached answer for `sub` (this process signed it out)."""
        with self._lock:
            self._cache.pop(sub, None)
