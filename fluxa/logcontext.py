"""Structured log context: fields bound for a unit of work and added to every line.

A request or a task binds `correlation_id` (and `event_id`, `stage` …) once; every
log record emitted inside that scope carries them, whichever module logs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from types import MappingProxyType
from typing import Any

_fields: ContextVar[Mapping[str, Any]] = ContextVar(
    "fluxa_log_fields", default=MappingProxyType({})
)

CORRELATION_HEADER = "X-Correlation-ID"


class Stage(StrEnum):
    """Where in the pipeline a log line was written."""

    VALIDATE = "validate"
    ENQUEUE = "enqueue"
    PROCESS = "process"
    PERSIST = "persist"
    DEAD_LETTER = "dead_letter"
    QUERY = "query"


def new_correlation_id() -> str:
    """A fresh correlation id (a UUID4 string)."""
    return str(uuid.uuid4())


def valid_correlation_id(value: str | None) -> str | None:
    """`value` if it is a usable correlation id (1–128 printable ASCII chars), else None."""
    if value and len(value) <= 128 and value.isascii() and value.isprintable():
        return value
    return None


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line written inside the block."""
    token = _fields.set({**_fields.get(), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


def bind(**fields: Any) -> None:
    """Add `fields` to the current context until it ends (a request or a task)."""
    _fields.set({**_fields.get(), **fields})


def clear() -> None:
    """Forget every bound field (at the end of a request or task)."""
    _fields.set(MappingProxyType({}))


def current() -> dict[str, Any]:
    """The fields bound now."""
    return dict(_fields.get())


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record, never overriding explicit `extra`."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _fields.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
