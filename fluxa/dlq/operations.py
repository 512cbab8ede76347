"""Inspect (read, leave in place) and replay (send to the source queue, then delete)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from fluxa.dlq.claims import refresh_claims
from fluxa.dlq.envelope import is_replayable
from fluxa.dlq.letters import UNDECODABLE, DeadLetter, from_sqs, with_replay_mark
from fluxa.infra.queue_reader import QueueRead, read_batches, start_read
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
    letters: dict[str, DeadLetter] = {}
    limited = False
    try:
        for batch in read_batches(sqs, url, read, hide_seconds=HIDE_SECONDS):
            for raw in batch:
                letters[raw["MessageId"]] = from_sqs(raw)  # the newest handle of a duplicate
            if limit is not None and len(letters) >= limit:
                limited = True
                break
    finally:
        for letter in letters.values():
            _show(sqs, url, letter.receipt_handle)
    kept = list(letters.values())
    return Inspection(kept[:limit] if limit is not None else kept, read, limited)


def _show(sqs: Any, url: str, receipt_handle: str) -> None:
    """Make a hidden message visible again (a handle SQS no longer knows is ignored)."""
    with suppress(ClientError):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
        )


@dataclass
class ReplayReport:
    moved: Counter = field(default_factory=Counter)
    left: Counter = field(default_factory=Counter)
    dry_run: bool = False
    #: Letters left because a claim-checked payload they name is gone (message ids).
    payload_missing: list[str] = field(default_factory=list)
    read: QueueRead | None = None

    @property
    def examined(self) -> int:
        """Messages looked at so far (moved or left)."""
        return sum(self.moved.values()) + sum(self.left.values())


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
    examined once. `on_progress` sees the report after each batch.
    """
    report = ReplayReport(dry_run=dry_run, read=start_read(sqs, dlq_url))
    held: dict[str, str] = {}  # message id → newest receipt handle
    moved: set[str] = set()
    try:
        for batch in read_batches(sqs, dlq_url, report.read, hide_seconds=HIDE_SECONDS):
            for raw in batch:
                message_id, handle = raw["MessageId"], raw["ReceiptHandle"]
                if message_id in held:  # seen (a duplicate delivery, or the hide ran out)
                    held[message_id] = handle
                elif message_id in moved:  # a copy SQS kept despite the delete: sent already
                    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=handle)
                elif _move(sqs, dlq_url, from_sqs(raw), source_url_for, claims, report,
                           error_code=error_code, max_messages=max_messages):  # fmt: skip
                    moved.add(message_id)
                else:
                    held[message_id] = handle
            if on_progress:
                on_progress(report)
    finally:
        for handle in held.values():
            _show(sqs, dlq_url, handle)
    return report


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
    """Send `letter` back and delete it from the DLQ; False when it stays (counted)."""
    target = _target(letter, source_url_for, error_code, max_messages, report)
    if target is None or report.dry_run:
        (report.moved if target else report.left)[letter.error_code] += 1
        return False
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
