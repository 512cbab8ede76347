"""The worker's Celery app: the client app of `broker.app` with the task modules, the beat
schedule and the transport's list of the tasks this worker runs."""

from __future__ import annotations

from typing import Any

from celery import Celery

from broker.app import FluxaCelery, is_sqs, make_celery
from broker.sqs_transport import KNOWN_TASKS_OPTION, LEASE_OPTION, RegisteredTasks
from config import Settings
from workers.schedule import beat_schedule

TASK_MODULES = [
    "workers.tasks.events",
    "workers.tasks.stats",
    "workers.tasks.maintenance",
    "workers.tasks.imports",
]


def make_worker_celery(settings: Settings, *, urls: dict[str, str] | None = None) -> FluxaCelery:
    """The app a worker or beat runs: every task module included."""
    app = make_celery(settings, urls=urls)
    app.conf.include = TASK_MODULES
    app.on_after_finalize.connect(_admit_known_tasks, weak=False)
    if is_sqs(settings):  # what it receives is leased, and renewed while held
        app.conf.broker_transport_options[LEASE_OPTION] = settings.sqs_lease_seconds
    app.conf.update(
        beat_schedule=beat_schedule(settings),
        # One leader among beats (a lease in PostgreSQL); see workers/beat.py.
        beat_scheduler="workers.beat:LeaderElectedScheduler",
        beat_max_loop_interval=10,
    )
    return app


def _admit_known_tasks(sender: Celery, **_: Any) -> None:
    """Tell the SQS transport which task names this worker runs (others are malformed)."""
    sender.conf.broker_transport_options[KNOWN_TASKS_OPTION] = RegisteredTasks(sender.tasks)
