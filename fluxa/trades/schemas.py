"""Marshmallow schemas of trades: what a client may write (the API's representation of a
trade is `api.schemas.trades`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from fluxa.trades.trade import Side
from fluxa.validation.fields import Amount, FullMatch, Moment, Text

SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,31}$"
ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
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
    account = fields.String(
        validate=FullMatch(ACCOUNT_PATTERN),
        metadata={"description": "The broker account; trades of two accounts never mix."},
    )
    multiplier = Amount(
        metadata={"description": "Contract multiplier: money per point per unit (default 1)."}
    )
    currency = fields.String(
        validate=FullMatch(CURRENCY_PATTERN),
        metadata={"description": "ISO 4217 code of prices and fees, e.g. USD."},
    )
    initial_risk = Amount(
        allow_none=True,
        metadata={"description": "What the trade risked, in money: its R (stats in R)."},
    )
    stop_price = Amount(
        allow_none=True,
        metadata={"description": "The initial stop: risk = |entry − stop| × quantity ×"
                  " multiplier, unless initial_risk says it."},
    )  # fmt: skip
    exit_price = Amount(allow_none=True)
    exited_at = Moment(allow_none=True)
    partial_closes = fields.List(
        fields.Nested(PartialCloseSchema), validate=validate.Length(max=100)
    )
    tags = fields.List(
        Text(validate=FullMatch(TAG_PATTERN)),
        validate=validate.Length(max=MAX_TAGS),
        metadata={"uniqueItems": True},
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
