"""Validating a batch item by item: one bad event rejects only itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError

from fluxa.errors import FluxaError, HashMismatchError, SchemaValidationError
from fluxa.events.hashing import NotCanonicalizableError
from fluxa.events.ingest import PreparedEvent, prepare_event
from fluxa.events.schemas import EventSchema
from fluxa.validation import flatten_errors

_event_schema = EventSchema()


def prepare_item(
    raw: Any, *, correlation_id: str, accepted_at: dt.datetime, accept_legacy_hash: bool = True
) -> PreparedEvent:
    """Validate and prepare one batch item; raises `SchemaValidationError`/`HashMismatchError`."""
    if not isinstance(raw, dict):
        raise SchemaValidationError("not an object", details={"_schema": ["Not an object."]})
    try:
        event = _event_schema.load(raw)
        return prepare_event(
            event,
            declared_sha256=None,
            correlation_id=correlation_id,
            accepted_at=accepted_at,
            accept_legacy_hash=accept_legacy_hash,
        )
    except ValidationError as exc:
        raise SchemaValidationError("invalid event", details=exc.messages_dict) from exc
    except NotCanonicalizableError as exc:
        raise SchemaValidationError("invalid payload", details={"payload": [str(exc)]}) from exc


def prepare_batch(
    raw_events: list[Any],
    *,
    correlation_id: str,
    accepted_at: dt.datetime,
    accept_legacy_hash: bool = True,
) -> tuple[list[PreparedEvent], list[dict[str, Any]]]:
    """The accepted events, and one result per item in order (accepted or rejected)."""
    prepared: list[PreparedEvent] = []
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        try:
            item = prepare_item(
                raw,
                correlation_id=correlation_id,
                accepted_at=accepted_at,
                accept_legacy_hash=accept_legacy_hash,
            )
            if item.event_id in seen:
                raise SchemaValidationError(
                    "duplicate", details={"event_id": ["Duplicate event_id in this batch."]}
                )
        except (SchemaValidationError, HashMismatchError) as exc:
            results.append(
                {"index": index, "status": "rejected", "code": exc.code.value,
                 "errors": flatten_errors(exc.details)}
            )  # fmt: skip
            continue
        seen.add(item.event_id)
        prepared.append(item)
        results.append(
            {"index": index, "status": "accepted", "event_id": item.event_id,
             "payload_sha256": item.payload_sha256}
        )  # fmt: skip
    return prepared, results


def without_unsent(
    results: list[dict[str, Any]], sent_event_ids: set[str], error: FluxaError
) -> list[dict[str, Any]]:
    """`results` once a send failed part-way: an accepted item whose event was not sent is
    rejected with the send's code, so that the client sends that one again (and only it)."""
    refused = {
        "status": "rejected",
        "code": error.code.value,
        "errors": {"_schema": [f"Not queued ({error.message}); send this event again."]},
    }
    return [
        {"index": r["index"], **refused}
        if r["status"] == "accepted" and r["event_id"] not in sent_event_ids
        else r
        for r in results
    ]
