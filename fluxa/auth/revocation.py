"""Global sign-out: every token of a user issued before a moment stops working.

Local JWT verification cannot see Cognito's global sign-out; a per-user revocation
time closes that gap. Each API process keeps the sign-outs that can still matter in
memory (`RevocationSet`) and reads new ones incrementally, so a request never waits
on PostgreSQL for it and ingest (whose durable log is SQS) stays up while the
database is down. That loses nothing: sign-outs are written to that same database,
so while it is unreachable no new one can exist.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Column, DateTime, Engine, Index, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert

from fluxa.auth.principal import Principal
from fluxa.auth.verifier import LEEWAY_SECONDS, MAX_TOKEN_LIFETIME_SECONDS
from fluxa.errors import DBConnectionError
from fluxa.infra.db import metadata, transaction, translated_errors

log = logging.getLogger(__name__)

#: How often each process reads new sign-outs (a sign-out's reach on other processes).
REFRESH_SECONDS = 1.0
#: How long a sign-out can matter: a token issued up to `LEEWAY_SECONDS` after it
#: (clock skew) lives at most `MAX_TOKEN_LIFETIME_SECONDS`, and is accepted that much late.
HORIZON_SECONDS = MAX_TOKEN_LIFETIME_SECONDS + 2 * LEEWAY_SECONDS
#: Rows are re-read this far behind the newest one seen: a sign-out's `recorded_at` is
#: taken inside its transaction, which may commit after a later one was read.
OVERLAP_SECONDS = 10.0

token_revocations = Table(
    "token_revocations",
    metadata,
    Column("sub", Text, primary_key=True),
    Column("revoked_before", DateTime(timezone=True), nullable=False),
    Column(
        "recorded_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.clock_timestamp(),
    ),
    Index("token_revocations_recorded_at", "recorded_at"),
)


def revoke_all(engine: Engine, sub: str, at: dt.datetime | None = None) -> dt.datetime:
    """Revoke every token of `sub` issued up to `at` (now); return that moment."""
    moment = at or dt.datetime.now(dt.UTC)
    statement = (
        insert(token_revocations)
        .values(sub=sub, revoked_before=moment)
        .on_conflict_do_update(
            index_elements=["sub"],
            set_={"revoked_before": moment, "recorded_at": func.clock_timestamp()},
        )
    )
    with transaction(engine) as conn:
        conn.execute(statement)
    return moment


def is_revoked_by(principal: Principal, revoked_before: float | None) -> bool:
    """Whether a token may have been issued before its user's last sign-out.

    The verifier accepts an `iat` up to `LEEWAY_SECONDS` in the future (clock skew), so a
    token minted just before a sign-out can carry a later `iat`: every token whose `iat`
    is within that leeway after the sign-out is revoked too.
    """
    return revoked_before is not None and principal.issued_at <= revoked_before + LEEWAY_SECONDS


class RevocationSet:
    """The sign-outs of the last `HORIZON_SECONDS`, kept in memory and refreshed by a
    background thread every `refresh_seconds` with the rows recorded since the last read.

    Until the first read succeeds nothing is known, and a check fails closed
    (`DBConnectionError`, 503). After it, checks answer from memory whatever the
    database's state; `stale_seconds` says how old the copy is.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._revoked: dict[str, float] = {}  # sub → revoked_before (epoch seconds)
        self._newest: dt.datetime | None = None  # the newest recorded_at read
        self._read_at: float | None = None  # when the last read succeeded (clock)
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None

    def is_revoked(self, principal: Principal) -> bool:
        """Whether `principal`'s token was issued before its user's last sign-out."""
        if self._read_at is None:
            self.refresh()  # raises DBConnectionError: nothing known yet, fail closed
        self._start_refresher()
        with self._lock:
            return is_revoked_by(principal, self._revoked.get(principal.sub))

    def note(self, sub: str, revoked_before: dt.datetime) -> None:
        """Take a sign-out this process wrote at once (others see it on their next read)."""
        with self._lock:
            self._keep(sub, revoked_before.timestamp())

    @property
    def stale_seconds(self) -> float | None:
        """How long ago the last read succeeded (None: never)."""
        return None if self._read_at is None else self._clock() - self._read_at

    def refresh(self) -> None:
        """Read the sign-outs recorded since the last read (all that matter, the first time)."""
        now = self._clock()
        horizon = dt.datetime.fromtimestamp(now - HORIZON_SECONDS, dt.UTC)
        query = select(
            token_revocations.c.sub,
            token_revocations.c.revoked_before,
            token_revocations.c.recorded_at,
        ).where(token_revocations.c.revoked_before > horizon)
        if self._newest is not None:
            since = self._newest - dt.timedelta(seconds=OVERLAP_SECONDS)
            query = query.where(token_revocations.c.recorded_at > since)
        with translated_errors(), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        with self._lock:
            for sub, revoked_before, recorded_at in rows:
                self._keep(sub, revoked_before.timestamp())
                self._newest = max(self._newest or recorded_at, recorded_at)
            self._forget_older_than(now - HORIZON_SECONDS)
            self._read_at = now

    def _keep(self, sub: str, revoked_before: float) -> None:
        self._revoked[sub] = max(self._revoked.get(sub, revoked_before), revoked_before)

    def _forget_older_than(self, moment: float) -> None:
        for sub in [s for s, at in self._revoked.items() if at < moment]:
            del self._revoked[sub]

    def _start_refresher(self) -> None:
        # Started on first use, so that it runs in the process that serves (after a fork).
        if self._refresher is not None and self._refresher.is_alive():
            return
        with self._lock:
            if self._refresher is None or not self._refresher.is_alive():
                self._refresher = threading.Thread(
                    target=self._refresh_forever, name="revocations", daemon=True
                )
                self._refresher.start()

    def _refresh_forever(self) -> None:
        failing = False
        while True:
            time.sleep(self._refresh_seconds)
            try:
                self.refresh()
            except DBConnectionError as exc:
                if not failing:
                    log.warning(
                        "sign-outs not refreshed; answering from memory",
                        extra={"error_code": exc.code.value, "error": exc.message},
                    )
                failing = True
                continue
            if failing:
                log.info("sign-outs refreshed again", extra={"stale": False})
            failing = False
