"""Stats: `GET /v1/stats` (the caller's TradeStats) and `POST /v1/stats/rebuild`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.auth import authenticate, current_principal
from api.blueprints.base import Blueprint
from api.rate_limits import JOURNAL, limited_to
from api.schemas.trades import (
    RebuildAcceptedSchema,
    RebuildRequestSchema,
    StatsQuerySchema,
    StatsSchema,
)
from api.services import current_services
from fluxa import logcontext
from fluxa.errors import ForbiddenError
from fluxa.stats.query import stats_computed_now, stats_for

blp = Blueprint("stats", __name__, url_prefix="/v1/stats", description="Your trade statistics.")
blp.before_request(authenticate)
blp.before_request(limited_to(JOURNAL))


@blp.before_request
def _bind() -> None:
    logcontext.bind(service="stats")


@blp.route("", methods=["GET"])
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, StatsSchema)
@blp.problems(400, 401)
def get_stats(query: dict[str, Any]) -> Any:
    """The caller's TradeStats as last rebuilt.

    Stats are rebuilt asynchronously after each trade write; `stale` is true until the
    rebuild covering the latest write has run. With `account` or `timezone` they are
    computed from the trades now (never stale; slower for a large journal).
    """
    engine, user = current_services().engine, current_principal().sub
    if "account" in query or "timezone" in query:
        zone = query.get("timezone", dt.UTC)
        return stats_computed_now(engine, user, account=query.get("account"), zone=zone)
    return stats_for(engine, user)


@blp.route("/rebuild", methods=["POST"])
@blp.arguments(RebuildRequestSchema, required=False)
@blp.response(202, RebuildAcceptedSchema)
@blp.problems(400, 401, 403, 415)
def rebuild_stats(body: dict[str, Any]) -> Any:
    """Rebuild the caller's stats now (an admin may name any user)."""
    principal = current_principal()
    user = body.get("user_id") or principal.sub
    if user != principal.sub and not principal.is_admin:
        raise ForbiddenError("only admins may rebuild another user's stats")
    current_services().stats_relay.request([user])
    return {"user_id": user, "status": "requested"}
