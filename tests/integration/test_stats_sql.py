"""The sums PostgreSQL computes for the stats equal the pure calculator's, to the digit.

Random valid trades (ties in time within and across trades, closes at other UTC
offsets, amounts up to the 18 integer and 10 fractional digits a NUMERIC(28, 10) holds,
ids whose order differs between collations) are written to the real database; the
document made from `sql_figures.figures_by_user` must equal `calculate` of the same
trades, user by user.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from fluxa.stats.calculator import Figures, calculate, document
from fluxa.stats.sql_figures import figures_by_user
from fluxa.trades import integrity
from fluxa.trades import repository as trades_repository
from fluxa.trades.trade import PartialClose, Side, Trade

T0 = dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)
OFFSETS = [
    dt.UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=-8)),
]
# A few moments only, so that closes often fall at the same instant; around midnight UTC.
moments = st.builds(
    lambda minutes, zone: (T0 + dt.timedelta(minutes=minutes)).astimezone(zone),
    st.sampled_from([0, 30, 59, 60, 61, 120, 24 * 60 + 1]),
    st.sampled_from(OFFSETS),
)
EXTREME = Decimal("999999999999999999.9999999999")
amounts = st.one_of(
    st.integers(0, 300).map(Decimal),
    st.decimals(min_value=0, max_value=1000, places=10, allow_nan=False),
    st.decimals(min_value=0, max_value=EXTREME, places=10, allow_nan=False),
    st.just(EXTREME),
)
positive = amounts.filter(lambda a: a > 0)
# Ids whose order is not the same in every collation (Python and "C": 'B' < 'a').
ids = st.text(alphabet="aAbB-_9é", min_size=1, max_size=4)


@st.composite
def a_trade(draw: st.DrawFn, user_id: str, trade_id: str) -> Trade:
    quantity = draw(positive)
    entered_at = T0 - dt.timedelta(days=draw(st.integers(0, 2)), hours=draw(st.integers(0, 23)))
    closes: list[PartialClose] = []
    left = quantity
    for _ in range(draw(st.integers(0, 3))):
        part = draw(st.sampled_from([left, left / 2, left / 3, Decimal("0.0000000001")]))
        part = part.quantize(Decimal("1E-10"), rounding="ROUND_DOWN")
        if part <= 0 or part > left:
            break
        closes.append(PartialClose(part, draw(amounts), draw(moments), draw(amounts)))
        left -= part
    closes.sort(key=lambda c: c.closed_at)
    exit_at = draw(st.one_of(st.none(), moments)) if left > 0 else None
    if exit_at is not None and closes:
        exit_at = max(exit_at, max(c.closed_at for c in closes))
    return Trade(
        id=trade_id,
        user_id=user_id,
        symbol=draw(st.sampled_from(["AAPL", "MSFT", "btc"])),
        side=draw(st.sampled_from(list(Side))),
        quantity=quantity,
        entry_price=draw(amounts),
        entered_at=entered_at,
        fees=draw(amounts),
        # Shares, an index future, a fraction of a lot.
        multiplier=draw(st.sampled_from([Decimal(1), Decimal(50), Decimal("0.1")])),
        tags=tuple(draw(st.lists(st.sampled_from(["breakout", "news", "é"]), unique=True))),
        initial_risk=draw(st.one_of(st.none(), positive)),
        stop_price=draw(st.one_of(st.none(), amounts)),
        exit_price=None if exit_at is None else draw(amounts),
        exited_at=exit_at,
        partial_closes=tuple(closes),
    )


@st.composite
def books(draw: st.DrawFn) -> list[Trade]:
    """Valid trades of two users, with distinct ids."""
    trade_ids = draw(st.lists(ids, max_size=12, unique=True))
    book = [draw(a_trade(draw(st.sampled_from(["u1", "u2"])), i)) for i in trade_ids]
    return [t for t in book if not integrity.problems(t)]


pytestmark = pytest.mark.integration


# A session time zone of the database's own, which the SQL must not depend on.
session_zones = st.sampled_from(["UTC", "Asia/Kolkata", "America/Los_Angeles"])


def _as_on_rds(conn: Connection, zone: str) -> None:
    """Within the test's transaction: ids compared as under a linguistic collation
    (RDS's default is en_US.UTF-8; here an ICU one where the server has ICU), and the
    session's time zone set to `zone`."""
    if conn.execute(text("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")).first():
        conn.execute(text('ALTER TABLE trades ALTER COLUMN id TYPE text COLLATE "und-x-icu"'))
    conn.execute(text("SELECT set_config('TimeZone', :zone, true)"), {"zone": zone})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), session_zones)
def test_sql_figures_equal_the_pure_calculator(engine, book, zone):
    with engine.connect() as conn, conn.begin() as transaction:
        _as_on_rds(conn, zone)
        for trade in book:
            trades_repository.insert(conn, trade)
        figures = figures_by_user(conn, ["u1", "u2", "nobody"])
        transaction.rollback()
    assert "nobody" not in figures
    for user in ("u1", "u2"):
        mine = [t for t in book if t.user_id == user]
        assert document(figures.get(user) or Figures()) == calculate(mine), user


def test_extreme_amounts_are_exact_not_rounded(engine):
    """A trade at the limits of NUMERIC(28, 10): 57-digit P&L, ratios of it, no rounding."""
    trade = Trade(
        id="extreme",
        user_id="u1",
        symbol="X",
        side=Side.LONG,
        quantity=EXTREME,
        entry_price=Decimal("0.0000000001"),
        entered_at=T0,
        exit_price=EXTREME,
        exited_at=T0,
    )
    expected_net = (Fraction(EXTREME) - Fraction("0.0000000001")) * Fraction(EXTREME)
    stats = calculate([trade])
    assert Fraction(stats["net_pnl"]) == expected_net  # 56 digits, none rounded away
    assert Fraction(stats["expectancy"]) == round(expected_net, 6)
    with engine.connect() as conn, conn.begin() as transaction:
        trades_repository.insert(conn, trade)
        figures = figures_by_user(conn, ["u1"])
        transaction.rollback()
    assert document(figures["u1"]) == stats
