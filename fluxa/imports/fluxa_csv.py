"""The `fluxa-csv` format (docs/imports.md): a header row, then one fill a row. Pure.

A bad row is rejected alone, with its line, the field at fault and why; a file without
the format's header is not a fluxa-csv file at all (`ImportFormatError`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fluxa.errors import ImportFormatError
from fluxa.imports.fills import Action, Fill
from fluxa.imports.rows import (
    ReadFills,
    Rejected,
    account_of,
    amount_of,
    collect,
    csv_records,
    currency_of,
    execution_id_of,
    in_zone,
    multiplier_of,
    symbol_of,
    utf8_text,
)

REQUIRED = ("executed_at", "account", "symbol", "side", "quantity", "price", "fees",
            "execution_id")  # fmt: skip


def read_fluxa_csv(data: bytes, *, account: str = "", zone: dt.tzinfo = dt.UTC) -> ReadFills:
    """The fills of a fluxa-csv file. `account` stands in for an empty account column;
    a time without an offset is read in `zone`."""
    header, records = csv_records(utf8_text(data))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFormatError(f"not a fluxa-csv file: no column {', '.join(missing)}")
    return collect(records, lambda row, line: _fill(row, account, zone, line))


def _fill(row: dict[str, str], default_account: str, zone: dt.tzinfo, line: int) -> Fill:
    return Fill(
        account=account_of(row.get("account", ""), default_account),
        symbol=symbol_of(row.get("symbol", "")),
        executed_at=_moment(row.get("executed_at", ""), zone),
        action=_action(row.get("side", "")),
        quantity=amount_of(row.get("quantity", ""), "quantity", positive=True),
        price=amount_of(row.get("price", ""), "price"),
        fees=amount_of(row.get("fees", ""), "fees", default=Decimal(0)),
        execution_id=execution_id_of(row.get("execution_id", "")),
        multiplier=multiplier_of(row.get("multiplier", "")),
        currency=currency_of(row.get("currency", "")),
        line=line,
    )


def _moment(value: str, zone: dt.tzinfo) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected("executed_at", "Not an ISO 8601 date and time.") from None
    return in_zone(moment, zone)


def _action(value: str) -> Action:
    try:
        return Action(value.lower())
    except ValueError:
        raise Rejected("side", "Must be buy or sell.") from None
