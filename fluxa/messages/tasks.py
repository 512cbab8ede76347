"""Task names, message headers, and the publishing interface the API sends work through.

Tasks are sent by name, so senders never import the task code (or Celery).
"""

from __future__ import annotations

from typing import Any, Protocol


class TaskName:
    """Registered names of Fluxa's Celery tasks."""

    PROCESS_EVENTS = "fluxa.events.process"
    REBUILD_USER_STATS = "fluxa.stats.rebuild_user_stats"
    REBUILD_ALL_STATS = "fluxa.stats.rebuild_all_stats"
    SWEEP_STATS_OUTBOX = "fluxa.stats.sweep_outbox"
    PURGE_IDEMPOTENCY_KEYS = "fluxa.maintenance.purge_idempotency_keys"
    CLEANUP_ORPHAN_IMAGES = "fluxa.maintenance.cleanup_orphan_images"
    PURGE_TRAILS = "fluxa.maintenance.purge_trails"
    MAINTAIN_EVENT_PARTITIONS = "fluxa.maintenance.maintain_event_partitions"
    RUN_IMPORT = "fluxa.imports.run"
    SWEEP_IMPORTS = "fluxa.imports.sweep"


#: Celery message header that carries the correlation id from HTTP into tasks.
CORRELATION_HEADER = "fluxa_correlation_id"
#: Celery message header: when the API enqueued the message (ISO 8601), for the trail.
ENQUEUED_AT_HEADER = "fluxa_enqueued_at"
#: Celery message header that carries the dead-letter envelope (architecture §4).
DEAD_LETTER_HEADER = "fluxa_dead_letter"


class TaskPublisher(Protocol):
    """Sends a task message by name; raises `BrokerUnavailable` when the broker refuses it."""

    def publish(
        self,
        task_name: str,
        kwargs: dict[str, Any],
        *,
        queue: str,
        headers: dict[str, Any],
        countdown: float | None = None,
    ) -> str:
        """Send (to be delivered `countdown` seconds from now) and return the task id."""
        ...
