"""Maintenance tasks run by beat on the maintenance queue."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from celery import shared_task
from sqlalchemy import Connection

from fluxa.events.retention import lateness_now, maintain
from fluxa.events.trail import event_trail
from fluxa.imports import repository as imports_repository
from fluxa.imports.files import is_import_key
from fluxa.infra.db import translated_errors
from fluxa.infra.purge import delete_older_than
from fluxa.messages.tasks import TaskName
from fluxa.trades import repository as trades_repository
from fluxa.trades.images import delete_orphans
from fluxa.trades.trail import work_trail
from workers import metrics
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
    """Delete image objects that no trade lists, and imported files no import names (the
    API stores a file before it commits its import), once older than the grace period."""
    settings = self.app.settings
    worker = services(settings)
    grace = dt.timedelta(seconds=settings.image_orphan_grace_seconds)

    def named_by(
        lookup: Callable[[Connection, list[str]], set[str]],
    ) -> Callable[[list[str]], set[str]]:
        def referenced(keys: list[str]) -> set[str]:
            with translated_errors(), worker.engine.connect() as conn:
                return lookup(conn, keys)

        return referenced

    deleted, kept = delete_orphans(
        worker.image_store, named_by(trades_repository.referenced_images), grace=grace
    )
    files_deleted, files_kept = delete_orphans(
        worker.image_store,
        named_by(imports_repository.referenced_files),
        grace=grace,
        kind=is_import_key,
    )
    counts = {"deleted": deleted, "kept": kept,
              "import_files_deleted": files_deleted, "import_files_kept": files_kept}  # fmt: skip
    log.info("orphan images cleaned", extra={"status": "done", **counts})
    return counts


@shared_task(name=TaskName.PURGE_TRAILS, base=FluxaTask, bind=True)
def purge_trails(self: FluxaTask) -> dict[str, int]:
    """Delete trail rows older than FLUXA_TRAIL_RETENTION_DAYS (events' and trade writes')."""
    settings = self.app.settings
    engine = services(settings).engine
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.trail_retention_days)
    deleted = {
        "event_trail": delete_older_than(engine, event_trail, event_trail.c.at, cutoff),
        "work_trail": delete_older_than(engine, work_trail, work_trail.c.at, cutoff),
    }
    log.info("old trails purged", extra={"status": "done", **deleted})
    return deleted


@shared_task(name=TaskName.MAINTAIN_EVENT_PARTITIONS, base=FluxaTask, bind=True)
def maintain_event_partitions(self: FluxaTask) -> dict[str, object]:
    """Make the week ahead's partitions of `events`; drop those past retention."""
    settings = self.app.settings
    engine, now = services(settings).engine, dt.datetime.now(dt.UTC)
    report = maintain(engine, settings.events_retention_days, now=now)
    with translated_errors(), engine.connect() as conn:
        late = lateness_now(conn, settings.events_retention_days, now)
    metrics.event_partitions_checked(settings, len(late))
    log.info(
        "event partitions maintained",
        extra={"status": "done", "late": late, **report.as_dict()},
    )
    return report.as_dict()
