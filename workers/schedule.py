"""The beat schedule, built from settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery.schedules import crontab

from config import Settings
from fluxa.messages.tasks import TaskName


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every periodic job, routed to the maintenance queue."""
    maintenance = {"queue": settings.maintenance_queue}
    return {
        "rebuild-all-stats": {
            "task": TaskName.REBUILD_ALL_STATS,
            "schedule": crontab(minute=0, hour="*/6"),
            "options": maintenance,
        },
        "sweep-stats-outbox": {
            "task": TaskName.SWEEP_STATS_OUTBOX,
            "schedule": dt.timedelta(seconds=settings.stats_sweep_seconds),
            "options": maintenance,
        },
        "cleanup-orphan-images": {
            "task": TaskName.CLEANUP_ORPHAN_IMAGES,
            "schedule": crontab(minute=30, hour=3),
            "options": maintenance,
        },
        "purge-old-trails": {
            "task": TaskName.PURGE_TRAILS,
            "schedule": crontab(minute=40, hour=4),
            "options": maintenance,
        },
        "maintain-event-partitions": {
            "task": TaskName.MAINTAIN_EVENT_PARTITIONS,
            "schedule": crontab(minute=7),
            "options": maintenance,
        },
        "sweep-stale-imports": {
            "task": TaskName.SWEEP_IMPORTS,
            "schedule": dt.timedelta(seconds=settings.stats_sweep_seconds),
            "options": maintenance,
        },
        "purge-expired-idempotency-keys": {
            "task": TaskName.PURGE_IDEMPOTENCY_KEYS,
            "schedule": crontab(minute=17),
            "options": maintenance,
        },
    }
