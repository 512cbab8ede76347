"""JSON logging for every Fluxa process."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

#: The record attribute rendered as a line's `_aws` member (CloudWatch's Embedded Metric
#: Format): the formatter drops attributes whose names start with "_", so it is renamed.
EMF_RECORD_KEY = "aws_embedded_metrics"


class _ServiceFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "service"):
            record.service = self.service
        return True


def configure_logging(
    level: str, service: str, filters: Iterable[logging.Filter] = (), stream=None
) -> None:
    """Send every log record to `stream` (stderr) as one JSON object per line.

    `service` names the process in every line; `filters` add bound context
    (correlation id, event id, stage) supplied by the caller.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger", EMF_RECORD_KEY: "_aws"},
            timestamp=True,
        )
    )
    handler.addFilter(_ServiceFilter(service))
    for extra in filters:
        handler.addFilter(extra)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # billiard (Celery's pool) logs to "multiprocessing", which does not propagate: without
    # a handler its lines would reach stderr as plain text through logging's last resort.
    logging.getLogger("multiprocessing").handlers[:] = [handler]
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
