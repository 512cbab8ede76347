"""The stats figures of users, added up by PostgreSQL from their trades.

SQL computes each trade's realized amounts (partial closes, the final exit, the trade's
own fees taken with its last close) and the sums per symbol. The sequential figures
stay in the pure calculator, which is fed two ordered sequences: each closed trade's
outcome (one character per trade, in `closed_at, id` order) and the realized amounts
in time order with their UTC day, streamed through a cursor so that memory does not grow
with a user's trades. The P&L per day is summed in that same pass: as a query of its own
it cost a third of the rebuild (docs/benchmarks.md). The result equals
`calculator.calculate` of the same trades (property-tested against PostgreSQL in
tests/integration/test_stats_sql.py); the formulas are those of fluxa/trades/pnl.py.

PostgreSQL's `numeric` is exact for +, − and ×, like `decimals.EXACT`; ids are compared
with COLLATE "C" (code point order, as Python compares strings).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from fluxa.stats.calculator import (
    BREAKEVEN,
    LOSS,
    WIN,
    Figures,
    SymbolFigures,
    realized_curve,
    streaks,
)

# +1 long, −1 short (fluxa.trades.trade.Side.direction).
_DIRECTION = "CASE t.side WHEN 'long' THEN 1 ELSE -1 END"

# One row per trade: what its partial closes realized (net of their fees), the final exit
# (on what the partials left), and the trade's own fees once it is closed.
_PER_TRADE = f"""
per_trade AS (
  SELECT t.user_id, t.id, t.symbol, t.closed_at, t.status = 'closed' AS closed,
         t.tags, t.entered_at,
         coalesce(t.initial_risk,
                  abs(t.entry_price - t.stop_price) * t.quantity * t.multiplier) AS risk,
         p.net + CASE WHEN t.exit_price IS NULL THEN 0
                      ELSE (t.exit_price - t.entry_price) * (t.quantity - p.quantity)
                           * t.multiplier * {_DIRECTION} END
           - CASE WHEN t.status = 'closed' THEN t.fees ELSE 0 END AS realized,
         p.fees + CASE WHEN t.status = 'closed' THEN t.fees ELSE 0 END AS fees
  FROM trades t
  CROSS JOIN LATERAL (
    SELECT coalesce(sum((c->>'quantity')::numeric), 0) AS quantity,
           coalesce(sum(((c->>'price')::numeric - t.entry_price) * (c->>'quantity')::numeric
                         * t.multiplier * {_DIRECTION}
                         - (c->>'fees')::numeric), 0) AS net,
           coalesce(sum((c->>'fees')::numeric), 0) AS fees
    FROM jsonb_array_elements(t.partial_closes) AS c
  ) AS p
  WHERE t.user_id = ANY(:users)
)"""

# The sums of a group of trades (calculator.SymbolFigures, column for field).
_SUMS = """count(*) AS trades, count(*) FILTER (WHERE closed) AS closed,
       count(*) FILTER (WHERE closed AND realized > 0) AS wins,
       count(*) FILTER (WHERE closed AND realized < 0) AS losses,
       sum(realized) AS net_pnl, sum(fees) AS fees,
       coalesce(sum(realized) FILTER (WHERE closed AND realized > 0), 0) AS gross_profit,
       coalesce(sum(realized) FILTER (WHERE closed AND realized < 0), 0) AS gross_loss,
       max(realized) FILTER (WHERE closed AND realized > 0) AS largest_win,
       min(realized) FILTER (WHERE closed AND realized < 0) AS largest_loss"""

# What is summed by group, as one statement over `per_trade` computed once (a CTE named
# more than once is materialized; three statements computed it three times): a row per
# `part` —
# "user" (all the user's trades: the outcomes for the streaks), "symbol", "tag",
# "weekday" and "hour" (the groupings of calculator.group_keys; weekday and hour of the
# entry in UTC, as the stored figures are) with their sums; and "risk", a row per closed
# trade that says its risk, for its R-multiple (divided in Python, exactly as
# calculator.RiskFigures does).
_SUMMED = f"""
WITH {_PER_TRADE},
grouped AS (
  SELECT p.*, 'symbol' AS kind, p.symbol AS key FROM per_trade p
  UNION ALL
  SELECT p.*, 'tag', tag FROM per_trade p CROSS JOIN LATERAL unnest(p.tags) tag
  UNION ALL
  SELECT p.*, 'weekday', extract(isodow FROM p.entered_at AT TIME ZONE 'UTC')::int::text
  FROM per_trade p
  UNION ALL
  SELECT p.*, 'hour', to_char(p.entered_at AT TIME ZONE 'UTC', 'HH24') FROM per_trade p
)
SELECT user_id, kind AS part, key, {_SUMS}, NULL AS outcomes,
       NULL::numeric AS realized, NULL::numeric AS risk
