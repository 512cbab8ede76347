"""Import tasks: run one import (stats queue), send again the imports left queued."""

from __future__ import annotations

import dataclasses
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
#: How many messages' worth of runs (each up to every retry) an import gets.
IMPORT_MESSAGES = 3


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
def sweep_imports(self: FluxaTask) -> dict[str, int]:
    """Send again imports left unfinished longer than a message may take to be received
    and run; fail those that began three messages' worth of runs and never finished."""
    settings = self.app.settings
    stale = dt.timedelta(seconds=settings.sqs_visibility_timeout + settings.task_time_limit)
    most = IMPORT_MESSAGES * (settings.retry_max_retries + 1)
    imports = services(settings).import_service(self.app)
    swept = imports.resend_stale(older_than=stale, max_attempts=most)
    if swept.sent:
        log.info("stale imports sent again", extra={"status": "published",
                                                    "published": swept.sent})  # fmt: skip
    return dataclasses.asdict(swept)
