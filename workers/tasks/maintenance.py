"""Maintenance tasks run by beat on the maintenance queue."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from fluxa.infra.db import translated_errors
from fluxa.messages.tasks import TaskName
from fluxa.trades import repository as trades_repository
from fluxa.trades.images import delete_orphans
from workers.base import FluxaTask
from workers.services import services

log = logging.getLogger("fluxa.maintenance")


@shared_task(name=TaskName.PURGE_IDEMPOTENCY_KEYS, base=FluxaTask, bind=True)
def purge_idempotency_keys(self: FluxaTask) -> int:
    """Delete idempotency keys past their expiry; a reused key is then a new request."""
    deleted = services(self.app.settings).idempotency_store.purge_expired()
    log.info("expired idempotency keys purged", extra={"status": "done", "deleted": deleted})
    return deleted


@shared_task(name=TaskName.CLEANUP_ORPHAN_IMAGES, base=FluxaTask, bind=True)
def cleanup_orphan_images(self: FluxaTask) -> dict[str, int]:
    """Delete image objects that no trade lists, once older than the grace period."""
    settings = self.app.settings
    worker = services(settings)

    def referenced(keys: list[str]) -> set[str]:
        with translated_errors(), worker.engine.connect() as conn:
            return trades_repository.referenced_images(conn, keys)

    deleted, kept = delete_orphans(
        worker.image_store,
        referenced,
        grace=dt.timedelta(seconds=settings.image_orphan_grace_seconds),
    )
    log.info("orphan images cleaned", extra={"status": "done", "deleted": deleted, "kept": kept})
    return {"deleted": deleted, "kept": kept}
