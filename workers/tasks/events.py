"""Event processing task: verify, archive, persist; dead-letter poison events one by one."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from fluxa.errors import SchemaValidationError
from fluxa.events.processor import ProcessResult
from fluxa.logcontext import Stage
from fluxa.messages.tasks import TaskName
from workers.base import FluxaTask
from workers.dead_letter import dead_letter, delivery_of
from workers.metrics import events_done
from workers.services import services

log = logging.getLogger("fluxa.processor")


@shared_task(name=TaskName.PROCESS_EVENTS, base=FluxaTask, bind=True)
def process_events(self: FluxaTask, events: Any = None, **_unknown: Any) -> dict[str, int]:
    """Persist a message's events; each invalid event goes to the DLQ alone."""
    if not isinstance(events, list) or not events:
        raise SchemaValidationError("message has no list of events")
    processor = services(self.app.settings).event_processor
    delivery = delivery_of(self)
    result = processor.process(events, delivery)
    _report(result)
    events_done(
        self.app.settings,
        persisted=len(result.inserted),
        duplicates=len(result.already_present),
        dead_lettered=len(result.rejected),
    )
    for rejected in result.rejected:
        dead_letter(
            self,
            error_code=rejected.error.code,
            error_message=rejected.error.message,
            kwargs={"events": [rejected.raw]},
            whole_message=False,
        )
        log.error(
            "event dead-lettered",
            extra={
                "stage": Stage.PROCESS,
                "status": "dead_lettered",
                "event_id": rejected.event_id,
                "error_code": rejected.error.code.value,
            },
        )
    # The trail after the sends: a send that fails retries the message, and a trail row
    # written first would then be written twice (one dead letter listed twice by trace).
    processor.record_dead_letters(result.rejected, delivery)
    return {
        "inserted": len(result.inserted),
        "already_present": len(result.already_present),
        "rejected": len(result.rejected),
    }


def _report(result: ProcessResult) -> None:
    for event in result.inserted:
        log.info(
            "Successfully processed event",
            extra={
                "stage": Stage.PERSIST,
                "status": "persisted",
                "event_id": event.event_id,
                "correlation_id": event.message.get("correlation_id"),
            },
        )
    for event_id in result.already_present:
        log.info(
            "event already persisted",
            extra={"stage": Stage.PERSIST, "status": "duplicate", "event_id": event_id},
        )
