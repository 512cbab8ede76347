"""Every stage of an event id or a correlation id: the event trail and the work trail (a
trade write's stages) in PostgreSQL, and what still waits in a dead-letter queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from config import Settings
from fluxa.dlq.operations import peek
from fluxa.events import trail
from fluxa.trades import trail as trade_trail


def trace(
    settings: Settings, engine: Engine, sqs: Any, urls: dict[str, str], identifier: str
) -> list[dict[str, Any]]:
    """The recorded stages, then the dead letters that mention `identifier`."""
    with engine.connect() as conn:
        stages = trail.read(conn, identifier)
        stages += [_work_stage(row) for row in trade_trail.read(conn, identifier)]
    waiting = [
        {"event_id": letter.subject, "stage": "in_dead_letter_queue", "at": None,
         "error_code": letter.error_code, "queue": name, "task_id": letter.task.task_id}
        for name in (settings.dead_letter_queue, settings.stats_dead_letter_queue)
        for letter in peek(sqs, urls[name]).letters
        if letter.task and identifier in (letter.body or "")
    ]  # fmt: skip
    return [*stages, *waiting]


def _work_stage(row: dict[str, Any]) -> dict[str, Any]:
    """A work-trail row in the shape of an event stage (its subject in place of an event)."""
    return {
        "event_id": None,
        "subject": row["subject"],
        "correlation_id": row["correlation_id"],
        "stage": row["stage"],
        "at": row["at"],
        "error_code": None,
        "task_id": None,
        "detail": row["detail"],
    }
