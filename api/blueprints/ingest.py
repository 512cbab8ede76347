"""Ingest: `POST /v1/events` and `POST /v1/events/batch` (service `ingest`)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from marshmallow import ValidationError, fields, validate

from api.auth import current_principal, requires_scope
from api.blueprint import Blueprint
from api.idempotency import IdempotencyHeadersSchema, run_idempotent
from api.problems import flatten_errors
from api.request_context import correlation_id
from api.schemas.events import BatchAcceptedSchema, EventAcceptedSchema
from api.services import current_services
from fluxa import logcontext
from fluxa.auth.principal import SCOPE_EVENTS_WRITE
from fluxa.errors import HashMismatchError, SchemaValidationError
from fluxa.events.hashing import NotCanonicalizable
from fluxa.events.ingest import PreparedEvent, prepare_event
from fluxa.events.schemas import SHA256_PATTERN, BatchSchema, EventSchema
from fluxa.idempotency import StoredResponse
from fluxa.logcontext import Stage

log = logging.getLogger("fluxa.ingest")
blp = Blueprint("ingest", __name__, url_prefix="/v1/events", description="Send events.")
blp.before_request(requires_scope(SCOPE_EVENTS_WRITE))
_event_schema = EventSchema()
_ERRORS = [400, 401, 403, 409, 413, 415, 422, 503]


class SingleEventHeadersSchema(IdempotencyHeadersSchema):
    payload_sha256 = fields.String(
        data_key="X-Payload-SHA256",
        validate=validate.Regexp(SHA256_PATTERN, error="Must be a hex SHA-256 digest."),
        metadata={"description": "SHA-256 of the canonical payload; a mismatch is a 400."},
    )


def _scope(route: str) -> str:
    """Idempotency keys are per client: two clients may use the same key."""
    return f"{route}:{current_principal().sub}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _enqueue(events: list[PreparedEvent], body: dict[str, Any]) -> StoredResponse:
    started = time.monotonic()
    messages = current_services().ingestor.enqueue(events, correlation_id())
    log.info(
        "events enqueued",
        extra={
            "stage": Stage.ENQUEUE,
            "status": "enqueued",
            "events": len(events),
            "messages": messages,
            "event_id": events[0].event_id if len(events) == 1 else None,
            "latency_ms": round((time.monotonic() - started) * 1000, 2),
        },
    )
    return StoredResponse(status=202, body=body)


@blp.route("", methods=["POST"])
@blp.arguments(SingleEventHeadersSchema, location="headers")
@blp.arguments(EventSchema)
@blp.response(202, EventAcceptedSchema)
@blp.problems(*_ERRORS)
def post_event(headers: dict[str, Any], event: dict[str, Any]) -> Any:
    """Accept one event for processing."""
    logcontext.bind(service="ingest")
    event_obj = prepare_event(
        event,
        declared_sha256=headers.get("payload_sha256"),
        correlation_id=correlation_id(),
        accepted_at=_now(),
    )
    log.info(
        "event validated",
        extra={"stage": Stage.VALIDATE, "status": "valid", "event_id": event_obj.event_id},
    )
    body = {
        "event_id": event_obj.event_id,
        "correlation_id": correlation_id(),
        "payload_sha256": event_obj.payload_sha256,
        "status": "accepted",
    }
    return run_idempotent(
        headers.get("idempotency_key"), _scope("events"), lambda: _enqueue([event_obj], body)
    )


def _prepare_item(raw: Any, accepted_at: dt.datetime) -> PreparedEvent:
    if not isinstance(raw, dict):
        raise SchemaValidationError("not an object", details={"_schema": ["Not an object."]})
    try:
        event = _event_schema.load(raw)
        return prepare_event(
            event, declared_sha256=None, correlation_id=correlation_id(), accepted_at=accepted_at
        )
    except ValidationError as exc:
        raise SchemaValidationError("invalid event", details=exc.messages_dict) from exc
    except NotCanonicalizable as exc:
        raise SchemaValidationError("invalid payload", details={"payload": [str(exc)]}) from exc


def _validate_batch(raw_events: list[Any]) -> tuple[list[PreparedEvent], list[dict[str, Any]]]:
    accepted_at = _now()
    prepared: list[PreparedEvent] = []
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        try:
            item = _prepare_item(raw, accepted_at)
            if item.event_id in seen:
                raise SchemaValidationError(
                    "duplicate", details={"event_id": ["Duplicate event_id in this batch."]}
                )
        except (SchemaValidationError, HashMismatchError) as exc:
            results.append(
                {
                    "index": index,
                    "status": "rejected",
                    "code": exc.code.value,
                    "errors": flatten_errors(exc.details),
                }
            )
            continue
        seen.add(item.event_id)
        prepared.append(item)
        results.append(
            {
                "index": index,
                "status": "accepted",
                "event_id": item.event_id,
                "payload_sha256": item.payload_sha256,
            }
        )
    return prepared, results


@blp.route("/batch", methods=["POST"])
@blp.arguments(IdempotencyHeadersSchema, location="headers")
@blp.arguments(BatchSchema)
@blp.response(202, BatchAcceptedSchema)
@blp.problems(*_ERRORS)
def post_batch(headers: dict[str, Any], batch: dict[str, Any]) -> Any:
    """Accept up to 500 events; invalid items are rejected one by one, the rest accepted."""
    logcontext.bind(service="ingest")
    prepared, results = _validate_batch(batch["events"])
    rejected = [r for r in results if r["status"] == "rejected"]
    log.info(
        "batch validated",
        extra={
            "stage": Stage.VALIDATE,
            "status": "valid",
            "accepted": len(prepared),
            "rejected": len(rejected),
        },
    )
    if not prepared:
        errors = {
            f"events.{r['index']}.{field}": messages
            for r in rejected
            for field, messages in r["errors"].items()
        }
        raise SchemaValidationError("no event in the batch is valid", details=errors)
    body = {
        "correlation_id": correlation_id(),
        "accepted": len(prepared),
        "rejected": len(rejected),
        "results": results,
    }
    return run_idempotent(
        headers.get("idempotency_key"), _scope("events.batch"), lambda: _enqueue(prepared, body)
    )
