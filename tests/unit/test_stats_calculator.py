import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from fluxa.stats.calculator import calculate, realized_curve, streaks
from fluxa.trades.trade import PartialClose, Side, Trade

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
D = Decimal


def closed(tid, net_price, *, symbol="AAPL", day=0, fees=0, side=Side.LONG):
    return Trade(
        id=tid,
        user_id="u",
        symbol=symbol,
        side=side,
        quantity=D(1),
        entry_price=D(100),
        entered_at=T0 + dt.timedelta(days=day),
        fees=D(fees),
        exit_price=D(net_price),
        exited_at=T0 + dt.timedelta(days=day, hours=1),
    )


def test_known_sequence():
    trades = [
        closed("a", 110, day=0),  # +10
        closed("b", 95, day=1),  # −5
        closed("c", 92, day=2),  # −8
        closed("d", 120, day=3, fees=1),  # +19
        closed("e", 100, day=3, symbol="MSFT"),  # 0
        Trade(
            id="f",
            user_id="u",
            symbol="MSFT",
            side=Side.SHORT,
            quantity=D(2),
            entry_price=D(50),
            entered_at=T0,
            partial_closes=(PartialClose(D(1), D(45), T0 + dt.timedelta(days=4), D("0.5")),),
        ),
    ]
    s = calculate(trades)
    assert (s["total_trades"], s["open_trades"], s["closed_trades"]) == (6, 1, 5)
    assert (s["wins"], s["losses"], s["breakeven"]) == (2, 2, 1)
    assert s["win_rate"] == "0.4"
    assert (s["gross_profit"], s["gross_loss"]) == ("29", "-13")
    assert s["fees"] == "1.5"
    assert s["net_pnl"] == "20.5"  # 16 closed + 4.5 realized by the open short
    assert s["profit_factor"] == "2.230769"
    assert s["expectancy"] == "3.2"
    assert (s["avg_win"], s["avg_loss"]) == ("14.5", "-6.5")
    assert (s["largest_win"], s["largest_loss"]) == ("19", "-8")
    assert s["max_drawdown"] == "13"
    assert (s["longest_win_streak"], s["longest_loss_streak"]) == (1, 2)
    assert s["by_symbol"]["MSFT"]["net_pnl"] == "4.5"
    assert [d["net_pnl"] for d in s["by_day"]] == ["10", "-5", "-8", "19", "4.5"]


def test_no_trades():
    s = calculate([])
    assert s["total_trades"] == 0 and s["win_rate"] is None and s["profit_factor"] is None
    assert s["net_pnl"] == "0" and s["max_drawdown"] == "0" and s["by_day"] == []


trade_specs = st.lists(
    st.tuples(
        st.sampled_from(["AAPL", "MSFT", "TSLA"]),
        st.sampled_from(list(Side)),
        st.integers(min_value=1, max_value=20),  # quantity
        st.integers(min_value=1, max_value=500),  # entry
        st.one_of(st.none(), st.integers(min_value=1, max_value=500)),  # exit
        st.integers(min_value=0, max_value=40),  # day
        st.integers(min_value=0, max_value=5),  # fees
    ),
    max_size=25,
)


def build(specs):
    trades = {}
    for i, (symbol, side, qty, entry, exit_, day, fees) in enumerate(specs):
        at = T0 + dt.timedelta(days=day)
        trades[f"t{i}"] = Trade(
            id=f"t{i}",
            user_id="u",
            symbol=symbol,
            side=side,
            quantity=D(qty),
            entry_price=D(entry),
            entered_at=at,
            fees=D(fees),
            exit_price=None if exit_ is None else D(exit_),
            exited_at=None if exit_ is None else at + dt.timedelta(hours=qty),
        )
    return trades


@settings(max_examples=80)
@given(trade_specs, st.randoms())
def test_stats_do_not_depend_on_the_order_trades_are_read(specs, rnd):
    # Rebuilds read trades in whatever order the database returns them; writes may have
    # happened in any order. Only the final set of trades may matter.
    trades = list(build(specs).values())
    shuffled = trades[:]
    rnd.shuffle(shuffled)
    assert calculate(shuffled) == calculate(trades)


def test_streaks_and_the_realized_curve_from_their_sequences():
    # What the SQL path feeds the calculator: outcomes in closed order, amounts in time order.
    assert streaks("WWL-LLLW") == (2, 3)
    assert streaks("") == (0, 0)
    d1, d2 = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    by_day, drawdown = realized_curve([(d1, D(10)), (d1, D(-5)), (d2, D(-8)), (d2, D(19))])
    assert by_day == {d1: D(5), d2: D(11)} and drawdown == D(13)


def test_by_tag_weekday_and_hour_of_entry_and_in_a_time_zone():
    """T0 is Monday 2026-01-05 09:00 UTC. A trade counts under each of its tags."""
    trades = [
        dataclasses.replace(closed("a", 110, day=0), tags=("breakout", "news")),  # +10 Mon 09
        dataclasses.replace(closed("b", 95, day=1), tags=("breakout",)),  # −5 Tue 09
        closed("c", 92, day=4),  # −8 Fri 09
    ]
    s = calculate(trades)
    assert {tag: (g["trades"], g["wins"], g["net_pnl"]) for tag, g in s["by_tag"].items()} == {
        "breakout": (2, 1, "5"),
        "news": (1, 1, "10"),
    }
    assert s["by_tag"]["breakout"]["win_rate"] == "0.5"
    assert {day: g["net_pnl"] for day, g in s["by_weekday"].items()} == {
        "monday": "10", "tuesday": "-5", "friday": "-8"
    }  # fmt: skip
    assert {hour: g["trades"] for hour, g in s["by_hour"].items()} == {"09": 3}
    tokyo = calculate(trades, ZoneInfo("Asia/Tokyo"))  # 18:00 the same days
    assert set(tokyo["by_hour"]) == {"18"} and set(tokyo["by_weekday"]) == set(s["by_weekday"])
    honolulu = calculate(trades, ZoneInfo("Pacific/Honolulu"))  # 23:00 the day before
    assert {day: g["net_pnl"] for day, g in honolulu["by_weekday"].items()} == {
        "sunday": "10", "monday": "-5", "thursday": "-8"
    }  # fmt: skip


def test_r_multiples_of_the_trades_that_say_their_risk():
    trades = [
        dataclasses.replace(closed("a", 120, day=0), initial_risk=D(10)),  # +20: 2R
        dataclasses.replace(closed("b", 95, day=1), quantity=D(10), stop_price=D(90)),  # -50 / 100
        closed("c", 110, day=2),  # no risk said: not in R
        dataclasses.replace(closed("d", 100, day=3), initial_risk=D(3)),  # breakeven: 0R
    ]
    s = calculate(trades)
    assert (s["r_trades"], s["average_r"], s["expectancy_r"]) == (3, "0.5", "0.5")
    assert (s["average_win_r"], s["average_loss_r"]) == ("2", "-0.5")
    none = calculate([closed("c", 110)])
    assert (none["r_trades"], none["average_r"]) == (0, None)
