"""The base task: correlation id from the message headers, structured logs, retry or DLQ."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import time
from typing import Any

from celery import Task
from celery.exceptions import Retry

from broker.delay import delay_options
from fluxa import logcontext
from fluxa.errors import ErrorCode, MalformedMessageError, classify
from fluxa.logcontext import Stage
from fluxa.messages.tasks import CORRELATION_HEADER
from workers.dead_letter import FIRST_FAILED_HEADER, dead_letter, task_headers
from workers.metrics import task_finished
from workers.retry_policy import RetryPolicy

log = logging.getLogger("fluxa.worker")


class FluxaTask(Task):
    """Runs the task body with its context bound, and applies the failure policy.

    Transient errors retry with backoff and jitter; anything that cannot succeed,
    or still fails when the retries are spent, is dead-lettered with its error
    code and the message acknowledged. Nothing is dropped.
    """

    abstract = True
    typing = False
    # The retry budget is RetryPolicy's (from settings), not Celery's default of 3.
    max_retries = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        headers = task_headers(self)
        logcontext.clear()
        logcontext.bind(
            service="processor",
            correlation_id=headers.get(CORRELATION_HEADER),
            task=self.name,
            task_id=self.request.id,
            attempt=self.request.retries + 1,
        )
        started = time.monotonic()
        log.info("task started", extra={"stage": Stage.PROCESS, "status": "started"})
        try:
            self._check_call(args, kwargs)
            result = self.run(*args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            return self._handle_failure(exc, started)
        log.info(
            "task succeeded",
            extra={"stage": Stage.PROCESS, "status": "succeeded", "latency_ms": _ms(started)},
        )
        task_finished(self.app.settings, self.name, "succeeded", time.monotonic() - started)
        return result

    def _check_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """A message whose arguments do not fit the task is malformed, not a bug to retry."""
        try:
            _signature(self.run).bind(*args, **kwargs)
        except TypeError as exc:
            raise MalformedMessageError(f"arguments do not fit {self.name}: {exc}") from exc

    def _handle_failure(self, exc: Exception, started: float) -> None:
        code, retryable = classify(exc)
        policy = RetryPolicy.from_settings(self.app.settings)
        fields = {"stage": Stage.PROCESS, "error_code": code.value, "latency_ms": _ms(started)}
        if policy.should_retry(retryable=retryable, retries_so_far=self.request.retries):
            countdown = policy.countdown(self.request.retries)
            log.warning(
                "task failed, will retry",
                extra={**fields, "status": "retrying", "countdown_s": round(countdown, 2)},
                exc_info=code is ErrorCode.UNHANDLED,
            )
            headers = task_headers(self)
            headers.setdefault(FIRST_FAILED_HEADER, dt.datetime.now(dt.UTC).isoformat())
            task_finished(self.app.settings, self.name, "retried", time.monotonic() - started)
            delay = delay_options(self.app.conf.broker_url, countdown)
            raise self.retry(exc=exc, headers=headers, **delay)
        dlq = dead_letter(self, error_code=code, error_message=f"{type(exc).__name__}: {exc}")
        task_finished(self.app.settings, self.name, "dead_lettered", time.monotonic() - started)
        log.error(
            "task dead-lettered",
            extra={**fields, "status": "dead_lettered", "dead_letter_queue": dlq},
            exc_info=code is ErrorCode.UNHANDLED,
        )
        return None


@functools.cache
def _signature(run: Any) -> inspect.Signature:
    return inspect.signature(run)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)
