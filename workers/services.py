"""What tasks work with (engine, S3 stores, processor, relay), built once per worker process.

Built lazily and per process id: a prefork child must not share its parent's
database connections.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from celery import Celery
from sqlalchemy import Engine

from broker.publisher import CeleryPublisher
from config import Settings
from fluxa.events.processor import EventProcessor
from fluxa.idempotency import IdempotencyConfig, PostgresIdempotencyStore
from fluxa.imports.runner import ImportRunner
from fluxa.imports.service import ImportService
from fluxa.infra.aws import s3_client
from fluxa.infra.db import make_engine
from fluxa.infra.storage import S3ObjectStore
from fluxa.stats.rebuild import RebuildOutcome, rebuild_users
from fluxa.stats.relay import StatsRelay
from fluxa.trades.images import S3ImageStore


@dataclass(frozen=True)
class WorkerServices:
    """Per-process dependencies of the tasks."""

    settings: Settings
    engine: Engine
    payload_store: S3ObjectStore
    image_store: S3ImageStore
    #: Uploaded import files (in the image bucket, under each user's prefix).
    import_files: S3ObjectStore

    @cached_property
    def event_processor(self) -> EventProcessor:
        return EventProcessor(self.engine, self.payload_store)

    @property
    def idempotency_store(self) -> PostgresIdempotencyStore:
        return PostgresIdempotencyStore(self.engine, IdempotencyConfig.from_settings(self.settings))

    def rebuild_users(self, user_ids: list[str]) -> list[RebuildOutcome]:
        return rebuild_users(self.engine, user_ids)

    def stats_relay(self, app: Celery) -> StatsRelay:
        return StatsRelay.from_settings(self.settings, self.engine, CeleryPublisher(app))

    def import_runner(self, app: Celery) -> ImportRunner:
        return ImportRunner(self.engine, self.import_files, self.stats_relay(app))

    def import_service(self, app: Celery) -> ImportService:
        return ImportService(
            self.engine, self.import_files, CeleryPublisher(app), queue=self.settings.stats_queue
        )


_services: dict[int, WorkerServices] = {}


def services(settings: Settings) -> WorkerServices:
    """This process's services, created on first use."""
    pid = os.getpid()
    if pid not in _services:
        settings.require("database_url")
        _services.clear()
        client = s3_client(settings)
        _services[pid] = WorkerServices(
            settings=settings,
            # No pre-ping: a task on a dead connection retries; the ping cost a
            # commit per checkout (two per event message).
            engine=make_engine(settings.database_url, pool_size=2, pre_ping=False),
            payload_store=S3ObjectStore(client, settings.payload_bucket),
            image_store=S3ImageStore(client, settings.image_bucket),
            import_files=S3ObjectStore(client, settings.image_bucket),
        )
    return _services[pid]
