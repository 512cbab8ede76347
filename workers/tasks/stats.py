"""Stats tasks: rebuild one user, fan out rebuild-all, sweep the outbox."""

from __future__ import annotations

import logging

from celery import shared_task

from fluxa.errors import SchemaValidationError
from fluxa.logcontext import Stage
from fluxa.messages.tasks import TaskName
from workers.base import FluxaTask
from workers.services import services

log = logging.getLogger("fluxa.stats")


@shared_task(name=TaskName.REBUILD_USER_STATS, base=FluxaTask, bind=True)
def rebuild_user_stats(
    self: FluxaTask, user_id: str | None = None, user_ids: list[str] | None = None
) -> dict[str, int]:
    """Full rebuild of a user's (or a segment of users') stats from their trades;
    users already current are skipped."""
    users = [user_id] if user_id else list(user_ids or [])
    if not users or not all(isinstance(u, str) and u for u in users):
        raise SchemaValidationError("message names no user_id or user_ids")
    outcomes = services(self.app.settings).rebuild_users(users)
    for outcome in outcomes:
        log.info(
            "stats rebuilt" if outcome.rebuilt else "stats already current",
            extra={
                "stage": Stage.PERSIST,
                "status": "rebuilt" if outcome.rebuilt else "skipped",
                "user_id": outcome.user_id,
                "watermark": outcome.watermark,
            },
        )
    return {"users": len(outcomes), "rebuilt": sum(o.rebuilt for o in outcomes)}


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
