"""Inspect (read, leave in place) and replay (send to the source queue, then delete)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fluxa.dlq.claims import refresh_claims
from fluxa.dlq.envelope import is_replayable
from fluxa.dlq.letters import UNDECODABLE, DeadLetter, from_sqs, with_replay_mark
from fluxa.infra.queue_reader import QueueRead, read_batches, read_each_once, show, start_read
from fluxa.infra.storage import S3ObjectStore

#: How long a tool hides what it has read. A DLQ has no consumer, so a long hide harms
#: nothing, and a read of thousands of letters ends long before it (each is seen once).
HIDE_SECONDS = 300


@dataclass
class Inspection:
    """The letters a peek read (each once), and how the read ended beside SQS's counts."""

    letters: list[DeadLetter]
    read: QueueRead
    limited: bool  # stopped at the caller's limit


def peek(sqs: Any, url: str, limit: int | None = None) -> Inspection:
    """Up to `limit` messages of the queue, made visible again at once (nothing consumed).

    Reads until SQS counts the queue drained (`fluxa.infra.queue_reader`), so a short
    poll that samples too few servers never passes for an empty DLQ.
    """
    read = start_read(sqs, url)
    received: dict[str, dict[str, Any]] = {}
    try:
        limited = read_each_once(sqs, url, read, received, hide_seconds=HIDE_SECONDS, limit=limit)
    finally:
        for raw in received.values():
            show(sqs, url, raw["ReceiptHandle"])
    letters = [from_sqs(raw) for raw in received.values()]
    return Inspection(letters[:limit] if limit is not None else letters, read, limited)


@dataclass
class ReplayReport:
    moved: Counter = field(default_factory=Counter)
    left: Counter = field(default_factory=Counter)
    dry_run: bool = False
    #: Letters left because a claim-checked payload they name is gone (message ids).
    payload_missing: list[str] = field(default_factory=list)
    read: QueueRead | None = None
    #: Second copies of a task already sent back (a worker may dead-letter one message
    #: twice: SQS delivers at least once), deleted rather than sent again.
    copies: int = 0

    @property
    def examined(self) -> int:
        """Messages looked at so far (moved, left, or folded as copies)."""
        return sum(self.moved.values()) + sum(self.left.values()) + self.copies


def task_key(letter: DeadLetter) -> str | None:
    """What makes two dead letters copies of one task: its name, id, arguments and error
    code (not the rest of the envelope, which records when each copy failed). None for
    a body that is not a Celery message."""
    task = letter.task
    if task is None:
        return None
    parts = [task.task, task.task_id, task.args, task.kwargs, letter.error_code]
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(
    sqs: Any,
    dlq_url: str,
    source_url_for: Callable[[DeadLetter], str | None],
    *,
    error_code: str | None = None,
    max_messages: int | None = None,
    dry_run: bool = False,
    claims: S3ObjectStore | None = None,
    on_progress: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """Move replayable messages back to their source queue: send, then delete.

    A crash between the two leaves a duplicate, never a loss (processing is
    idempotent). HashMismatch and SchemaValidation are never moved, whatever the
    arguments; nor is a body that is not a Celery message. With `claims` (the payload
    bucket), the claim-checked payloads a letter names are kept alive for the stay the
    replay starts (`fluxa.dlq.claims`), and a letter whose payload is gone stays.
    Messages left behind are made visible again when the run ends. The read goes on
    until SQS counts the DLQ drained (`report.read` says how it ended); each message is
    examined once. Copies of a task sent back in this run are deleted, not sent again
    (`report.copies`): `max_messages` counts tasks. `on_progress` sees the report after
    each batch.
    """
    report = ReplayReport(dry_run=dry_run, read=start_read(sqs, dlq_url))
    held: dict[str, str] = {}  # message id → newest receipt handle
    moved: set[str] = set()  # message ids
    sent: set[str] = set()  # task keys
    try:
        for batch in read_batches(sqs, dlq_url, report.read, hide_seconds=HIDE_SECONDS):
            for raw in batch:
                message_id, handle = raw["MessageId"], raw["ReceiptHandle"]
                if message_id in held:  # seen (a duplicate delivery, or the hide ran out)
                    held[message_id] = handle
                elif message_id in moved:  # a copy SQS kept despite the delete: sent already
                    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=handle)
                elif _examine(sqs, dlq_url, from_sqs(raw), sent, report, source_url_for,
                              claims, error_code=error_code, max_messages=max_messages) \
                        and not dry_run:  # fmt: skip
                    moved.add(message_id)
                else:
                    held[message_id] = handle
            if on_progress:
                on_progress(report)
    finally:
        for handle in held.values():
            show(sqs, dlq_url, handle)
    return report


def _examine(
    sqs: Any,
    dlq_url: str,
    letter: DeadLetter,
    sent: set[str],
    report: ReplayReport,
    source_url_for: Callable[[DeadLetter], str | None],
    claims: S3ObjectStore | None,
    **limits: Any,
) -> bool:
    """Whether `letter` leaves the DLQ (or would, on a dry run): sent back, or deleted as
    a copy of a task this run sent back. Counted in `report` either way."""
    key = task_key(letter) or letter.message_id
    if key in sent:
        report.copies += 1
        if not report.dry_run:
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle)
        return True
    if not _move(sqs, dlq_url, letter, source_url_for, claims, report, **limits):
        return False
    sent.add(key)
    return True


def _move(
    sqs: Any,
    dlq_url: str,
    letter: DeadLetter,
    source_url_for: Callable[[DeadLetter], str | None],
    claims: S3ObjectStore | None,
    report: ReplayReport,
    *,
    error_code: str | None,
    max_messages: int | None,
) -> bool:
    """Send `letter` back and delete it from the DLQ (on a dry run, only say it would);
    False when it stays. Counted in `report`."""
    target = _target(letter, source_url_for, error_code, max_messages, report)
    if target is None or report.dry_run:
        (report.moved if target else report.left)[letter.error_code] += 1
        return target is not None
    if claims is not None and refresh_claims(claims, letter):
        report.left[letter.error_code] += 1
        report.payload_missing.append(letter.message_id)
        return False
    queue = target.rsplit("/", 1)[-1]  # an SQS queue URL ends with its name
    sqs.send_message(QueueUrl=target, MessageBody=with_replay_mark(letter.body, queue))
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle)
    report.moved[letter.error_code] += 1
    return True


def _target(
    letter: DeadLetter,
    source_url_for: Callable[[DeadLetter], str | None],
    error_code: str | None,
    max_messages: int | None,
    report: ReplayReport,
) -> str | None:
    """Where `letter` goes back to, or None when it stays in the DLQ."""
    code = letter.error_code
    if code == UNDECODABLE or letter.task is None or not is_replayable(code):
        return None
    if error_code is not None and code != error_code:
        return None
    if max_messages is not None and sum(report.moved.values()) >= max_messages:
        return None
    return source_url_for(letter)
