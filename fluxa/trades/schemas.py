"""Marshmallow schemas of trades: what a client may write, and what it reads back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from fluxa.decimals import to_str
from fluxa.trades.pnl import realized_events
from fluxa.trades.trade import Side, Status, Trade
from fluxa.validation.fields import Amount, FullMatch, Moment, Text

SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,31}$"
TAG_PATTERN = r"^[A-Za-z0-9_.:/-]{1,32}$"
MAX_TAGS = 20
MAX_IMAGES = 20


class PartialCloseSchema(Schema):
    quantity = Amount(required=True)
    price = Amount(required=True)
    closed_at = Moment(required=True)
    fees = Amount(load_default=Decimal(0))


class _TradeFields(Schema):
    """Fields a client may write (never user_id, status, timestamps or stats)."""

    symbol = fields.String(validate=FullMatch(SYMBOL_PATTERN))
    side = fields.String(validate=validate.OneOf([s.value for s in Side]))
    quantity = Amount()
    entry_price = Amount()
    entered_at = Moment()
    fees = Amount()
    exit_price = Amount(allow_none=True)
    exited_at = Moment(allow_none=True)
    partial_closes = fields.List(
        fields.Nested(PartialCloseSchema), validate=validate.Length(max=100)
    )
    tags = fields.List(
        Text(validate=FullMatch(TAG_PATTERN)),
        validate=validate.Length(max=MAX_TAGS),
    )
    notes = Text(validate=validate.Length(max=10_000))
    images = fields.List(
        Text(validate=validate.Length(min=1, max=512)),
        validate=validate.Length(max=MAX_IMAGES),
    )

    @validates("tags")
    def _unique_tags(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("Tags must be unique.")

    @post_load
    def _normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "symbol" in data:
            data["symbol"] = data["symbol"].upper()
        return data


class TradeCreateSchema(_TradeFields):
    """create-trade: the position, optionally already (partly) closed."""

    symbol = fields.String(required=True, validate=FullMatch(SYMBOL_PATTERN))
    side = fields.String(required=True, validate=validate.OneOf([s.value for s in Side]))
    quantity = Amount(required=True)
    entry_price = Amount(required=True)
    entered_at = Moment(required=True)


class TradeUpdateSchema(_TradeFields):
    """update-trade: any writable field; `version` is the optimistic-concurrency check."""

    version = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The version this change applies to (or send If-Match)."},
    )


class TradeSchema(Schema):
    """A trade as the API returns it; decimals as strings."""

    id = fields.String()
    symbol = fields.String()
    side = fields.String(metadata={"enum": [s.value for s in Side]})
    quantity = fields.String()
    entry_price = fields.String()
    entered_at = fields.DateTime()
    fees = fields.String()
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


def realized_net(trade: Trade) -> Decimal:
    """What the trade has realized so far, after the fees realized with it."""
    return sum((event.amount for event in realized_events(trade)), Decimal(0))
