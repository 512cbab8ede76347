"""TradeStats from a user's trades (pure; formulas in docs/stats.md).

Stats are always computed from the full set of trades, never patched, so the
result does not depend on the order in which trades were written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

from fluxa.decimals import ratio, to_str
from fluxa.trades.pnl import RealizedEvent, net_pnl, realized_events, total_fees
from fluxa.trades.trade import Status, Trade

ZERO = Decimal(0)


@dataclass
class _SymbolTotals:
    trades: int = 0
    closed: int = 0
    wins: int = 0
    losses: int = 0
    net_pnl: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass
class _Accumulator:
    total: int = 0
    open: int = 0
    closed_nets: list[tuple[dt.datetime, str, Decimal]] = field(default_factory=list)
    events: list[RealizedEvent] = field(default_factory=list)
    fees: Decimal = ZERO
    by_symbol: dict[str, _SymbolTotals] = field(default_factory=lambda: defaultdict(_SymbolTotals))

    def add(self, trade: Trade) -> None:
        self.total += 1
        events = realized_events(trade)
        self.events.extend(events)
        realized = sum((e.amount for e in events), ZERO)
        symbol = self.by_symbol[trade.symbol]
        symbol.trades += 1
        symbol.net_pnl += realized
        if trade.status is Status.OPEN:
            self.open += 1
            realized_fees = sum((c.fees for c in trade.partial_closes), ZERO)
        else:
            # A closed trade's realized amounts sum to its net P&L (pnl.realized_events).
            net = realized if events else net_pnl(trade)
            self.closed_nets.append((trade.closed_at, trade.id, net))
            realized_fees = total_fees(trade)
            symbol.closed += 1
            symbol.wins += net > 0
            symbol.losses += net < 0
        self.fees += realized_fees
        symbol.fees += realized_fees


def _streaks(nets: list[Decimal]) -> tuple[int, int]:
    longest_win = longest_loss = win = loss = 0
    for net in nets:
        win = win + 1 if net > 0 else 0
        loss = loss + 1 if net < 0 else 0
        longest_win, longest_loss = max(longest_win, win), max(longest_loss, loss)
    return longest_win, longest_loss


def _max_drawdown(events: list[RealizedEvent]) -> Decimal:
    equity = peak = drawdown = ZERO
    for event in sorted(events, key=attrgetter("at", "trade_id")):
        equity += event.amount
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    return drawdown


def _by_day(events: list[RealizedEvent]) -> list[dict[str, str]]:
    days: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    for event in events:
        days[event.at.astimezone(dt.UTC).date()] += event.amount
    return [{"date": day.isoformat(), "net_pnl": to_str(days[day])} for day in sorted(days)]


def calculate(trades: Iterable[Trade]) -> dict[str, Any]:
    """The TradeStats document of these trades (money as decimal strings)."""
    acc = _Accumulator()
    for trade in trades:
        acc.add(trade)
    ordered = [net for _, _, net in sorted(acc.closed_nets)]  # (closed_at, id) are unique
    wins = [n for n in ordered if n > 0]
    losses = [n for n in ordered if n < 0]
    gross_profit, gross_loss = sum(wins, ZERO), sum(losses, ZERO)
    closed = len(ordered)
    longest_win, longest_loss = _streaks(ordered)
    return {
        "total_trades": acc.total,
        "open_trades": acc.open,
        "closed_trades": closed,
        "wins": len(wins),
        "losses": len(losses),
        "breakeven": closed - len(wins) - len(losses),
        "win_rate": to_str(ratio(Decimal(len(wins)), Decimal(closed))),
        "gross_profit": to_str(gross_profit),
        "gross_loss": to_str(gross_loss),
        "fees": to_str(acc.fees),
        "net_pnl": to_str(sum((e.amount for e in acc.events), ZERO)),
        "profit_factor": to_str(ratio(gross_profit, -gross_loss)),
        "expectancy": to_str(ratio(sum(ordered, ZERO), Decimal(closed))),
        "avg_win": to_str(ratio(gross_profit, Decimal(len(wins)))),
        "avg_loss": to_str(ratio(gross_loss, Decimal(len(losses)))),
        "largest_win": to_str(max(wins, default=None)),
        "largest_loss": to_str(min(losses, default=None)),
        "max_drawdown": to_str(_max_drawdown(acc.events)),
        "longest_win_streak": longest_win,
        "longest_loss_streak": longest_loss,
        "by_symbol": {
            name: {
                "trades": s.trades,
                "closed_trades": s.closed,
                "wins": s.wins,
                "losses": s.losses,
                "net_pnl": to_str(s.net_pnl),
                "fees": to_str(s.fees),
            }
            for name, s in sorted(acc.by_symbol.items())
        },
        "by_day": _by_day(acc.events),
    }
