"""A user's trades, exported: as the fills that make them, in the `fluxa-csv` import
format (architecture: "Imports and exports"), or as JSON documents. Pure: the callers
page through the trades and send the chunks as they come, so an export of any size
holds one page in memory.

A trade becomes its fills: the opening fill (buy for a long, sell for a short) with the
trade's fees, one fill per partial close with that close's fees, and the exit for what
the partial closes left. Importing them again makes the same trade, with the same net
P&L. Execution ids are the trade's id and the fill's place in it, so a second import of
the same export skips every fill.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from fluxa.decimals import to_str
from fluxa.trades.trade import Side, Trade

CSV_COLUMNS = ("executed_at", "account", "symbol", "side", "quantity", "price", "fees",
               "execution_id", "multiplier", "currency")  # fmt: skip
#: Rows written before a chunk goes out.
ROWS_PER_CHUNK = 500


def fills_of(trade: Trade) -> list[dict[str, str]]:
    """The fills that make `trade`, in time order, as fluxa-csv rows."""
    opening, closing = ("buy", "sell") if trade.side is Side.LONG else ("sell", "buy")
    fills = [_fill(trade, trade.entered_at, opening, trade.quantity, trade.entry_price,
                   trade.fees, "open")]  # fmt: skip
    for n, close in enumerate(trade.partial_closes, start=1):
        fills.append(_fill(trade, close.closed_at, closing, close.quantity, close.price,
                           close.fees, f"close-{n}"))  # fmt: skip
    if trade.exit_price is not None and trade.exited_at is not None and trade.remaining_quantity:
        fills.append(_fill(trade, trade.exited_at, closing, trade.remaining_quantity,
                           trade.exit_price, Decimal(0), "exit"))  # fmt: skip
    return fills


def _fill(
    trade: Trade, at: dt.datetime, side: str, quantity: Decimal, price: Decimal,
    fees: Decimal, step: str,
) -> dict[str, str]:  # fmt: skip
    return {
        "executed_at": at.isoformat(),
        "account": trade.account,
        "symbol": trade.symbol,
        "side": side,
        "quantity": to_str(quantity),
        "price": to_str(price),
        "fees": to_str(fees),
        "execution_id": f"{trade.id}:{step}",
        "multiplier": to_str(trade.multiplier),
        "currency": trade.currency,
    }


def csv_chunks(trades: Iterable[Trade]) -> Iterator[bytes]:
    """The header, then the trades' fills, `ROWS_PER_CHUNK` rows a chunk (UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    rows = 0
    for trade in trades:
        for fill in fills_of(trade):
            writer.writerow(fill)
            rows += 1
        if rows >= ROWS_PER_CHUNK:
            yield _drain(buffer)
            rows = 0
    yield _drain(buffer)


def json_chunks(
    trades: Iterable[Trade], document: Callable[[Trade], dict[str, Any]]
) -> Iterator[bytes]:
    """One JSON array of `document(trade)` for every trade, a chunk per
    `ROWS_PER_CHUNK` trades."""
    buffer = io.StringIO()
    buffer.write("[")
    count = 0
    for count, trade in enumerate(trades, start=1):
        if count > 1:
            buffer.write(",")
        json.dump(document(trade), buffer, default=_iso, separators=(",", ":"))
        if count % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    buffer.write("]")
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
