"""What `fluxa dlq inspect` shows of dead letters, and where a replay sends each one."""

from __future__ import annotations

from collections import Counter
from typing import Any

from config import Settings
from fluxa.dlq.letters import DeadLetter
from fluxa.dlq.operations import Inspection, task_key
from fluxa.dlq.runbook import action_for
from fluxa.infra.queues import topology


def dlq_name(settings: Settings, which: str) -> str:
    """The DLQ named by `which` (`events` or `stats`)."""
    return settings.dead_letter_queue if which == "events" else settings.stats_dead_letter_queue


def summary(letter: DeadLetter) -> dict[str, Any]:
    """One dead letter as the operator reads it: code, subject, attempts, action."""
    envelope, task = letter.envelope, letter.task
    return {
        "message_id": letter.message_id,
        "error_code": letter.error_code,
        "subject": letter.subject,
        "task": task.task if task else None,
        "task_id": task.task_id if task else None,
        "correlation_id": task.correlation_id if task else None,
        "attempts": envelope.attempts if envelope else letter.receive_count,
        "first_failed_at": envelope.first_failed_at if envelope else None,
        "last_failed_at": envelope.last_failed_at if envelope else None,
        "replay_count": envelope.replay_count if envelope else 0,
        "error_message": envelope.error_message
        if envelope
        else letter.attributes.get("fluxa_error_message"),
        "action": action_for(letter.error_code),
    }


def copies(letters: list[DeadLetter]) -> int:
    """How many letters repeat a task another letter carries (a replay sends it once)."""
    keys = [key for letter in letters if (key := task_key(letter)) is not None]
    return len(keys) - len(set(keys))


def inspection(queue: str, seen: Inspection) -> dict[str, Any]:
    """Counts by code and a summary of each sampled letter, beside SQS's own counts and,
    when the two differ, why (`warning`)."""
    letters, start = seen.letters, seen.read.counts_at_start
    return {
        "queue": queue,
        "sampled": len(letters),
        "complete": bool(seen.read.drained) and not seen.limited,
        "sqs_counts": {"visible": start.visible, "in_flight": start.in_flight},
        "warning": seen.read.shortfall,
        "counts": dict(Counter(letter.error_code for letter in letters)),
        "copies": copies(letters),
        "messages": [summary(letter) for letter in letters],
    }


def source_router(settings: Settings, urls: dict[str, str], which: str) -> Any:
    """A function giving the URL a letter of this DLQ is replayed to: the queue its
    envelope names, if that queue feeds this DLQ, else the DLQ's main source queue."""
    name = dlq_name(settings, which)
    sources = {spec.name for spec in topology(settings) if spec.dead_letter == name}
    default = settings.input_queue if which == "events" else settings.stats_queue

    def source_url(letter: DeadLetter) -> str:
        envelope = letter.envelope
        origin = envelope.source_queue if envelope and envelope.source_queue in sources else None
        return urls[origin or default]

    return source_url
