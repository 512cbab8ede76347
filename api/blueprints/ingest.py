"""Ingest: `POST /v1/events` and `POST /v1/events/batch` (service `ingest`)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import orjson
from flask import Response
from marshmallow import fields

from api.auth import current_principal, requires_scope
from api.blueprints.base import Blueprint
from api.idempotency import IdempotencyHeadersSchema, run_idempotent
from api.rate_limits import INGEST, limited_to
from api.request_context import correlation_id
from api.schemas.events import BatchAcceptedSchema, EventAcceptedSchema
from api.services import current_services
from fluxa import logcontext
from fluxa.auth.principal import SCOPE_EVENTS_WRITE
from fluxa.errors import PartlyEnqueuedError, SchemaValidationError
from fluxa.events.batch import prepare_batch, without_unsent
from fluxa.events.ingest import PreparedEvent, prepare_event
from fluxa.events.schemas import SHA256_PATTERN, BatchSchema, EventSchema
from fluxa.idempotency import StoredResponse
from fluxa.logcontext import Stage
from fluxa.validation.fields import FullMatch

log = logging.getLogger("fluxa.ingest")
blp = Blueprint("ingest", __name__, url_prefix="/v1/events", description="Send events.")
blp.before_request(requires_scope(SCOPE_EVENTS_WRITE))
blp.before_request(limited_to(INGEST))
_ERRORS = [400, 401, 403, 409, 413, 415, 422, 503]


class SingleEventHeadersSchema(IdempotencyHeadersSchema):
    payload_sha256 = fields.String(
        data_key="X-Payload-SHA256",
        validate=FullMatch(SHA256_PATTERN, error="Must be a hex SHA-256 digest."),
        metadata={"description": "SHA-256 of the payload's RFC 8785 form; a mismatch is a 400."},
    )


def _scope(route: str) -> str:
    """Idempotency keys are per client: two clients may use the same key."""
    return f"{route}:{current_principal().sub}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: RFC 9745: when the pre-RFC 8785 payload hash was deprecated (2026-12-05).
LEGACY_HASH_DEPRECATION = "@1796428800"


def _answer(
    result: tuple[dict[str, Any], int, dict[str, str]], events: list[PreparedEvent]
) -> Response:
    """The answer as built: ingest bodies are made to their response schemas here (the
    contract tests check them), so flask-smorest does not dump them again; through
    marshmallow, a batch's 100 results cost 6 µs an event. A client that declared a
    pre-RFC 8785 hash is told it is deprecated (docs/events.md)."""
    body, status, headers = result
    answer = Response(orjson.dumps(body), status, headers, mimetype="application/json")
    if any(event.declared_legacy_hash for event in events):
        answer.headers["Deprecation"] = LEGACY_HASH_DEPRECATION
        log.warning(
            "pre-RFC 8785 payload hash declared",
            extra={"stage": Stage.VALIDATE, "principal": current_principal().sub},
        )
    return answer


def _accept_legacy_hash() -> bool:
    return current_services().settings.accept_legacy_payload_hash


def _enqueue(events: list[PreparedEvent], body: dict[str, Any]) -> StoredResponse:
    started = time.monotonic()
    try:
        messages = current_services().ingestor.enqueue(events, correlation_id())
    except PartlyEnqueuedError as exc:
        return _partly_enqueued(exc, body)
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


def _partly_enqueued(exc: PartlyEnqueuedError, body: dict[str, Any]) -> StoredResponse:
    """A batch whose later message failed: answered item by item (only a batch needs more
    than one message), so that the client resends exactly the events that were not sent."""
    results = without_unsent(body["results"], exc.sent_event_ids, exc.cause)
    accepted = sum(1 for r in results if r["status"] == "accepted")
    log.warning(
        "batch partly enqueued",
        extra={
            "stage": Stage.ENQUEUE,
            "status": "partly_enqueued",
            "error_code": exc.cause.code.value,
            "accepted": accepted,
            "refused": len(results) - accepted - body["rejected"],
        },
    )
    partial = dict(body, results=results, accepted=accepted, rejected=len(results) - accepted)
    return StoredResponse(status=202, body=partial)


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
        accept_legacy_hash=_accept_legacy_hash(),
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
    return _answer(
        run_idempotent(
            headers.get("idempotency_key"), _scope("events"), lambda: _enqueue([event_obj], body)
        ),
        [event_obj],
    )


@blp.route("/batch", methods=["POST"])
@blp.arguments(IdempotencyHeadersSchema, location="headers")
@blp.arguments(BatchSchema)
@blp.response(202, BatchAcceptedSchema)
@blp.problems(*_ERRORS)
def post_batch(headers: dict[str, Any], batch: dict[str, Any]) -> Any:
    """Accept up to 500 events; invalid items are rejected one by one, the rest accepted."""
    logcontext.bind(service="ingest")
    prepared, results = prepare_batch(
        batch["events"],
        correlation_id=correlation_id(),
        accepted_at=_now(),
        accept_legacy_hash=_accept_legacy_hash(),
    )
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
    return _answer(
        run_idempotent(
            headers.get("idempotency_key"), _scope("events.batch"), lambda: _enqueue(prepared, body)
        ),
        prepared,
    )
