"""Fills into trades (architecture: "Imports and exports"). Pure.

Per account and symbol, in time order: a fill from flat opens a trade (long when it
buys); fills that add to the position raise its quantity at the average entry price;
fills that reduce it are partial closes; the fill that brings it to flat is the exit; a
fill that crosses zero is the exit of what was open (with all of its fees) and opens the
opposite trade with the rest. Each fill counts once, by its account and execution id.

One average entry price for everything bought (or sold short) makes a round trip that
ends flat realize exactly its cash flows: Σ (close price − average) × close quantity is
what was sold minus what was bought. The average is kept to 10 decimal places (what
the trades table holds), so a trade whose average does not end there realizes up to
half of 10⁻¹⁰ × quantity × multiplier more or less than its cash flows.

Fills of one moment are taken in the order the file lists them: an export lists a
trade's exit before the entry of the trade a crossing fill opened at that moment (trades
oldest first, each one's fills in order), and importing it again keeps them so. Trade
ids come from the first fill of the trade, so the same fills make the same trades
whenever they are read again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from fluxa.decimals import EXACT, exact
from fluxa.imports.fills import Action, Fill
from fluxa.trades.trade import PartialClose, Side, Trade

#: The namespace of the ids of imported trades (uuid5 of user, account, symbol, fill).
IMPORTED_TRADES = uuid.UUID("5d0c1a52-9f0e-4f3e-8c55-6a1f1f6b7a01")
PRICE_PLACES = Decimal("1E-10")


def unique_fills(fills: Iterable[Fill]) -> list[Fill]:
    """Each fill once (the first seen of each account and execution id)."""
    seen: dict[tuple[str, str], Fill] = {}
    for fill in fills:
        seen.setdefault(fill.key, fill)
    return list(seen.values())


def trades_from_fills(fills: Iterable[Fill], user_id: str) -> list[Trade]:
    """The trades `fills` make, by account and symbol, each fill counted once."""
    books: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for fill in unique_fills(fills):
        books[(fill.account, fill.symbol)].append(fill)
    trades: list[Trade] = []
    for _, book in sorted(books.items()):
        book.sort(key=lambda f: f.executed_at)  # stable: fills of one moment in file order
        trades += _walk(book, user_id)
    return trades


@dataclass
class _Position:
    """The trade being built from fills."""

    id: str
    first: Fill
    side: Side
    quantity: Decimal
    cost: Decimal
    fees: Decimal
    entered_at: dt.datetime
    partials: list[PartialClose] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - sum((c.quantity for c in self.partials), Decimal(0))

    def adds(self, fill: Fill) -> bool:
        return (fill.action is Action.BUY) == (self.side is Side.LONG)

    def trade(self, user_id: str, exit_fill: Fill | None = None) -> Trade:
        entry = EXACT.divide(self.cost, self.quantity).quantize(
            PRICE_PLACES, rounding=ROUND_HALF_EVEN, context=EXACT
        )
        return Trade(
            id=self.id, user_id=user_id, symbol=self.first.symbol, side=self.side,
            quantity=self.quantity, entry_price=entry, entered_at=self.entered_at,
            fees=self.fees + (exit_fill.fees if exit_fill else Decimal(0)),
            account=self.first.account, multiplier=self.first.multiplier,
            currency=self.first.currency,
            exit_price=exit_fill.price if exit_fill else None,
            exited_at=exit_fill.executed_at if exit_fill else None,
            partial_closes=tuple(self.partials),
        )  # fmt: skip


@exact
def _walk(book: list[Fill], user_id: str) -> list[Trade]:
    """The trades of one account and symbol's fills, in time order."""
    trades: list[Trade] = []
    position: _Position | None = None
    for fill in book:
        if position is None:
            position = _open(fill, fill.quantity, fill.fees, user_id, "")
        elif position.adds(fill):
            position.quantity += fill.quantity
            position.cost += fill.quantity * fill.price
            position.fees += fill.fees
        elif fill.quantity < position.remaining:
            position.partials.append(
                PartialClose(fill.quantity, fill.price, fill.executed_at, fill.fees)
            )
        else:
            rest = fill.quantity - position.remaining
            trades.append(position.trade(user_id, exit_fill=fill))
            position = _open(fill, rest, Decimal(0), user_id, ":flip") if rest else None
    if position is not None:
        trades.append(position.trade(user_id))
    return trades


def _open(fill: Fill, quantity: Decimal, fees: Decimal, user_id: str, suffix: str) -> _Position:
    name = "\x1f".join((user_id, fill.account, fill.symbol, fill.execution_id + suffix))
    return _Position(
        id=str(uuid.uuid5(IMPORTED_TRADES, name)), first=fill,
        side=Side.LONG if fill.action is Action.BUY else Side.SHORT,
        quantity=quantity, cost=quantity * fill.price, fees=fees,
        entered_at=fill.executed_at,
    )  # fmt: skip
