"""Realized P&L of a trade (pure, Decimal only, never rounded: see `decimals.EXACT`).

Every close — each partial close and the final exit of what remains — realizes
(close price − entry price) × quantity × multiplier × (+1 long, −1 short). A closed trade's net
P&L is the sum over its closes minus all of its fees (the trade's own and each
partial close's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from fluxa.decimals import exact
from fluxa.trades.trade import Status, Trade


@dataclass(frozen=True)
class RealizedEvent:
    """P&L realized at one moment (fees of that moment deducted)."""

    at: dt.datetime
    amount: Decimal
    trade_id: str


def close_legs(trade: Trade) -> list[tuple[Decimal, Decimal, dt.datetime, Decimal]]:
    """(quantity, price, closed_at, fees) of every close, partials first, then the final exit."""
    legs = [(c.quantity, c.price, c.closed_at, c.fees) for c in trade.partial_closes]
    if trade.exit_price is not None and trade.exited_at is not None:
        legs.append((trade.remaining_quantity, trade.exit_price, trade.exited_at, Decimal(0)))
    return legs


def leg_gross(trade: Trade, quantity: Decimal, price: Decimal) -> Decimal:
    return (price - trade.entry_price) * quantity * trade.multiplier * trade.side.direction


@exact
def realized_gross(trade: Trade) -> Decimal:
    """Sum over closes of (price − entry) × quantity × direction, before fees."""
    return sum((leg_gross(trade, q, p) for q, p, _, _ in close_legs(trade)), Decimal(0))


@exact
def total_fees(trade: Trade) -> Decimal:
    """The trade's fees plus every partial close's fees."""
    return trade.fees + sum((c.fees for c in trade.partial_closes), Decimal(0))


@exact
def net_pnl(trade: Trade) -> Decimal:
    """A closed trade's net P&L: realized gross minus all fees."""
    return realized_gross(trade) - total_fees(trade)


@exact
def risk(trade: Trade) -> Decimal | None:
    """What the trade risked: its `initial_risk`, or the distance from entry to its stop
    price × quantity × multiplier; None when it says neither (or the stop is the entry)."""
    if trade.initial_risk is not None:
        return trade.initial_risk
    if trade.stop_price is None:
        return None
    distance = abs(trade.entry_price - trade.stop_price)
    return distance * trade.quantity * trade.multiplier or None


@exact
def realized_events(trade: Trade) -> list[RealizedEvent]:
    """What the trade realized and when: each close net of its own fees; the trade's
    own fees are realized with its last close, once it is closed.

    For a closed trade the amounts sum to `net_pnl`; an open trade realizes only
    its partial closes.
    """
    events = [
        RealizedEvent(at, leg_gross(trade, q, p) - fees, trade.id)
        for q, p, at, fees in close_legs(trade)
    ]
    if trade.status is Status.CLOSED and trade.fees and events:
        last = max(range(len(events)), key=lambda i: events[i].at)
        events[last] = RealizedEvent(events[last].at, events[last].amount - trade.fees, trade.id)
    return events


@exact
def realized_net(trade: Trade) -> Decimal:
    """What the trade has realized so far, after the fees realized with it."""
    return sum((event.amount for event in realized_events(trade)), Decimal(0))
