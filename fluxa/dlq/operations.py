"""Inspect (read, leave in place) and replay (send to the source queue, then delete)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fluxa.dlq.envelope import is_replayable
from fluxa.dlq.letters import UNDECODABLE, DeadLetter, from_sqs, with_replay_mark

HIDE_SECONDS = 30


def peek(sqs: Any, url: str, limit: int | None = None) -> list[DeadLetter]:
    """Up to `limit` messages of the queue, made visible again at once (nothing consumed)."""
    letters: dict[str, DeadLetter] = {}
    while limit is None or len(letters) < limit:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10 if limit is None else min(10, limit - len(letters)),
            VisibilityTimeout=HIDE_SECONDS,
            WaitTimeSeconds=0,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        for raw in batch:
            letters.setdefault(raw["MessageId"], from_sqs(raw))
    for letter in letters.values():
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
        )
    return list(letters.values())


def counts_by_code(letters: list[DeadLetter]) -> dict[str, int]:
    return dict(Counter(letter.error_code for letter in letters))


@dataclass
class ReplayReport:
    moved: Counter = field(default_factory=Counter)
    left: Counter = field(default_factory=Counter)
    dry_run: bool = False

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
    on_progress: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """Move replayable messages back to their source queue: send, then delete.

    A crash between the two leaves a duplicate, never a loss (processing is
    idempotent). HashMismatch and SchemaValidation are never moved, whatever the
    arguments; nor is a body that is not a Celery message. Messages left behind are
    made visible again when the run ends. `on_progress` sees the report after each batch.
    """
    report = ReplayReport(dry_run=dry_run)
    held: list[str] = []
    try:
        while True:
            batch = sqs.receive_message(
                QueueUrl=dlq_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=HIDE_SECONDS,
                WaitTimeSeconds=0,
                AttributeNames=["ApproximateReceiveCount"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return report
            for raw in batch:
                letter = from_sqs(raw)
                target = _target(letter, source_url_for, error_code, max_messages, report)
                if target is None or dry_run:
                    held.append(letter.receipt_handle)
                    (report.moved if target else report.left)[letter.error_code] += 1
                    continue
                queue = target.rsplit("/", 1)[-1]  # an SQS queue URL ends with its name
                sqs.send_message(QueueUrl=target, MessageBody=with_replay_mark(letter.body, queue))
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle)
                report.moved[letter.error_code] += 1
            if on_progress:
                on_progress(report)
    finally:
        for handle in held:
            sqs.change_message_visibility(
                QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0
            )


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
