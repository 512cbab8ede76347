"""Every stage of an event id or a correlation id: the event trail in PostgreSQL, and
what still waits in a dead-letter queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from config import Settings
from fluxa.dlq.operations import peek
from fluxa.events import trail


def trace(
    settings: Settings, engine: Engine, sqs: Any, urls: dict[str, str], identifier: str
) -> list[dict[str, Any]]:
    """The recorded stages, then the dead letters that mention `identifier`."""
    with engine.connect() as conn:
        stages = trail.read(conn, identifier)
    waiting = [
        {"event_id": letter.subject, "stage": "in_dead_letter_queue", "at": None,
         "error_code": letter.error_code, "queue": name, "task_id": letter.task.task_id}
        for name in (settings.dead_letter_queue, settings.stats_dead_letter_queue)
        for letter in peek(sqs, urls[name])
        if letter.task and identifier in (letter.body or "")
    ]  # fmt: skip
    return [*stages, *waiting]
