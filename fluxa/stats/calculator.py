"""TradeStats from a user's trades (pure; formulas in docs/stats.md).

Stats are always computed from the full set of trades, never patched, so the
result does not depend on the order in which trades were written. Two paths feed the
same `document`: `calculate` adds up `Trade` objects here, and the rebuild has
PostgreSQL add up the same sums (`fluxa.stats.sql_figures`); the sequential figures
(streaks, and the drawdown with the P&L per day, which share its pass over the realized
amounts) are always computed here, from sequences either path supplies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

from fluxa.decimals import exact, ratio, to_str
from fluxa.trades.pnl import RealizedEvent, realized_events, risk, total_fees
from fluxa.trades.trade import Status, Trade

ZERO = Decimal(0)
WIN, LOSS, BREAKEVEN = "W", "L", "-"  # a closed trade's outcome


@dataclass
class SymbolFigures:
    """The sums over one group of trades: a symbol's, a tag's, an entry weekday's or hour's
    (money realized so far; wins and losses by the net P&L of closed trades)."""

    trades: int = 0
    closed: int = 0
    wins: int = 0
    losses: int = 0
    net_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    gross_profit: Decimal = ZERO
    gross_loss: Decimal = ZERO
    largest_win: Decimal | None = None
    largest_loss: Decimal | None = None


@dataclass
class RiskFigures:
    """The R-multiples of the closed trades that say their risk: each one's net P&L over
    its risk, to 6 places (so sums are exact in any order), added up by outcome."""

    trades: int = 0
    total: Decimal = ZERO
    wins: int = 0
    win_total: Decimal = ZERO
    losses: int = 0
    loss_total: Decimal = ZERO

    @exact
    def add(self, net: Decimal, risk: Decimal) -> None:
        """Count a closed trade of net P&L `net` that risked `risk` (> 0)."""
        r = ratio(net, risk)
        assert r is not None  # risk > 0
        self.trades += 1
        self.total += r
        if net > 0:
            self.wins += 1
            self.win_total += r
        elif net < 0:
            self.losses += 1
            self.loss_total += r


@dataclass
class Figures:
    """Everything a TradeStats document is made of."""

    symbols: dict[str, SymbolFigures] = field(default_factory=dict)
    #: The other groupings, by the trade's tags and the weekday (ISO: 1 is Monday) and
    #: hour of its entry; "tag", "weekday", "hour" → key → sums.
    groups: dict[str, dict[str, SymbolFigures]] = field(default_factory=dict)
    by_day: dict[dt.date, Decimal] = field(default_factory=dict)
    risk: RiskFigures = field(default_factory=RiskFigures)
    max_drawdown: Decimal = ZERO
    longest_win_streak: int = 0
    longest_loss_streak: int = 0


def outcome(net: Decimal) -> str:
    """WIN, LOSS or BREAKEVEN for a closed trade's net P&L."""
    return WIN if net > 0 else LOSS if net < 0 else BREAKEVEN


def streaks(outcomes: Iterable[str]) -> tuple[int, int]:
    """The longest runs of WIN and of LOSS in `outcomes` (closed trades in closed order)."""
    longest_win = longest_loss = win = loss = 0
    for result in outcomes:
        win = win + 1 if result == WIN else 0
        loss = loss + 1 if result == LOSS else 0
        longest_win, longest_loss = max(longest_win, win), max(longest_loss, loss)
    return longest_win, longest_loss


@exact
def realized_curve(
    amounts: Iterable[tuple[dt.date, Decimal]],
) -> tuple[dict[dt.date, Decimal], Decimal]:
    """The P&L per UTC day and the max drawdown of the equity curve of realized amounts,
    given in time order as (UTC day, amount)."""
    by_day: dict[dt.date, Decimal] = {}
    equity = peak = drawdown = ZERO
    for day, amount in amounts:
        by_day[day] = by_day.get(day, ZERO) + amount
        equity += amount
        if equity > peak:
            peak = equity
        elif peak - equity > drawdown:
            drawdown = peak - equity
    return by_day, drawdown


@exact
def calculate(trades: Iterable[Trade], zone: dt.tzinfo = dt.UTC) -> dict[str, Any]:
    """The TradeStats document of these trades (money as decimal strings); `by_day` by
    the days of `zone`."""
    figures = Figures(symbols=defaultdict(SymbolFigures))
    closed: list[tuple[dt.datetime, str, Decimal]] = []
    events: list[RealizedEvent] = []
    for trade in trades:
        trade_events = realized_events(trade)
        events.extend(trade_events)
        for kind, key in group_keys(trade, zone):
            group = figures.groups.setdefault(kind, {}).setdefault(key, SymbolFigures())
            _add(group, trade, trade_events)
        net = _add(figures.symbols[trade.symbol], trade, trade_events)
        if net is not None:
            closed.append((trade.closed_at, trade.id, net))
            risked = risk(trade)
            if risked is not None:
                figures.risk.add(net, risked)
    in_time_order = sorted(events, key=attrgetter("at", "trade_id"))  # stable: legs in order
    figures.by_day, figures.max_drawdown = realized_curve(
        (e.at.astimezone(zone).date(), e.amount) for e in in_time_order
    )
    ordered = sorted(closed)  # (closed_at, id) are unique
    figures.longest_win_streak, figures.longest_loss_streak = streaks(
        outcome(net) for _, _, net in ordered
    )
    return document(figures)


