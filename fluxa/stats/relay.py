"""Publishing stats rebuilds from the outbox: right after commit, and by a periodic sweep."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from sqlalchemy import Connection, Engine

from config import Settings
from fluxa import logcontext
from fluxa.errors import BrokerUnavailableError, DBConnectionError
from fluxa.infra.db import transaction
from fluxa.messages.tasks import CORRELATION_HEADER, TaskName, TaskPublisher
from fluxa.stats import outbox
from fluxa.trades import trail as trade_trail

log = logging.getLogger("fluxa.stats.relay")

SEGMENT_USERS = 500
#: Users per rebuild message of a sweep or a rebuild-all (one snapshot, one upsert).
USERS_PER_MESSAGE = 100


class StatsRelay:
    """Sends `rebuild_user_stats` for users the outbox marks stale."""

    def __init__(
        self, engine: Engine, publisher: TaskPublisher, *, queue: str, throttle_seconds: float = 0
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._queue = queue
        # At most one rebuild per user per this period: a write after a quiet spell is
        # rebuilt at once, writes soon after wait out the rest of the period, and writes
        # while a rebuild is on its way only bump the version. A burst costs two rebuilds
        # plus one per period it lasts.
        self._throttle = throttle_seconds

    def mark(self, conn: Connection, user_id: str) -> None:
        """A trade write's mark, in its transaction: the user's stats are stale
        (`fluxa.trades.service.TradeChanges`)."""
        version = outbox.mark_stale(conn, user_id)
        trade_trail.record(conn, "stats_marked_stale", user_id, version=version)

    def after_commit(self, user_id: str) -> bool:
        """Publish a rebuild unless one is on its way; never fails the caller's write.

        Returns whether a message was sent; when not, the sweep publishes later.
        """
        try:
            with transaction(self._engine) as conn:
                claim = outbox.claim(conn, user_id)
                if claim is None:
                    trade_trail.record(conn, "stats_rebuild_coalesced", user_id)
                    return False
        except DBConnectionError:
            return False
        delay = throttle_delay(self._throttle, claim.previous, claim.at)
        return self._send([user_id], delay=delay) == 1

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: Engine, publisher: TaskPublisher
    ) -> StatsRelay:
        """The relay every process builds: the stats queue and its throttle."""
        return cls(
            engine,
            publisher,
            queue=settings.stats_queue,
            throttle_seconds=settings.stats_throttle_seconds,
        )

    def _send_in_messages(self, user_ids: list[str]) -> int:
        return sum(
            self._send(user_ids[i : i + USERS_PER_MESSAGE])
            for i in range(0, len(user_ids), USERS_PER_MESSAGE)
        )

    def _send(self, user_ids: list[str], delay: float = 0) -> int:
        """Publish one rebuild message for these claimed users; how many it covers."""
        headers = {}
        correlation_id = logcontext.current().get("correlation_id")
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        kwargs = {"user_id": user_ids[0]} if len(user_ids) == 1 else {"user_ids": user_ids}
        try:
            self._publisher.publish(
                TaskName.REBUILD_USER_STATS,
                kwargs,
                queue=self._queue,
                headers=headers,
                countdown=delay or None,
            )
        except BrokerUnavailableError:
            log.warning(
                "stats rebuild not published; the sweep will retry",
                extra={"users": len(user_ids), "user_id": user_ids[0], "status": "deferred"},
            )
            try:
                with transaction(self._engine) as conn:
                    outbox.release_many(conn, user_ids)
                    trade_trail.record_many(conn, "stats_rebuild_deferred", _each(user_ids))
            except DBConnectionError:
                pass  # the claims go stale and the sweep takes them over
            return 0
        self._trail_published(user_ids, delay)
        return len(user_ids)

    def _trail_published(self, user_ids: list[str], delay: float) -> None:
        published = [(user_id, {"delay_seconds": round(delay, 3)}) for user_id in user_ids]
        try:
            with transaction(self._engine) as conn:
                trade_trail.record_many(conn, "stats_rebuild_published", published)
        except DBConnectionError:
            pass  # the trail is for reading, never a reason to fail the write

    def sweep(self, *, stale_claim_seconds: float, limit: int = SEGMENT_USERS) -> int:
        """Publish what after-commit publishing missed (crash, broker outage, lost message)."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stale_claim_seconds)
        with transaction(self._engine) as conn:
            users = outbox.claim_leftovers(conn, claimed_before=cutoff, limit=limit)
        return self._send_in_messages(users)

    def request(self, user_ids: Iterable[str]) -> int:
        """On-demand rebuilds: mark the users stale (so they rebuild even if current) and
        publish where no rebuild message is already on its way. Returns how many users
        this call published a rebuild for (the others were already on their way, or
        are left to the outbox sweep)."""
        users = sorted(set(user_ids))
        with transaction(self._engine) as conn:
            outbox.mark_stale_many(conn, users)
        try:
            with transaction(self._engine) as conn:
                claimed = outbox.claim_many(conn, users)
        except DBConnectionError:
            return 0  # staleness is recorded: the sweep publishes
        return self._send_in_messages(claimed)

    def request_all(
        self, segment: int = SEGMENT_USERS, on_segment: Callable[[int], None] | None = None
    ) -> int:
        """Rebuild every user, one segment (and one transaction) at a time; how many users
        it published rebuilds for. `on_segment` is told how many users are done so far."""
        after: str | None = None
        total = done = 0
        while True:
            with transaction(self._engine) as conn:
                users = outbox.users_after(conn, after, segment)
            if not users:
                return total
            total += self.request(users)
            after = users[-1]
            done += len(users)
            if on_segment:
                on_segment(done)

    def user_count(self) -> int:
        """How many users `request_all` goes through."""
        with self._engine.connect() as conn:
            return outbox.user_count(conn)


def throttle_delay(period: float, previous: dt.datetime | None, now: dt.datetime) -> float:
    """Seconds a rebuild claimed at `now` waits so that one user's rebuilds start at least
    `period` apart (`previous`: the last claim, None if there was none)."""
    if previous is None:
        return 0.0
    return max(0.0, period - (now - previous).total_seconds())


def _each(user_ids: list[str]) -> list[tuple[str, dict]]:
    return [(user_id, {}) for user_id in user_ids]
