"""Trades: create, list, read, update (If-Match), delete, image uploads. A user sees only theirs."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from api.auth import authenticate, current_principal
from api.blueprints.base import Blueprint
from api.idempotency import REPLAYED_HEADER, IdempotencyHeadersSchema, run_idempotent
from api.rate_limits import JOURNAL, limited_to
from api.schemas.common import NoQuerySchema
from api.schemas.trades import (
    IfMatchHeaderSchema,
    ImageUploadRequestSchema,
    ImageUploadSchema,
    TradeExportQuerySchema,
    TradeListQuerySchema,
    TradePageSchema,
    TradeSchema,
    dump_trade,
)
from api.services import current_services
from fluxa import logcontext
from fluxa.errors import GoneError, NotFoundError, PreconditionRequiredError
from fluxa.idempotency import StoredResponse
from fluxa.trades.export import csv_chunks, json_chunks
from fluxa.trades.schemas import TradeCreateSchema, TradeUpdateSchema
from fluxa.trades.service import TradeFilter
from fluxa.trades.trade import Trade
from fluxa.trades.versions import VersionCondition, parse_if_match

blp = Blueprint("trades", __name__, url_prefix="/v1/trades", description="Your trading journal.")
blp.before_request(authenticate)
blp.before_request(limited_to(JOURNAL))
AUTH_ERRORS = (401,)
_trade_schema = TradeSchema()


@blp.before_request
def _bind() -> None:
    logcontext.bind(service="trades")


def _etag(trade: Trade) -> dict[str, str]:
    return {"ETag": f'"{trade.version}"'}


def _condition(if_match: str | None, body_version: int | None) -> VersionCondition:
    if if_match is not None:
        return parse_if_match(if_match)  # the schema checked it parses
    if body_version is not None:
        return VersionCondition.exactly(body_version)
    raise PreconditionRequiredError(
        "send If-Match (the trade's ETag) or version",
        details={"If-Match": ["Required: the version this change applies to."]},
    )


@blp.route("", methods=["POST"])
@blp.arguments(IdempotencyHeadersSchema, location="headers")
@blp.arguments(TradeCreateSchema)
@blp.response(201, TradeSchema)
@blp.problems(*AUTH_ERRORS, 400, 409, 410, 415, 422)
def create_trade(headers: dict[str, Any], data: dict[str, Any]) -> Response:
    """create-trade. With `Idempotency-Key`, a retried request creates one trade (`410`
    when the trade it created has since been deleted)."""
    user = current_principal().sub

    def create() -> StoredResponse:
        trade = current_services().trades.create(user, data)
        return StoredResponse(status=201, body=_trade_schema.dump(dump_trade(trade)))

    body, status, extra = run_idempotent(headers.get("idempotency_key"), f"trades:{user}", create)
    if REPLAYED_HEADER in extra:
        _still_there(user, body["id"])
    response = jsonify(body)
    response.status_code = status
    location = url_for("trades.get_trade", trade_id=body["id"])
    response.headers.update({**extra, "ETag": f'"{body["version"]}"', "Location": location})
    return response


def _still_there(user: str, trade_id: str) -> None:
    """A replayed creation must not point at a trade deleted since (its Location a 404)."""
    try:
        current_services().trades.get(user, trade_id)
    except NotFoundError as exc:
        raise GoneError(
            f"the trade this Idempotency-Key created ({trade_id}) has since been deleted; "
            "send a new key to create another"
        ) from exc


@blp.route("", methods=["GET"])
@blp.arguments(TradeListQuerySchema, location="query")
@blp.response(200, TradePageSchema)
@blp.problems(*AUTH_ERRORS, 400)
def list_trades(query: dict[str, Any]) -> Any:
    """list-trades: newest entry first, filtered, with keyset pagination."""
    filters = TradeFilter(
        symbol=query.get("symbol", "").upper() or None,
        account=query.get("account"),
        status=query.get("status"),
        tag=query.get("tag"),
        since=query.get("since"),
        until=query.get("until"),
    )
    page = current_services().trades.list(
        current_principal().sub, filters, limit=query["limit"], cursor=query.get("cursor")
    )
    return {"items": [dump_trade(t) for t in page.items], "next_cursor": page.next_cursor}


#: What an export answers: the CSV of fills, or the JSON array of trades.
_EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/json": {
        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Trade"}}
    },
}


@blp.route("/export", methods=["GET"])
@blp.arguments(TradeExportQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "Every trade of yours", "content": _EXPORT_CONTENT}})
@blp.problems(*AUTH_ERRORS, 400)
def export_trades(query: dict[str, Any]) -> Response:
    """export-trades: every trade of yours with its partial closes, streamed. `csv` gives
    the fills that make them in the fluxa-csv import format (importing it again makes
    the same trades); `json` the trades as `GET /v1/trades/{id}` shows them."""
    trades = current_services().trades.every(current_principal().sub)
    if query["format"] == "json":
        return Response(json_chunks(trades, dump_trade), mimetype="application/json")
    response = Response(csv_chunks(trades), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="trades.csv"'
    return response


@blp.route("/<trade_id:trade_id>", methods=["GET"])
@blp.arguments(NoQuerySchema, location="query")
@blp.response(200, TradeSchema)
@blp.problems(*AUTH_ERRORS, 404)
def get_trade(_query: dict[str, Any], trade_id: str) -> Any:
    """One of your trades."""
    trade = current_services().trades.get(current_principal().sub, trade_id)
    return dump_trade(trade), 200, _etag(trade)


@blp.route("/<trade_id:trade_id>", methods=["PATCH"])
@blp.arguments(IfMatchHeaderSchema, location="headers")
@blp.arguments(TradeUpdateSchema)
@blp.response(200, TradeSchema)
@blp.problems(*AUTH_ERRORS, 400, 404, 412, 415, 428)
def update_trade(headers: dict[str, Any], changes: dict[str, Any], trade_id: str) -> Any:
    """update-trade: change any writable field; stale versions get 412."""
    condition = _condition(headers.get("if_match"), changes.pop("version", None))
    trade = current_services().trades.update(
        current_principal().sub, trade_id, changes, condition=condition
    )
    return dump_trade(trade), 200, _etag(trade)


@blp.route("/<trade_id:trade_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(*AUTH_ERRORS, 404)
def delete_trade(trade_id: str) -> Response:
    """Delete a trade (its images become orphans, cleaned by a daily job)."""
    current_services().trades.delete(current_principal().sub, trade_id)
    return Response(status=204)


@blp.route("/<trade_id:trade_id>/images", methods=["POST"])
@blp.arguments(ImageUploadRequestSchema)
@blp.response(201, ImageUploadSchema)
@blp.problems(*AUTH_ERRORS, 400, 404, 415)
def create_image_upload(request_body: dict[str, Any], trade_id: str) -> Any:
    """A presigned S3 POST for one image; add the key to the trade's images once uploaded.

    Send a multipart/form-data POST to `upload_url` with every entry of `fields`, then
    the file as the last field, `file`. S3 refuses a file of another content type or
    larger than `size`; attaching checks the stored object again.
    """
    services = current_services()
    user = current_principal().sub
    services.trades.get(user, trade_id)  # 404 unless it is the caller's trade
    upload = services.image_store.presign_upload(
        user, trade_id, request_body["content_type"], request_body["size"]
    )
    return {
        "key": upload.key,
        "upload_url": upload.url,
        "method": "POST",
        "fields": upload.fields,
        "max_bytes": upload.max_bytes,
        "expires_in": upload.expires_in,
    }
