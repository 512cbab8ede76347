"""The `fluxa-csv` format (docs/imports.md): a header row, then one fill a row. Pure.

A bad row is rejected alone, with its line, the field at fault and why; a file without
the format's header is not a fluxa-csv file at all (`ImportFormatError`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fluxa.decimals import fits_storage
from fluxa.errors import ImportFormatError
from fluxa.imports.fills import Action, Fill
from fluxa.trades.integrity import MAX_MULTIPLIER
from fluxa.trades.schemas import ACCOUNT_PATTERN, CURRENCY_PATTERN, SYMBOL_PATTERN

REQUIRED = ("executed_at", "account", "symbol", "side", "quantity", "price", "fees",
            "execution_id")  # fmt: skip
OPTIONAL = ("multiplier", "currency")
_EXECUTION_ID = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its line in the file (the header is line 1)."""

    line: int
    field: str
    reason: str


@dataclass
class ReadFills:
    """What a file gave: its fills, and the rows refused."""

    fills: list[Fill] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def read_fluxa_csv(data: bytes, *, account: str = "", zone: dt.tzinfo = dt.UTC) -> ReadFills:
    """The fills of a fluxa-csv file. `account` stands in for an empty account column;
    a time without an offset is read in `zone`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not UTF-8 text (byte {exc.start})") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(rows, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFormatError(f"not a fluxa-csv file: no column {', '.join(missing)}")
    result = ReadFills()
    for line, values in enumerate(rows, start=2):
        if not any(value.strip() for value in values):
            continue  # a blank line
        row = dict(zip(header, (value.strip() for value in values), strict=False))
        try:
            result.fills.append(_fill(row, account, zone))
        except _Rejected as rejected:
            result.rejected.append(RejectedRow(line, rejected.field, rejected.reason))
    return result


class _Rejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _fill(row: dict[str, str], default_account: str, zone: dt.tzinfo) -> Fill:
    account = row.get("account") or default_account
    if account and not re.fullmatch(ACCOUNT_PATTERN, account):
        raise _Rejected("account", "Must be 1-64 characters [A-Za-z0-9._:-].")
    symbol = _matching(row, "symbol", SYMBOL_PATTERN, "Must be 1-32 characters [A-Za-z0-9._/:-].")
    return Fill(
        executed_at=_moment(row.get("executed_at", ""), zone),
        account=account,
        symbol=symbol.upper(),
        action=_action(row.get("side", "")),
        quantity=_amount(row, "quantity", positive=True),
        price=_amount(row, "price"),
        fees=_amount(row, "fees", default=Decimal(0)),
        execution_id=_execution_id(row.get("execution_id", "")),
        multiplier=_multiplier(row),
        currency=_currency(row),
    )


def _matching(row: dict[str, str], name: str, pattern: str, reason: str) -> str:
    value = row.get(name, "")
    if not re.fullmatch(pattern, value):
        raise _Rejected(name, reason)
    return value


def _moment(value: str, zone: dt.tzinfo) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Rejected("executed_at", "Not an ISO 8601 date and time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _action(value: str) -> Action:
    try:
        return Action(value.lower())
    except ValueError:
        raise _Rejected("side", "Must be buy or sell.") from None


def _amount(
    row: dict[str, str], name: str, *, positive: bool = False, default: Decimal | None = None
) -> Decimal:
    raw = row.get(name, "")
    if raw == "" and default is not None:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _Rejected(name, "Not a decimal number.") from None
    if not value.is_finite() or not fits_storage(value):
        raise _Rejected(name, "At most 18 integer and 10 fractional digits.")
    if value < 0 or (positive and value == 0):
        raise _Rejected(name, "Must be greater than 0." if positive else "Must not be negative.")
    return value


def _execution_id(value: str) -> str:
    if not _EXECUTION_ID.fullmatch(value):
        raise _Rejected("execution_id", "Required: 1-128 printable characters, no spaces.")
    return value


def _multiplier(row: dict[str, Any]) -> Decimal:
    if not row.get("multiplier"):
        return Decimal(1)
    value = _amount(row, "multiplier", positive=True)
    if value > MAX_MULTIPLIER:
        raise _Rejected("multiplier", f"Must be at most {MAX_MULTIPLIER}.")
    return value


def _currency(row: dict[str, str]) -> str:
    value = row.get("currency", "")
    if value and not re.fullmatch(CURRENCY_PATTERN, value):
        raise _Rejected("currency", "An ISO 4217 code such as USD.")
    return value
