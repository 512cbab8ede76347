"""The SQS queue topology (architecture §3) and queue URL resolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config import Settings

DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class QueueSpec:
    """A queue and the dead-letter queue its redrive policy points at (None for a DLQ)."""

    name: str
    dead_letter: str | None

    @property
    def is_dead_letter(self) -> bool:
        return self.dead_letter is None


def topology(settings: Settings) -> list[QueueSpec]:
    """Every queue Fluxa sends to or reads from; dead-letter queues first."""
    return [
        QueueSpec(settings.dead_letter_queue, None),
        QueueSpec(settings.stats_dead_letter_queue, None),
        QueueSpec(settings.input_queue, settings.dead_letter_queue),
        QueueSpec(settings.stats_queue, settings.stats_dead_letter_queue),
        QueueSpec(settings.maintenance_queue, settings.dead_letter_queue),
    ]


def source_queues(settings: Settings) -> list[str]:
    """The queues workers consume."""
    return [spec.name for spec in topology(settings) if not spec.is_dead_letter]


def queue_urls(settings: Settings, sqs: Any) -> dict[str, str]:
    """URL of every queue: from FLUXA_SQS_QUEUE_URL_PREFIX, else one GetQueueUrl each."""
    names = [spec.name for spec in topology(settings)]
    if settings.sqs_queue_url_prefix:
        return {name: f"{settings.sqs_queue_url_prefix}/{name}" for name in names}
    return {name: sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in names}


@dataclass(frozen=True)
class QueueCounts:
    """SQS's approximate counts of a queue: receivable now, and taken but not deleted."""

    visible: int
    in_flight: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight


def queue_counts(sqs: Any, url: str) -> QueueCounts:
    """The queue's counts, in one GetQueueAttributes."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return QueueCounts(
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def visible_count(sqs: Any, url: str) -> int:
    """How many messages a queue holds that a reader could receive now (approximate)."""
    return queue_counts(sqs, url).visible
