"""A beat scheduler that sends only while it holds the leader lease in PostgreSQL.

Two beats started by mistake would fire every schedule twice; with this scheduler
the second one only follows: it marks due entries as run without sending them, so
that if it takes over it has nothing stale to catch up on.

Each tick, leader or follower, touches the heartbeat file (FLUXA_WORKER_HEARTBEAT_FILE) when
one is set: `fluxa worker-ready` is beat's container health check too, and a beat stuck in
a tick (a hung database call) stops touching it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

from fluxa.errors import DBConnectionError
from fluxa.infra import leases
from fluxa.infra.db import make_engine

log = logging.getLogger("fluxa.beat")

LEASE_NAME = "celery-beat"
LEASE_TTL = dt.timedelta(seconds=30)
FOLLOWER_TICK_SECONDS = 5.0


class LeaderElectedScheduler(PersistentScheduler):
    """`celery beat --scheduler workers.beat:LeaderElectedScheduler`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.app.settings
        settings.require("database_url")
        self._engine = make_engine(settings.database_url, pool_size=1)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = False
        alive = settings.worker_heartbeat_file
        self._heartbeat = Path(alive) if alive else None
        if self._heartbeat:
            self._heartbeat.parent.mkdir(parents=True, exist_ok=True)

    def _renew(self) -> bool:
        try:
            leader = leases.acquire(self._engine, LEASE_NAME, self.holder, LEASE_TTL)
        except DBConnectionError:
            leader = False  # unsure: better no schedule than a doubled one
        if leader != self.is_leader:
            log.info("beat leadership changed", extra={"leader": leader, "holder": self.holder})
        self.is_leader = leader
        return leader

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self._renew():
            wait = min(super().tick(*args, **kwargs), LEASE_TTL.total_seconds() / 3)
        else:
            self._follow()
            wait = FOLLOWER_TICK_SECONDS
        if self._heartbeat:
            self._heartbeat.touch()
        return wait

    def _follow(self) -> None:
        for entry in list(self.schedule.values()):
            is_due, _ = entry.is_due()
            if is_due:
                self.reserve(entry)

    def close(self) -> None:
        if self.is_leader:
            with contextlib.suppress(DBConnectionError):
                leases.release(self._engine, LEASE_NAME, self.holder)
        self._engine.dispose()
        super().close()
