"""Tradovate's Fills report (CSV), format `tradovate-fills`. Pure.

Tradovate clears futures for many prop firms; its "Fills" report (Account → Reports →
Fills, CSV) has one execution a row with its fill id, and names the contract (`ESZ6`)
and its product (`ES`) but not the product's point value, so the multiplier comes from
`POINT_VALUES` (CME's contract specifications); a product not listed there is refused
row by row, never imported at a wrong value. The report's columns come twice, as the API
names them (`timestamp`, `qty`, ...) and as the screen shows them (`Timestamp`,
`Quantity`, ...): either is read, the API's first (its time is UTC).
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
    execution_id_of,
    in_zone,
    symbol_of,
    utf8_text,
)

#: Dollars per point of the CME products traded most through Tradovate.
POINT_VALUES: dict[str, Decimal] = {
    name: Decimal(value)
    for name, value in {
        "ES": "50", "MES": "5", "NQ": "20", "MNQ": "2", "YM": "5", "MYM": "0.5",
        "RTY": "50", "M2K": "5", "CL": "1000", "MCL": "100", "QM": "500", "NG": "10000",
        "GC": "100", "MGC": "10", "SI": "5000", "SIL": "1000", "HG": "25000",
        "ZB": "1000", "ZN": "1000", "ZF": "1000", "ZT": "2000", "6E": "125000",
        "6J": "12500000", "6B": "62500", "6A": "100000", "6C": "100000", "M6E": "12500",
        "ZC": "50", "ZS": "50", "ZW": "50", "HE": "400", "LE": "400",
    }.items()
}  # fmt: skip
#: Either spelling of each column the reader needs: (API name, report name).
COLUMNS = {"id": ("id", "Fill ID"), "time": ("timestamp", "Timestamp"), "side": ("action", "B/S"),
           "quantity": ("qty", "Quantity"), "price": ("price", "Price"),
           "contract": ("Contract", "Contract"), "product": ("Product", "Product")}  # fmt: skip
_REPORT_TIME = "%m/%d/%Y %H:%M:%S"


def read_tradovate_fills(data: bytes, *, account: str = "", zone: dt.tzinfo = dt.UTC) -> ReadFills:
    """The fills of a Tradovate Fills report; report times without an offset are read in
    `zone` (the API column's are UTC)."""
    header, records = csv_records(utf8_text(data))
    missing = [pair[1] for pair in COLUMNS.values() if not set(pair) & set(header)]
    if missing:
        raise ImportFormatError(f"not a Tradovate Fills report: no column {', '.join(missing)}")
    return collect(records, lambda row, line: _fill(row, account, zone, line))


def _value(row: dict[str, str], column: str) -> tuple[str, str]:
    """(the column's name in this file, its value) for one of `COLUMNS`."""
    for name in COLUMNS[column]:
        if row.get(name):
            return name, row[name]
    return COLUMNS[column][1], ""


def _fill(row: dict[str, str], default_account: str, zone: dt.tzinfo, line: int) -> Fill:
    product_column, product = _value(row, "product")
    if product not in POINT_VALUES:
        raise Rejected(product_column, f"No known point value for product {product!r}.")
    return Fill(
        account=account_of(row.get("Account") or row.get("account", ""), default_account,
                           "Account"),
        symbol=symbol_of(_value(row, "contract")[1], "Contract"),
        executed_at=_moment(*_value(row, "time"), zone),
        action=_action(*_value(row, "side")),
        quantity=amount_of(_value(row, "quantity")[1], "Quantity", positive=True),
        price=amount_of(_value(row, "price")[1], "Price"),
        fees=amount_of(row.get("commission", ""), "commission", default=Decimal(0)),
        execution_id=execution_id_of(_value(row, "id")[1], "Fill ID"),
        multiplier=POINT_VALUES[product],
        line=line,
    )  # fmt: skip


def _moment(column: str, value: str, zone: dt.tzinfo) -> dt.datetime:
    try:
        if column == "timestamp":
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
        return in_zone(dt.datetime.strptime(value, _REPORT_TIME), zone)
    except ValueError:
        raise Rejected(column, "Not a time such as 12/01/2026 09:35:12 or its ISO form.") from None


def _action(column: str, value: str) -> Action:
    try:
        return Action(value.strip().lower())
    except ValueError:
        raise Rejected(column, "Must be Buy or Sell.") from None
