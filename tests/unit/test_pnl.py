import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluxa.errors import SchemaValidationError
from fluxa.trades import integrity
from fluxa.trades.pnl import net_pnl, realized_events, realized_gross, total_fees
from fluxa.trades.trade import PartialClose, Side, Status, Trade

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
D = Decimal


def trade(**overrides) -> Trade:
    values = dict(
        id="t1",
        user_id="u",
        symbol="AAPL",
        side=Side.LONG,
        quantity=D(10),
        entry_price=D(100),
        entered_at=T0,
        fees=D(0),
    )
    values.update(overrides)
    return Trade(**values)


def close(quantity, price, minutes=10, fees=0) -> PartialClose:
    return PartialClose(D(quantity), D(price), T0 + dt.timedelta(minutes=minutes), D(fees))


def test_long_with_partials_and_final_exit():
    t = trade(
        fees=D("2"),
        partial_closes=(close(4, 110, fees="0.5"),),
        exit_price=D(95),
        exited_at=T0 + dt.timedelta(hours=1),
    )
    # 4 × (110 − 100) + 6 × (95 − 100) = 40 − 30 = 10; fees 2 + 0.5
    assert realized_gross(t) == D(10)
    assert total_fees(t) == D("2.5")
    assert net_pnl(t) == D("7.5")
    assert t.status is Status.CLOSED


def test_short_profits_when_price_falls():
    t = trade(side=Side.SHORT, exit_price=D(90), exited_at=T0 + dt.timedelta(days=1))
    assert net_pnl(t) == D(100)


def test_partials_that_close_everything_close_the_trade():
    t = trade(partial_closes=(close(5, 101), close(5, 102, minutes=20)))
    assert t.status is Status.CLOSED
    assert t.closed_at == T0 + dt.timedelta(minutes=20)
    assert net_pnl(t) == D(15)


def test_open_trade_realizes_only_its_partials():
    t = trade(fees=D(3), partial_closes=(close(2, 105, fees=1),))
    assert t.status is Status.OPEN
    assert [e.amount for e in realized_events(t)] == [D(9)]  # trade fees wait for the close


def test_events_of_a_closed_trade_sum_to_its_net():
    t = trade(
        fees=D(3),
        partial_closes=(close(2, 105, fees=1),),
        exit_price=D(99),
        exited_at=T0 + dt.timedelta(hours=2),
    )
    assert sum(e.amount for e in realized_events(t)) == net_pnl(t)


quantities = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
prices = st.decimals(min_value=D(0), max_value=D(100000), places=4)


@given(
    st.lists(st.tuples(quantities, prices), min_size=1, max_size=8),
    prices,
    st.sampled_from(list(Side)),
)
def test_partials_equal_one_close_at_the_volume_weighted_price(legs, entry, side):
    total = sum(q for q, _ in legs)
    t = trade(
        side=side,
        quantity=total,
        entry_price=entry,
        partial_closes=tuple(close(q, p, minutes=i) for i, (q, p) in enumerate(legs)),
    )
    vwap = Fraction(sum(Fraction(q) * Fraction(p) for q, p in legs)) / Fraction(total)
    one_close = (vwap - Fraction(entry)) * Fraction(total) * side.direction
    assert Fraction(realized_gross(t)) == one_close
    assert t.status is Status.CLOSED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": D(0)}, "quantity"),
        ({"entry_price": D(-1)}, "entry_price"),
        ({"partial_closes": (close(11, 100),)}, "partial_closes"),
        ({"partial_closes": (close(1, 100, minutes=-5),)}, "partial_closes.0.closed_at"),
        ({"partial_closes": (close(1, -3),)}, "partial_closes.0.price"),
        ({"exit_price": D(101)}, "exited_at"),
        ({"exit_price": D(101), "exited_at": T0 - dt.timedelta(seconds=1)}, "exited_at"),
        (
            {
                "partial_closes": (close(10, 100),),
                "exit_price": D(1),
                "exited_at": T0 + dt.timedelta(hours=1),
            },
            "exit_price",
        ),
        ({"fees": D("0.00000000001")}, "fees"),
    ],
)
def test_integrity_names_the_field(overrides, field):
    with pytest.raises(SchemaValidationError) as error:
        integrity.check(trade(**overrides))
    assert field in error.value.details


def test_a_valid_trade_passes():
    integrity.check(
        trade(
            partial_closes=(close(3, 120),), exit_price=D(130), exited_at=T0 + dt.timedelta(hours=3)
        )
    )


def test_a_futures_contract_multiplies_the_points_not_the_fees():
    """2 ES contracts (50 USD a point) long from 5000 to 5010.25, 4.50 of fees."""
    es = trade(
        symbol="ES", quantity=D(2), entry_price=D(5000), multiplier=D(50), fees=D("4.50"),
        exit_price=D("5010.25"), exited_at=T0 + dt.timedelta(minutes=30),
    )  # fmt: skip
    assert realized_gross(es) == D("1025.00")  # 10.25 points × 2 × 50
    assert net_pnl(es) == D("1020.50")
