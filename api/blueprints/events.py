"""Query: `GET /v1/events` and `GET /v1/events/{event_id}` (service `query`)."""

from __future__ import annotations

import logging
from typing import Any

from api.auth import requires_scope
from api.blueprints.base import Blueprint
from api.rate_limits import QUERIES, limited_to
from api.schemas.common import NoQuerySchema
from api.schemas.events import EventDetailSchema, EventListQuerySchema, EventPageSchema
from api.services import current_services
from fluxa import logcontext
from fluxa.auth.principal import SCOPE_EVENTS_READ
from fluxa.errors import ErrorCode
from fluxa.events.query import PAYLOAD_MISSING
from fluxa.events.repository import EventFilter

log = logging.getLogger("fluxa.query")
PAYLOAD_MISSING_PROBLEM = {
    "type": "about:blank",
    "title": "Payload unavailable",
    "status": 404,
    "code": ErrorCode.PAYLOAD_MISSING.value,
    "detail": (
        "The archived payload of this event is missing from storage. The event was"
        " processed and its metadata and payload_sha256 stand; the payload can be read"
        " again once an operator restores the archive."
    ),
}
blp = Blueprint("events", __name__, url_prefix="/v1/events", description="Read events.")
blp.before_request(requires_scope(SCOPE_EVENTS_READ))
blp.before_request(limited_to(QUERIES))


@blp.route("", methods=["GET"])
@blp.arguments(EventListQuerySchema, location="query")
@blp.response(200, EventPageSchema)
@blp.problems(400, 401, 403, 503)
def list_events(query: dict[str, Any]) -> Any:
    """List persisted events, newest first, with keyset pagination (`next_cursor`)."""
    logcontext.bind(service="query")
    filters = EventFilter(
        type=query.get("type"),
        source=query.get("source"),
        since=query.get("since"),
        until=query.get("until"),
    )
    page = current_services().event_queries.list(
        filters, limit=query["limit"], cursor=query.get("cursor")
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/<event_id:event_id>", methods=["GET"])
@blp.arguments(NoQuerySchema, location="query")
@blp.response(200, EventDetailSchema)
@blp.problems(401, 403, 404, 503)
def get_event(_query: dict[str, Any], event_id: str) -> Any:
    """One persisted event: metadata, processing status and payload."""
    logcontext.bind(service="query", event_id=event_id)
    record, payload = current_services().event_queries.get(event_id)
    if payload is PAYLOAD_MISSING:
        log.warning("event payload missing from its archive", extra={"status": "missing"})
        return {**record.__dict__, "payload": None, "payload_problem": PAYLOAD_MISSING_PROBLEM}
    return {**record.__dict__, "payload": payload}
