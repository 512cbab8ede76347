"""Publishing tasks by name through Celery (used by the API and the outbox relay)."""

from __future__ import annotations

from typing import Any

from celery import Celery

from broker.delay import delay_options
from fluxa.errors import BrokerUnavailableError


class CeleryPublisher:
    """A `fluxa.messages.tasks.TaskPublisher` backed by a Celery app; imports no task code."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    def publish(
        self,
        task_name: str,
        kwargs: dict[str, Any],
        *,
        queue: str,
        headers: dict[str, Any],
        countdown: float | None = None,
    ) -> str:
        try:
            result = self._app.send_task(
                task_name,
                kwargs=kwargs,
                queue=queue,
                headers=headers,
                # Celery would repr the whole kwargs (hundreds of events) into every message.
                kwargsrepr=kwargs_summary(kwargs),
                **delay_options(self._app.conf.broker_url, countdown),
            )
        except Exception as exc:  # any transport failure means "not enqueued"
            raise BrokerUnavailableError(
                f"broker refused the message: {type(exc).__name__}"
            ) from exc
        return result.id


def kwargs_summary(kwargs: dict[str, Any]) -> str:
    """A short stand-in for a message's kwargs in Celery's logs: lists by their length."""
    parts = (
        f"{name!r}: <{len(value)} items>" if isinstance(value, list) else f"{name!r}: {value!r}"
        for name, value in kwargs.items()
    )
    return "{" + ", ".join(parts) + "}"