FROM grouped GROUP BY user_id, kind, key
UNION ALL
SELECT user_id, 'user', NULL, {_SUMS},
       string_agg(CASE WHEN realized > 0 THEN '{WIN}' WHEN realized < 0 THEN '{LOSS}'
                       ELSE '{BREAKEVEN}' END,
                  '' ORDER BY closed_at, id COLLATE "C") FILTER (WHERE closed),
       NULL, NULL
FROM per_trade GROUP BY user_id
UNION ALL
SELECT user_id, 'risk', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, realized, risk
FROM per_trade WHERE closed AND risk > 0
"""

# Every realized amount with its moment: each partial close (in list order) and the
# final exit; a closed trade's own fees go with its latest close (the first of equals).
_EVENTS = f"""
WITH legs AS (
  SELECT t.user_id, t.id, c.leg, (c.close->>'closed_at')::timestamptz AS at,
         ((c.close->>'price')::numeric - t.entry_price) * (c.close->>'quantity')::numeric
           * t.multiplier * {_DIRECTION} - (c.close->>'fees')::numeric AS amount,
         t.status = 'closed' AS closed, t.fees
  FROM trades t
  CROSS JOIN LATERAL jsonb_array_elements(t.partial_closes) WITH ORDINALITY AS c(close, leg)
  WHERE t.user_id = ANY(:users)
  UNION ALL
  SELECT t.user_id, t.id, jsonb_array_length(t.partial_closes) + 1, t.exited_at,
         (t.exit_price - t.entry_price)
           * CASE WHEN t.partial_closes = '[]' THEN t.quantity
                  ELSE t.quantity - (SELECT sum((c->>'quantity')::numeric)
                                     FROM jsonb_array_elements(t.partial_closes) AS c) END
           * t.multiplier * {_DIRECTION},
         true, t.fees
  FROM trades t
  WHERE t.user_id = ANY(:users) AND t.exit_price IS NOT NULL
), events AS (
  SELECT user_id, id, leg, at,
         amount - CASE WHEN closed AND row_number() OVER (
                          PARTITION BY id ORDER BY at DESC, leg) = 1
                       THEN fees ELSE 0 END AS amount
  FROM legs
)
"""

_IN_TIME_ORDER = (
    _EVENTS
    + """SELECT user_id, (at AT TIME ZONE 'UTC')::date AS day, amount
FROM events ORDER BY user_id, at, id COLLATE "C", leg"""
)


def figures_by_user(conn: Connection, user_ids: list[str], batch: int = 5000) -> dict[str, Figures]:
    """The figures of those users who have trades (run inside one snapshot)."""
    params = {"users": user_ids}
    # The planner guesses 100 partial closes per trade (jsonb_array_elements), so it would
    # compile these queries with JIT (on by default, as on RDS): 300 ms each, measured for
    # 10,000 trades, against 40 to 60 ms to run them.
    conn.execute(text("SET LOCAL jit = off"))
    figures: dict[str, Figures] = {}
    for row in conn.execute(text(_SUMMED), params).yield_per(batch):
        user = figures.setdefault(row.user_id, Figures())
        if row.part == "risk":
            user.risk.add(row.realized, row.risk)
        elif row.part == "user":
            user.longest_win_streak, user.longest_loss_streak = streaks(row.outcomes or "")
        elif row.part == "symbol":
            user.symbols[row.key] = _symbol(row)
        else:
            user.groups.setdefault(row.part, {})[row.key] = _symbol(row)
    ordered = conn.execute(text(_IN_TIME_ORDER), params).yield_per(batch)
    for user_id, rows in itertools.groupby(ordered, key=_first):
        user = figures[user_id]
        user.by_day, user.max_drawdown = realized_curve(_dated_amounts(rows))
    return figures


def _symbol(row: Any) -> SymbolFigures:
    """A group's row of `_SUMMED`, whose columns are named as the figures are."""
    return SymbolFigures(**{f.name: getattr(row, f.name) for f in fields(SymbolFigures)})


def _first(row: Any) -> str:
    return row[0]


def _dated_amounts(rows: Iterator[Any]) -> Iterator[tuple[dt.date, Decimal]]:
    return ((row[1], row[2]) for row in rows)
