"""The API's dependencies, built once per app from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Engine

from broker.app import make_celery
from broker.publisher import CeleryPublisher
from config import Settings
from fluxa.auth import TokenVerifier
from fluxa.auth.revocation import RevocationSet
from fluxa.events.coalesce import CoalescingIngestor
from fluxa.events.ingest import EventIngestor, IngestLimits
from fluxa.events.query import EventQueries
from fluxa.idempotency import IdempotencyConfig, PostgresIdempotencyStore
from fluxa.imports.service import ImportService
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.db import make_engine
from fluxa.infra.storage import S3ObjectStore
from fluxa.messages.tasks import TaskPublisher
from fluxa.ratelimit import RateLimiter, parse_policy
from fluxa.stats.relay import StatsRelay
from fluxa.trades.images import S3ImageStore
from fluxa.trades.service import TradeService


@dataclass
class ApiServices:
    """Everything the blueprints call."""

    settings: Settings
    engine: Engine
    #: Where event queries read: the reader (FLUXA_DATABASE_READER_URL), else `engine`.
    #: Everything else reads the writer: trades and stats must see the client's own
    #: writes, and sign-outs and idempotency keys must be current (docs/events.md).
    reader_engine: Engine
    payload_store: S3ObjectStore
    publisher: TaskPublisher
    ingestor: CoalescingIngestor
    event_queries: EventQueries
    idempotency: PostgresIdempotencyStore
    trades: TradeService
    imports: ImportService
    stats_relay: StatsRelay
    image_store: S3ImageStore
    verifier: TokenVerifier | None
    revocations: RevocationSet
    rate_limiter: RateLimiter
    sqs: Any


def build_services(
    settings: Settings,
    publisher: TaskPublisher | None = None,
    verifier: TokenVerifier | None = None,
    on_rate_limit_store_failure: Callable[[], None] = lambda: None,
) -> ApiServices:
    """Create clients and use cases; connections are opened lazily, on first use."""
    settings.require("database_url", "broker_url")
    engine = make_engine(settings.database_url)
    reader = make_engine(settings.database_reader_url) if settings.database_reader_url else engine
    s3 = s3_client(settings)
    store = S3ObjectStore(s3, settings.payload_bucket)
    images = S3ImageStore(s3, settings.image_bucket)
    publisher = publisher or CeleryPublisher(make_celery(settings))
    limits = IngestLimits(
        claim_check_bytes=settings.claim_check_bytes,
        max_message_bytes=settings.sqs_max_message_bytes,
    )
    relay = StatsRelay.from_settings(settings, engine, publisher)
    return ApiServices(
        settings=settings,
        engine=engine,
        reader_engine=reader,
        payload_store=store,
        publisher=publisher,
        ingestor=CoalescingIngestor(
            EventIngestor(publisher, store, queue=settings.input_queue, limits=limits),
            linger_seconds=settings.ingest_linger_seconds,
        ),
        event_queries=EventQueries(reader, store),
        idempotency=PostgresIdempotencyStore(engine, IdempotencyConfig.from_settings(settings)),
        trades=TradeService(engine, images, relay),
        imports=ImportService(
            engine, S3ObjectStore(s3, settings.image_bucket), publisher, queue=settings.stats_queue
        ),
        stats_relay=relay,
        image_store=images,
        verifier=verifier,
        revocations=RevocationSet(engine),
        rate_limiter=RateLimiter(
            parse_policy(settings.rate_limits),
            settings.rate_limit_storage_url,
            on_store_failure=on_rate_limit_store_failure,
        ),
        sqs=sqs_client(settings),
    )


def current_services() -> ApiServices:
    """The services of the app handling this request."""
    return current_app.extensions["fluxa"]
