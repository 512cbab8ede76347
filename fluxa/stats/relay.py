"""Publishing stats rebuilds from the outbox: right after commit, and by a periodic sweep."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import Engine

from fluxa import logcontext
from fluxa.db import transaction
from fluxa.errors import BrokerUnavailable, DBConnectionError
from fluxa.messaging import CORRELATION_HEADER, TaskName, TaskPublisher
from fluxa.stats import outbox

log = logging.getLogger("fluxa.stats.relay")

SEGMENT_USERS = 500


class StatsRelay:
    """Sends `rebuild_user_stats` for users the outbox marks stale."""

    def __init__(
        self, engine: Engine, publisher: TaskPublisher, *, queue: str, debounce_seconds: float = 0
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._queue = queue
        # The rebuild runs this long after the first write of a burst; writes meanwhile
        # only bump the version, so a burst costs one rebuild (plus one for late writes).
        self._debounce = debounce_seconds

    def after_commit(self, user_id: str) -> bool:
        """Publish a rebuild unless one is on its way; never fails the caller's write.

        Returns whether a message was sent; when not, the sweep publishes later.
        """
        try:
            with transaction(self._engine) as conn:
                if not outbox.claim(conn, user_id):
                    return False
        except DBConnectionError:
            return False
        return self._send(user_id)

    def _send(self, user_id: str) -> bool:
        headers = {}
        correlation_id = logcontext.current().get("correlation_id")
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        try:
            self._publisher.publish(
                TaskName.REBUILD_USER_STATS,
                {"user_id": user_id},
                queue=self._queue,
                headers=headers,
                countdown=self._debounce or None,
            )
        except BrokerUnavailable:
            log.warning(
                "stats rebuild not published; the sweep will retry",
                extra={"user_id": user_id, "status": "deferred"},
            )
            try:
                with transaction(self._engine) as conn:
                    outbox.release(conn, user_id)
            except DBConnectionError:
                pass  # the claim goes stale and the sweep takes it over
            return False
        return True

    def sweep(self, *, stale_claim_seconds: float, limit: int = SEGMENT_USERS) -> int:
        """Publish what after-commit publishing missed (crash, broker outage, lost message)."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stale_claim_seconds)
        with transaction(self._engine) as conn:
            users = outbox.claim_leftovers(conn, claimed_before=cutoff, limit=limit)
        return sum(self._send(user) for user in users)

    def request(self, user_ids: Iterable[str]) -> int:
        """On-demand rebuilds: mark the users stale (so they rebuild even if current) and
        publish where no rebuild message is already on its way. Returns how many users."""
        users = list(user_ids)
        with transaction(self._engine) as conn:
            for user in users:
                outbox.mark_stale(conn, user)
        for user in users:
            self.after_commit(user)
        return len(users)

    def request_all(self, segment: int = SEGMENT_USERS) -> int:
        """Rebuild every user, one segment (and one transaction) at a time; how many users."""
        after: str | None = None
        total = 0
        while True:
            with transaction(self._engine) as conn:
                users = outbox.users_after(conn, after, segment)
            if not users:
                return total
            total += self.request(users)
            after = users[-1]
