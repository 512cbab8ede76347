"""Entry point of worker and beat processes: `celery -A workers.worker worker|beat`.

Settings are read here, once; a bad setting stops the process with one clear line.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from celery.exceptions import SecurityWarning
from celery.signals import setup_logging, worker_init, worker_ready, worker_shutdown

from config import load_settings
from config.logging import configure_logging
from fluxa.logcontext import ContextFilter
from workers.celery_app import make_worker_celery
from workers.heartbeat import Heartbeat
from workers.metrics import serve as serve_metrics

# Celery warns when a worker runs as root, which containers commonly do. Its concern is
# pickle, which Fluxa never accepts (JSON only: broker/app.py); run as another
# user where you can (docker/Dockerfile does).
warnings.filterwarnings("ignore", category=SecurityWarning)

settings = load_settings()
app = make_worker_celery(settings)


@setup_logging.connect
def _json_logging(**_: object) -> None:
    # Connecting this signal stops Celery from installing its own handlers.
    configure_logging(settings.log_level, "processor", filters=[ContextFilter()])


@worker_init.connect
def _metrics(**_: object) -> None:
    serve_metrics(settings)


_heartbeats: list[Heartbeat] = []


@worker_ready.connect
def _start_heartbeat(sender: object = None, **_: object) -> None:
    if settings.worker_heartbeat_file:
        heartbeat = Heartbeat(Path(settings.worker_heartbeat_file), sender)
        heartbeat.start()
        _heartbeats.append(heartbeat)


@worker_shutdown.connect
def _stop_heartbeat(**_: object) -> None:
    for heartbeat in _heartbeats:
        heartbeat.stop()
