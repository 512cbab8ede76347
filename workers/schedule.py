"""The beat schedule, built from settings."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from config import Settings
from fluxa.messaging import TaskName


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every periodic job, routed to the maintenance queue."""
    return {
        "purge-expired-idempotency-keys": {
            "task": TaskName.PURGE_IDEMPOTENCY_KEYS,
            "schedule": crontab(minute=17),
            "options": {"queue": settings.maintenance_queue},
        },
    }
