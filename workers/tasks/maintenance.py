"""Maintenance tasks run by beat on the maintenance queue."""

from __future__ import annotations

import logging

from celery import shared_task

from fluxa.messaging import TaskName
from workers.base import FluxaTask
from workers.services import services

log = logging.getLogger("fluxa.maintenance")


@shared_task(name=TaskName.PURGE_IDEMPOTENCY_KEYS, base=FluxaTask, bind=True)
def purge_idempotency_keys(self: FluxaTask) -> int:
    """Delete idempotency keys past their expiry; a reused key is then a new request."""
    settings = self.app.settings
    deleted = services(settings).idempotency_store(settings).purge_expired()
    log.info("expired idempotency keys purged", extra={"status": "done", "deleted": deleted})
    return deleted
