"""The Celery app in client mode, configured for SQS as production needs it.

`workers.celery_app` builds the worker's app on top of this one (tasks, beat).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from broker.sqs_transport import DEAD_LETTER_URLS_OPTION
from config import Settings
from fluxa.infra.aws import sqs_client
from fluxa.infra.queues import queue_urls, topology
from fluxa.messages.tasks import TaskName


class FluxaCelery(Celery):
    """A Celery app that carries the process's settings for its tasks."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__("fluxa", **kwargs)
        self.settings = settings

    def dead_letter_queue_for(self, queue: str | None) -> str:
        """The DLQ that messages of `queue` go to (the events DLQ when unknown)."""
        for spec in topology(self.settings):
            if spec.name == queue and spec.dead_letter:
                return spec.dead_letter
        return self.settings.dead_letter_queue


def is_sqs(settings: Settings) -> bool:
    return (settings.broker_url or "").startswith("sqs://")


def broker_url(settings: Settings) -> str:
    """The broker URL; a bare `sqs://` points at the SQS endpoint override when one is set."""
    url = settings.broker_url or ""
    if url == "sqs://" and settings.sqs_endpoint_url:
        endpoint = urlsplit(settings.sqs_endpoint_url)
        return f"sqs://@{endpoint.netloc}"
    return url


def sqs_transport_options(settings: Settings, urls: dict[str, str]) -> dict[str, Any]:
    """kombu SQS options: predefined queues only, plain JSON bodies, short client timeouts,
    and where `broker.sqs_transport` sends malformed messages."""
    secure = urlsplit(settings.sqs_endpoint_url or "https://aws").scheme == "https"
    return {
        DEAD_LETTER_URLS_OPTION: {
            spec.name: urls[spec.dead_letter]
            for spec in topology(settings)
            if spec.dead_letter and spec.dead_letter in urls
        },
        "region": settings.aws_region,
        "predefined_queues": {name: {"url": url} for name, url in urls.items()},
        "visibility_timeout": settings.sqs_visibility_timeout,
        "wait_time_seconds": settings.sqs_wait_time_seconds,
        # Also how often a worker whose prefetch slots are all taken looks again: at
        # 0.2 s two slots capped a worker at ~10 messages/s, whatever the task time.
        # No request is made then, and an empty queue is long-polled anyway.
        "polling_interval": 0.01,
        "is_secure": secure,
        # No base64 around bodies: ~25% smaller messages, fewer claim checks.
        "sqs_base64_encoding": False,
        "body_encoding": None,
        "client-config": {"connect_timeout": 3, "read_timeout": 25, "retries": {"max_attempts": 2}},
    }


def task_routes(settings: Settings) -> dict[str, dict[str, str]]:
    """Which queue each task is sent to (architecture §3)."""
    return {
        TaskName.PROCESS_EVENTS: {"queue": settings.input_queue},
        TaskName.REBUILD_USER_STATS: {"queue": settings.stats_queue},
        TaskName.REBUILD_ALL_STATS: {"queue": settings.maintenance_queue},
        TaskName.SWEEP_STATS_OUTBOX: {"queue": settings.maintenance_queue},
        TaskName.PURGE_IDEMPOTENCY_KEYS: {"queue": settings.maintenance_queue},
        TaskName.CLEANUP_ORPHAN_IMAGES: {"queue": settings.maintenance_queue},
        TaskName.RUN_IMPORT: {"queue": settings.stats_queue},
        TaskName.SWEEP_IMPORTS: {"queue": settings.maintenance_queue},
    }


def make_celery(settings: Settings, *, urls: dict[str, str] | None = None) -> FluxaCelery:
    """Build the app that sends tasks by name (the API, the CLI, the workers' own sends).

    With SQS, queue URLs are resolved once here (or taken from `urls`), so that
    nothing calls ListQueues or CreateQueue at run time.
    """
    settings.require("broker_url")
    app = FluxaCelery(settings)
    transport_options: dict[str, Any] = {}
    if is_sqs(settings):
        urls = urls or queue_urls(settings, sqs_client(settings))
        transport_options = sqs_transport_options(settings, urls)
    app.conf.update(
        broker_url=broker_url(settings),
        # On SQS, kombu's transport with acknowledgements deleted in batches.
        broker_transport="broker.sqs_transport:Transport" if is_sqs(settings) else None,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        task_default_queue=settings.input_queue,
        task_routes=task_routes(settings),
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_backend=None,
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A failure our policy did not handle (e.g. the DLQ itself unreachable) must
        # not delete the message: SQS redelivers it, and its redrive policy ends a loop.
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=settings.worker_prefetch_multiplier,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, int(settings.task_time_limit * 0.9)),
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1.0,
        },
        # SQS has no broadcast: remote control and events would create extra queues.
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        enable_utc=True,
        timezone="UTC",
    )
    return app
