"""Stats tasks: rebuild one user, fan out rebuild-all, sweep the outbox."""

from __future__ import annotations

import logging

from celery import shared_task

from fluxa.logcontext import Stage
from fluxa.messaging import TaskName
from workers.base import FluxaTask
from workers.services import services

log = logging.getLogger("fluxa.stats")


@shared_task(name=TaskName.REBUILD_USER_STATS, base=FluxaTask, bind=True)
def rebuild_user_stats(self: FluxaTask, user_id: str) -> dict[str, object]:
    """Full rebuild of one user's stats from their trades (skipped when already current)."""
    outcome = services(self.app.settings).rebuild_user(user_id)
    log.info(
        "stats rebuilt" if outcome.rebuilt else "stats already current",
        extra={
            "stage": Stage.PERSIST,
            "status": "rebuilt" if outcome.rebuilt else "skipped",
            "user_id": user_id,
            "watermark": outcome.watermark,
        },
    )
    return {"user_id": user_id, "watermark": outcome.watermark, "rebuilt": outcome.rebuilt}


@shared_task(name=TaskName.REBUILD_ALL_STATS, base=FluxaTask, bind=True)
def rebuild_all_stats(self: FluxaTask) -> int:
    """Every user's stats, requested one segment (one transaction) at a time."""
    users = services(self.app.settings).stats_relay(self.app).request_all()
    log.info("rebuild-all fanned out", extra={"status": "done", "users": users})
    return users


@shared_task(name=TaskName.SWEEP_STATS_OUTBOX, base=FluxaTask, bind=True)
def sweep_stats_outbox(self: FluxaTask) -> int:
    """Publish rebuilds that after-commit publishing missed (broker outage, crash)."""
    settings = self.app.settings
    stale_after = settings.sqs_visibility_timeout + settings.task_time_limit
    published = services(settings).stats_relay(self.app).sweep(stale_claim_seconds=stale_after)
    if published:
        log.info("stats outbox swept", extra={"status": "published", "published": published})
    return published
