"""Queries and waits shared by the integration tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from broker.app import make_celery
from cli.main import main
from fluxa.events.models import events
from fluxa.messages.taskmessage import TaskMessage
from launcher.waiting import wait_until
from tests.support.sqs import receive_all


def rows_for(engine: Engine, *, source: str | None = None, ids: list[str] | None = None) -> list:
    query = select(events)
    if source is not None:
        query = query.where(events.c.source == source)
    if ids is not None:
        query = query.where(events.c.event_id.in_(ids))
    with engine.connect() as conn:
        return list(conn.execute(query))


def count_rows(engine: Engine, event_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(events).where(events.c.event_id == event_id)
        ).scalar_one()


def wait_for_rows(engine: Engine, ids: list[str], timeout: float = 30) -> list:
    return wait_until(
        lambda: (rows := rows_for(engine, ids=ids)) and len(rows) == len(ids) and rows,
        timeout=timeout,
        what=f"rows for {ids}",
    )


def dead_letters_for(sqs: Any, url: str, event_id: str) -> list[TaskMessage]:
    """DLQ messages carrying `event_id` (left in the queue)."""
    return [
        m
        for m in receive_all(sqs, url)
        if any(
            e.get("event_id") == event_id for e in m.kwargs.get("events", []) if isinstance(e, dict)
        )
    ]


def dead_tasks_for(sqs: Any, url: str, event_id: str) -> set[str]:
    """The task ids of the DLQ messages carrying `event_id` (copies of one task count once:
    SQS delivers at least once, so a worker may dead-letter one message twice)."""
    return {letter.task_id for letter in dead_letters_for(sqs, url, event_id)}


def wait_for_dead_letter(sqs: Any, url: str, event_id: str, timeout: float = 40) -> TaskMessage:
    found = wait_until(
        lambda: dead_letters_for(sqs, url, event_id),
        timeout=timeout,
        interval=0.5,
        what=f"a dead letter for {event_id}",
    )
    tasks = {letter.task_id for letter in found}  # copies of one task allowed, not two tasks
    assert len(tasks) == 1, f"expected one dead task for {event_id}, got {tasks}"
    return found[0]


def worker_lines(worker: Any, **match: Any) -> list[dict[str, Any]]:
    """Worker log lines whose fields equal `match`."""
    return [line for line in worker.log_lines() if all(line.get(k) == v for k, v in match.items())]


def run_task(settings: Any, queue: str, name: str) -> None:
    """Send `name` as beat would, to the dedicated maintenance queue `queue`."""
    sender = make_celery(dataclasses.replace(settings, maintenance_queue=queue))
    sender.send_task(name, queue=queue)


def fluxa(environ: dict[str, str], *args: str) -> str:
    """Run `fluxa ARGS` in-process with `environ`; its output (a non-zero exit fails)."""
    result = CliRunner(env=environ).invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output
