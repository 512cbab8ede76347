"""Query and response schemas of the trades and stats endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from fluxa.decimals import to_str
from fluxa.trades.images import CONTENT_TYPES, MAX_IMAGE_BYTES
from fluxa.trades.pnl import realized_net
from fluxa.trades.schemas import ACCOUNT_PATTERN, SYMBOL_PATTERN, TAG_PATTERN
from fluxa.trades.trade import Side, Status, Trade
from fluxa.trades.versions import parse_if_match
from fluxa.validation.fields import FullMatch, Moment, Text, TimeZone

MAX_PAGE_SIZE = 200


class TradeSchema(Schema):
    """A trade as the API returns it; decimals as strings."""

    id = fields.String()
    symbol = fields.String()
    side = fields.String(metadata={"enum": [s.value for s in Side]})
    quantity = fields.String()
    entry_price = fields.String()
    entered_at = fields.DateTime()
    fees = fields.String()
    account = fields.String()
    multiplier = fields.String()
    currency = fields.String()
    initial_risk = fields.String(allow_none=True)
    stop_price = fields.String(allow_none=True)
    exit_price = fields.String(allow_none=True)
    exited_at = fields.DateTime(allow_none=True)
    partial_closes = fields.List(fields.Dict())
    tags = fields.List(fields.String())
    notes = fields.String()
    images = fields.List(fields.String())
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    realized_pnl = fields.String(metadata={"description": "Realized so far, after fees."})
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def dump_trade(trade: Trade) -> dict[str, Any]:
    """The API representation of `trade` (decimals as plain strings)."""
    return {
        "id": trade.id,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "quantity": to_str(trade.quantity),
        "entry_price": to_str(trade.entry_price),
        "entered_at": trade.entered_at,
        "fees": to_str(trade.fees),
        "account": trade.account,
        "multiplier": to_str(trade.multiplier),
        "currency": trade.currency,
        "initial_risk": to_str(trade.initial_risk),
        "stop_price": to_str(trade.stop_price),
        "exit_price": to_str(trade.exit_price),
        "exited_at": trade.exited_at,
        "partial_closes": [
            {
                "quantity": to_str(c.quantity),
                "price": to_str(c.price),
                "closed_at": c.closed_at.isoformat(),
                "fees": to_str(c.fees),
            }
            for c in trade.partial_closes
        ],
        "tags": list(trade.tags),
        "notes": trade.notes,
        "images": list(trade.images),
        "status": trade.status.value,
        "realized_pnl": to_str(realized_net(trade)),
        "version": trade.version,
        "created_at": trade.created_at,
        "updated_at": trade.updated_at,
    }


class TradeExportQuerySchema(Schema):
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(["csv", "json"]),
        metadata={"description": "csv: the fills in the fluxa-csv import format; json: trades"},
    )


class TradeListQuerySchema(Schema):
    symbol = fields.String(validate=FullMatch(SYMBOL_PATTERN))
    account = fields.String(validate=FullMatch(ACCOUNT_PATTERN))
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    tag = fields.String(validate=FullMatch(TAG_PATTERN))
    since = Moment()
    until = Moment()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = Text(validate=validate.Length(min=1, max=512))


class TradePageSchema(Schema):
    items = fields.List(fields.Nested(TradeSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


def _entity_tags(value: str) -> None:
    try:
        parse_if_match(value)
    except ValueError as exc:
        raise ValidationError(f'Must be *, or ETags such as "3": {exc}.') from exc


class IfMatchHeaderSchema(Schema):
    class Meta:
        unknown = "exclude"

    if_match = fields.String(
        data_key="If-Match",
        validate=[validate.Length(max=1024), _entity_tags],
        metadata={
            "description": 'The trade versions the change applies to: its ETag (`"3"`), a '
            'list of them (`"3", "4"`), or `*` (any). A weak tag never matches.'
        },
    )


class ImageUploadRequestSchema(Schema):
    content_type = fields.String(required=True, validate=validate.OneOf(sorted(CONTENT_TYPES)))
    size = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_IMAGE_BYTES))


class ImageUploadSchema(Schema):
    key = fields.String(required=True)
    upload_url = fields.String(required=True, metadata={"description": "POST the form here."})
    method = fields.String(required=True, metadata={"enum": ["POST"]})
    fields_ = fields.Dict(
        attribute="fields",
        data_key="fields",
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Form fields to send before the file (S3's POST policy)."},
    )
    max_bytes = fields.Integer(required=True)
    expires_in = fields.Integer(required=True)


class StatsQuerySchema(Schema):
    account = fields.String(
        validate=FullMatch(ACCOUNT_PATTERN),
        metadata={"description": "Only the trades of this account (computed now)."},
    )
    timezone = TimeZone(
        metadata={"description": "by_day in this IANA time zone's days (computed now); UTC"
                  " otherwise"}
    )  # fmt: skip


class StatsSchema(Schema):
    """TradeStats; money and ratios as decimal strings (null where undefined)."""

    class Meta:
        unknown = "include"

    computed_at = fields.DateTime(allow_none=True)
    watermark = fields.Integer()
    stale = fields.Boolean(
        metadata={
            "description": "A trade changed after computed_at: a worker rebuilds the stats"
            " after each write (within milliseconds of an isolated write, within"
            " FLUXA_STATS_THROTTLE_SECONDS of the last write of a burst); poll until false"
            " to read the figures of your own write."
        }
    )
    total_trades = fields.Integer()
    open_trades = fields.Integer()
    closed_trades = fields.Integer()
    wins = fields.Integer()
    losses = fields.Integer()
    breakeven = fields.Integer()
    win_rate = fields.String(allow_none=True)
    gross_profit = fields.String()
    gross_loss = fields.String()
    fees = fields.String()
    net_pnl = fields.String()
    profit_factor = fields.String(allow_none=True)
    expectancy = fields.String(allow_none=True)
    avg_win = fields.String(allow_none=True)
    avg_loss = fields.String(allow_none=True)
    largest_win = fields.String(allow_none=True)
    largest_loss = fields.String(allow_none=True)
    max_drawdown = fields.String()
    longest_win_streak = fields.Integer()
    longest_loss_streak = fields.Integer()
    by_symbol = fields.Dict(keys=fields.String(), values=fields.Dict())
    r_trades = fields.Integer(metadata={"description": "Closed trades that say their risk."})
    average_r = fields.String(allow_none=True)
    expectancy_r = fields.String(allow_none=True)
    average_win_r = fields.String(allow_none=True)
    average_loss_r = fields.String(allow_none=True)
    by_tag = fields.Dict(keys=fields.String(), values=fields.Dict())
    by_weekday = fields.Dict(
        keys=fields.String(), values=fields.Dict(), metadata={"description": "By entry weekday."}
    )
    by_hour = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        metadata={"description": "By entry hour, 00-23."},
    )
    by_day = fields.List(fields.Dict())


class RebuildRequestSchema(Schema):
    user_id = Text(
        validate=validate.Length(min=1, max=256),
        metadata={"description": "Admins only: whose stats to rebuild (default: the caller)."},
    )


class RebuildAcceptedSchema(Schema):
    user_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["requested"]})
