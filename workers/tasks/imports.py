"""Import tasks: run one import (stats queue), send again the imports left queued."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from fluxa.errors import SchemaValidationError
from fluxa.imports.record import is_import_id
from fluxa.logcontext import Stage
from fluxa.messages.tasks import TaskName
from workers.base import FluxaTask
from workers.services import services

log = logging.getLogger("fluxa.imports")


@shared_task(name=TaskName.RUN_IMPORT, base=FluxaTask, bind=True)
def run_import(self: FluxaTask, import_id: str | None = None) -> dict[str, object]:
    """Read an uploaded file and turn its fills into trades (`fluxa.imports.runner`)."""
    if not isinstance(import_id, str) or not is_import_id(import_id):
        raise SchemaValidationError("message names no import_id")
    record = services(self.app.settings).import_runner(self.app).run(import_id)
    if record is None:
        log.info("import gone", extra={"stage": Stage.PERSIST, "import_id": import_id,
                                       "status": "skipped"})  # fmt: skip
        return {"import_id": import_id, "status": "gone"}
    counts = record.counts
    log.info(
        "import finished",
        extra={
            "stage": Stage.PERSIST, "import_id": import_id, "user_id": record.user_id,
            "status": record.status.value, "fills": counts.fills,
            "trades_created": counts.trades_created, "trades_updated": counts.trades_updated,
            "duplicates_skipped": counts.duplicates_skipped,
            "rejected_rows": counts.rejected_rows,
        },
    )  # fmt: skip
    return {"import_id": import_id, "status": record.status.value}


@shared_task(name=TaskName.SWEEP_IMPORTS, base=FluxaTask, bind=True)
def sweep_imports(self: FluxaTask) -> int:
    """Send again imports queued longer than a message may take to be received."""
    settings = self.app.settings
    stale = dt.timedelta(seconds=settings.sqs_visibility_timeout + settings.task_time_limit)
    sent = services(settings).import_service(self.app).resend_stale(older_than=stale)
    if sent:
        log.info("stale imports sent again", extra={"status": "published", "published": sent})
    return sent
