"""Stats: `GET /v1/stats` (the caller's TradeStats) and `POST /v1/stats/rebuild`."""

from __future__ import annotations

from typing import Any

from api.auth import authenticate, current_principal
from api.blueprints.base import Blueprint
from api.rate_limits import JOURNAL, limited_to
from api.schemas.common import NoQuerySchema
from api.schemas.trades import RebuildAcceptedSchema, RebuildRequestSchema, StatsSchema
from api.services import current_services
from fluxa import logcontext
from fluxa.errors import ForbiddenError
from fluxa.stats.query import stats_for

blp = Blueprint("stats", __name__, url_prefix="/v1/stats", description="Your trade statistics.")
blp.before_request(authenticate)
blp.before_request(limited_to(JOURNAL))


@blp.before_request
def _bind() -> None:
    logcontext.bind(service="stats")


@blp.route("", methods=["GET"])
@blp.arguments(NoQuerySchema, location="query")
@blp.response(200, StatsSchema)
@blp.problems(401)
def get_stats(_query: dict[str, Any]) -> Any:
    """The caller's TradeStats as last rebuilt.

    Stats are rebuilt asynchronously after each trade write; `stale` is true until the
    rebuild covering the latest write has run.
    """
    return stats_for(current_services().engine, current_principal().sub)


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