def group_keys(trade: Trade, zone: dt.tzinfo) -> list[tuple[str, str]]:
    """The groups `trade` counts in besides its symbol: each tag, and the ISO weekday and
    the hour (two digits) of its entry in `zone`."""
    entered = trade.entered_at.astimezone(zone)
    keys = [("tag", tag) for tag in trade.tags]
    return [*keys, ("weekday", str(entered.isoweekday())), ("hour", f"{entered.hour:02d}")]


def _add(symbol: SymbolFigures, trade: Trade, events: list[RealizedEvent]) -> Decimal | None:
    """Add `trade` to its symbol's sums; its net P&L when it is closed."""
    realized = sum((e.amount for e in events), ZERO)
    symbol.trades += 1
    symbol.net_pnl += realized
    if trade.status is Status.OPEN:
        symbol.fees += sum((c.fees for c in trade.partial_closes), ZERO)
        return None
    # A closed trade has at least one close, and its realized amounts sum to its net P&L.
    symbol.fees += total_fees(trade)
    symbol.closed += 1
    if realized > 0:
        symbol.wins += 1
        symbol.gross_profit += realized
        if symbol.largest_win is None or realized > symbol.largest_win:
            symbol.largest_win = realized
    elif realized < 0:
        symbol.losses += 1
        symbol.gross_loss += realized
        if symbol.largest_loss is None or realized < symbol.largest_loss:
            symbol.largest_loss = realized
    return realized


@exact
def document(figures: Figures) -> dict[str, Any]:
    """The TradeStats document (money as decimal strings) of these figures."""
    symbols = figures.symbols.values()
    closed = sum(s.closed for s in symbols)
    wins = sum(s.wins for s in symbols)
    losses = sum(s.losses for s in symbols)
    gross_profit = sum((s.gross_profit for s in symbols), ZERO)
    gross_loss = sum((s.gross_loss for s in symbols), ZERO)
    total = sum(s.trades for s in symbols)
    return {
        "total_trades": total,
        "open_trades": total - closed,
        "closed_trades": closed,
        "wins": wins,
        "losses": losses,
        "breakeven": closed - wins - losses,
        "win_rate": to_str(ratio(Decimal(wins), Decimal(closed))),
        "gross_profit": to_str(gross_profit),
        "gross_loss": to_str(gross_loss),
        "fees": to_str(sum((s.fees for s in symbols), ZERO)),
        "net_pnl": to_str(sum((s.net_pnl for s in symbols), ZERO)),
        "profit_factor": to_str(ratio(gross_profit, -gross_loss)),
        "expectancy": to_str(ratio(gross_profit + gross_loss, Decimal(closed))),
        "avg_win": to_str(ratio(gross_profit, Decimal(wins))),
        "avg_loss": to_str(ratio(gross_loss, Decimal(losses))),
        "largest_win": to_str(max(_present(s.largest_win for s in symbols), default=None)),
        "largest_loss": to_str(min(_present(s.largest_loss for s in symbols), default=None)),
        "max_drawdown": to_str(figures.max_drawdown),
        "r_trades": figures.risk.trades,
        "average_r": to_str(ratio(figures.risk.total, Decimal(figures.risk.trades))),
        # The R a closed trade makes on average: win rate × average win in R + loss rate ×
        # average loss in R, which is the average R itself.
        "expectancy_r": to_str(ratio(figures.risk.total, Decimal(figures.risk.trades))),
        "average_win_r": to_str(ratio(figures.risk.win_total, Decimal(figures.risk.wins))),
        "average_loss_r": to_str(ratio(figures.risk.loss_total, Decimal(figures.risk.losses))),
        "longest_win_streak": figures.longest_win_streak,
        "longest_loss_streak": figures.longest_loss_streak,
        "by_symbol": _by(figures.symbols),
        "by_tag": _by(figures.groups.get("tag", {})),
        "by_weekday": {
            WEEKDAYS[int(day)]: sums for day, sums in _by(figures.groups.get("weekday", {})).items()
        },
        "by_hour": _by(figures.groups.get("hour", {})),
        "by_day": [
            {"date": day.isoformat(), "net_pnl": to_str(figures.by_day[day])}
            for day in sorted(figures.by_day)
        ],
    }


WEEKDAYS = {1: "monday", 2: "tuesday", 3: "wednesday", 4: "thursday", 5: "friday",
            6: "saturday", 7: "sunday"}  # fmt: skip


def _by(groups: dict[str, SymbolFigures]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "trades": s.trades,
            "closed_trades": s.closed,
            "wins": s.wins,
            "losses": s.losses,
            "win_rate": to_str(ratio(Decimal(s.wins), Decimal(s.closed))),
            "net_pnl": to_str(s.net_pnl),
            "fees": to_str(s.fees),
        }
        for name, s in sorted(groups.items())
    }


def _present(values: Iterable[Decimal | None]) -> list[Decimal]:
    return [v for v in values if v is not None]
