"""Entry point of worker and beat processes: `celery -A workers.worker worker|beat`.

Settings are read here, once; a bad setting stops the process with one clear line.
"""

from __future__ import annotations

from celery.signals import setup_logging, worker_init

from config import load_settings
from config.logging import configure_logging
from fluxa.logcontext import ContextFilter
from workers.celery_app import make_celery
from workers.metrics import serve as serve_metrics

settings = load_settings()
app = make_celery(settings, include_tasks=True)


@setup_logging.connect
def _json_logging(**_: object) -> None:
    # Connecting this signal stops Celery from installing its own handlers.
    configure_logging(settings.log_level, "processor", filters=[ContextFilter()])


@worker_init.connect
def _metrics(**_: object) -> None:
    serve_metrics(settings)
