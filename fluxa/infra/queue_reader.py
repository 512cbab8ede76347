"""Reading a whole SQS queue as AWS documents it, not as an emulator answers.

A short poll (`WaitTimeSeconds=0`) asks a sample of SQS's servers: on a small queue it
can come back empty while messages wait, so "the first empty receive" is no proof of an
empty queue. Here every receive long-polls (which asks all servers), and an empty one
ends the read only when SQS's own counts agree that nothing visible is left; otherwise
the read goes on, up to `patience` empty receives in a row, and says it stopped short.

The reader hides what it receives (`hide_seconds`) so that a message is seen once; what
the caller does with each batch (delete it, or make it visible again) is the caller's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from fluxa.infra.queues import QueueCounts, queue_counts

#: Seconds each receive may wait for a message (long polling asks every SQS server).
WAIT_SECONDS = 1
#: Empty receives in a row, while the counts still see messages, before a read gives up.
PATIENCE = 10


@dataclass
class QueueRead:
    """What a read of a queue saw, beside what SQS counted."""

    counts_at_start: QueueCounts
    received: int = 0
    #: SQS counted no visible message when the read ended (None while it runs, or when the
    #: caller stopped it early, e.g. at a limit).
    drained: bool | None = None
    counts_at_end: QueueCounts | None = None

    @property
    def shortfall(self) -> str | None:
        """A sentence for the operator when what was read and SQS's counts differ."""
        start = self.counts_at_start
        if self.drained is False and self.counts_at_end is not None:
            return (
                f"stopped after {PATIENCE} empty long polls while SQS still counted "
                f"{self.counts_at_end.visible} visible message(s): the read is incomplete "
                "(the counts lag up to a minute; run it again)"
            )
        if self.drained and start.in_flight:
            return (
                f"{start.in_flight} message(s) were in flight (held by another reader) "
                "and were not seen; they return when their visibility timeout ends"
            )
        return None


def read_batches(
    sqs: Any,
    url: str,
    read: QueueRead,
    *,
    hide_seconds: int,
    wait_seconds: int = WAIT_SECONDS,
    patience: int = PATIENCE,
) -> Iterator[list[dict[str, Any]]]:
    """Batches of received messages (each hidden for `hide_seconds`) until SQS counts the
    queue drained of visible messages, or `patience` empty receives in a row; `read`
    records which. A caller may stop iterating early (then `read.drained` stays None)."""
    empty = 0
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=hide_seconds,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if batch:
            empty = 0
            read.received += len(batch)
            yield batch
            continue
        counts = queue_counts(sqs, url)
        empty += 1
        if counts.visible == 0 or empty >= patience:
            read.counts_at_end = counts
            read.drained = counts.visible == 0
            return


def start_read(sqs: Any, url: str) -> QueueRead:
    """A read of `url`, with SQS's counts taken before its first receive."""
    return QueueRead(counts_at_start=queue_counts(sqs, url))


def read_each_once(
    sqs: Any,
    url: str,
    read: QueueRead,
    received: dict[str, dict[str, Any]],
    *,
    hide_seconds: int,
    limit: int | None = None,
    wait_seconds: int = WAIT_SECONDS,
    patience: int = PATIENCE,
) -> bool:
    """Fill `received` (message id → message) with every message of the queue, each once:
    a duplicate delivery replaces the first with its newer receipt handle. Reads as
    `read_batches` does, or until `limit` messages; returns whether the limit stopped it.
    What it hid stays in `received` even when a receive fails midway, for the caller to
    delete or `show` again."""
    for batch in read_batches(
        sqs, url, read, hide_seconds=hide_seconds, wait_seconds=wait_seconds, patience=patience
    ):
        for raw in batch:
            received[raw["MessageId"]] = raw
        if limit is not None and len(received) >= limit:
            return True
    return False


def show(sqs: Any, url: str, receipt_handle: str) -> None:
    """Make a hidden message visible again (a handle SQS no longer knows is ignored)."""
    with suppress(ClientError):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
        )
