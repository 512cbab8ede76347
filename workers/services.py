"""What tasks work with (engine, S3 store, processor), built once per worker process.

Built lazily and per process id: a prefork child must not share its parent's
database connections.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine

from config import Settings
from fluxa.aws import s3_client
from fluxa.db import make_engine
from fluxa.events.processor import EventProcessor
from fluxa.idempotency import IdempotencyConfig, PostgresIdempotencyStore
from fluxa.storage import S3PayloadStore


@dataclass(frozen=True)
class WorkerServices:
    """Per-process dependencies of the tasks."""

    engine: Engine
    payload_store: S3PayloadStore

    @property
    def event_processor(self) -> EventProcessor:
        return EventProcessor(self.engine, self.payload_store)

    def idempotency_store(self, settings: Settings) -> PostgresIdempotencyStore:
        config = IdempotencyConfig(
            ttl_seconds=settings.idempotency_ttl_seconds,
            lock_seconds=settings.idempotency_lock_seconds,
        )
        return PostgresIdempotencyStore(self.engine, config)


_services: dict[int, WorkerServices] = {}


def services(settings: Settings) -> WorkerServices:
    """This process's services, created on first use."""
    pid = os.getpid()
    if pid not in _services:
        settings.require("database_url")
        _services.clear()
        _services[pid] = WorkerServices(
            engine=make_engine(settings.database_url, pool_size=2),
            payload_store=S3PayloadStore(s3_client(settings), settings.payload_bucket),
        )
    return _services[pid]
