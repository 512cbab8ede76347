"""What every reader returns, and the checks of one fill's fields that all formats share.

A reader turns a file into fills; a bad row is rejected alone, with its line (for XML,
the line its element starts on), the field at fault and why (`Rejected` raised while
reading a row, collected as a `RejectedRow`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from fluxa.decimals import fits_storage
from fluxa.errors import ImportFormatError
from fluxa.imports.fills import Fill
from fluxa.trades.integrity import MAX_MULTIPLIER
from fluxa.trades.schemas import ACCOUNT_PATTERN, CURRENCY_PATTERN, SYMBOL_PATTERN

T = TypeVar("T")
_EXECUTION_ID = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its line in the file (the first line is 1)."""

    line: int
    field: str
    reason: str


@dataclass
class ReadFills:
    """What a file gave: its fills, and the rows refused."""

    fills: list[Fill] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class Rejected(Exception):
    """Raised by a reader's row check: this row is refused, for this field and reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def collect(rows: Iterable[tuple[int, T]], to_fill: Callable[[T, int], Fill]) -> ReadFills:
    """The fills of `rows` (each with its line), a row `to_fill` rejects refused alone."""
    result = ReadFills()
    for line, row in rows:
        try:
            result.fills.append(to_fill(row, line))
        except Rejected as rejected:
            result.rejected.append(RejectedRow(line, rejected.field, rejected.reason))
    return result


def utf8_text(data: bytes) -> str:
    """`data` as text (a byte order mark dropped); not UTF-8 is not any format of ours."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not UTF-8 text (byte {exc.start})") from None


def csv_records(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """A CSV file's header and its non-blank rows as (line, {column: stripped value}).
    What the csv module cannot split (a field over its 128 KiB limit) ends the file as
    not CSV: there is no telling where the next row would begin."""
    rows = csv.reader(io.StringIO(text, newline=""))
    first = _next_row(rows)
    header = [name.strip() for name in first or []]

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        while (values := _next_row(rows)) is not None:
            if any(value.strip() for value in values):
                values = [value.strip() for value in values]
                yield rows.line_num, dict(zip(header, values, strict=False))

    return header, records()


def _next_row(rows: Any) -> list[str] | None:
    try:
        return next(rows, None)
    except csv.Error as exc:
        raise ImportFormatError(f"not CSV: line {rows.line_num}: {exc}") from None


def account_of(value: str, default: str, name: str = "account") -> str:
    """The row's account (`default` when empty), checked."""
    account = value or default
    if account and not re.fullmatch(ACCOUNT_PATTERN, account):
        raise Rejected(name, "Must be 1-64 characters [A-Za-z0-9._:-].")
    return account


def symbol_of(value: str, name: str = "symbol") -> str:
    """A symbol as trades carry it (upper case)."""
    if not re.fullmatch(SYMBOL_PATTERN, value):
        raise Rejected(name, "Must be 1-32 characters [A-Za-z0-9._/:-].")
    return value.upper()


def amount_of(
    raw: str, name: str, *, positive: bool = False, default: Decimal | None = None
) -> Decimal:
    """A non-negative decimal that fits the trades table (`positive`: above zero)."""
    if raw == "" and default is not None:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Rejected(name, "Not a decimal number.") from None
    if not value.is_finite() or not fits_storage(value):
        raise Rejected(name, "At most 18 integer and 10 fractional digits.")
    if value < 0 or (positive and value == 0):
        raise Rejected(name, "Must be greater than 0." if positive else "Must not be negative.")
    return value


def multiplier_of(raw: str, name: str = "multiplier") -> Decimal:
    """A contract multiplier (1 when empty)."""
    if not raw:
        return Decimal(1)
    value = amount_of(raw, name, positive=True)
    if value > MAX_MULTIPLIER:
        raise Rejected(name, f"Must be at most {MAX_MULTIPLIER}.")
    return value


def execution_id_of(value: str, name: str = "execution_id") -> str:
    """The broker's id of the execution: what makes a fill seen twice one fill."""
    if not _EXECUTION_ID.fullmatch(value):
        raise Rejected(name, "Required: 1-128 printable characters, no spaces.")
    return value


def currency_of(value: str, name: str = "currency") -> str:
    """An ISO 4217 code, or empty."""
    if value and not re.fullmatch(CURRENCY_PATTERN, value):
        raise Rejected(name, "An ISO 4217 code such as USD.")
    return value


def in_zone(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """`moment` as it is when it has an offset; else read in `zone`."""
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
