"""fluxa.trades.export: a trade as the fills that make it, and the chunks of an export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fluxa.trades import export
from fluxa.trades.export import CSV_COLUMNS, csv_chunks, fills_of, json_chunks
from fluxa.trades.pnl import net_pnl
from fluxa.trades.trade import PartialClose, Side, Status, Trade

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
D = Decimal


def trade(**overrides) -> Trade:
    values = dict(id="t1", user_id="u", symbol="AAPL", side=Side.LONG, quantity=D(10),
                  entry_price=D(100), entered_at=T0, fees=D(1))  # fmt: skip
    return Trade(**{**values, **overrides})


def later(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_a_long_with_a_partial_close_and_an_exit_is_three_fills():
    closed = trade(
        partial_closes=(PartialClose(D(4), D(110), later(10), D("0.5")),),
        exit_price=D(95), exited_at=later(60),
    )  # fmt: skip
    assert [(f["side"], f["quantity"], f["price"], f["fees"], f["execution_id"])
            for f in fills_of(closed)] == [
        ("buy", "10", "100", "1", "t1:open"),
        ("sell", "4", "110", "0.5", "t1:close-1"),
        ("sell", "6", "95", "0", "t1:exit"),
    ]  # fmt: skip
    assert [f["executed_at"] for f in fills_of(closed)] == [
        T0.isoformat(),
        later(10).isoformat(),
        later(60).isoformat(),
    ]


def test_a_short_opens_by_selling_and_an_open_trade_has_no_exit():
    short = trade(side=Side.SHORT, exit_price=D(90), exited_at=later(5))
    assert [f["side"] for f in fills_of(short)] == ["sell", "buy"]
    assert [f["execution_id"] for f in fills_of(trade())] == ["t1:open"]


def test_a_trade_closed_by_partial_closes_alone_has_no_exit_fill():
    whole = trade(partial_closes=(PartialClose(D(10), D(101), later(3)),))
    assert whole.status is Status.CLOSED
    assert [f["execution_id"] for f in fills_of(whole)] == ["t1:open", "t1:close-1"]


quantities = st.integers(min_value=1, max_value=1000).map(D)
prices = st.decimals(min_value=D("0.01"), max_value=D(10000), places=2)
fees = st.decimals(min_value=D(0), max_value=D(10), places=2)


@st.composite
def closed_trades(draw: st.DrawFn) -> Trade:
    quantity = draw(quantities)
    cuts = draw(st.lists(st.integers(min_value=1, max_value=int(quantity)), max_size=4))
    partials, left = [], quantity
    for n, cut in enumerate(cuts, start=1):
        part = min(D(cut), left - 1) if left > 1 else D(0)
        if part <= 0:
            break
        partials.append(PartialClose(part, draw(prices), later(n), draw(fees)))
        left -= part
    return trade(side=draw(st.sampled_from(list(Side))), quantity=quantity,
                 entry_price=draw(prices), fees=draw(fees), partial_closes=tuple(partials),
                 exit_price=draw(prices), exited_at=later(10))  # fmt: skip


@given(closed_trades())
def test_a_closed_trades_fills_sum_to_its_net_pnl_as_cash_flows(closed: Trade):
    """Independently of fluxa.trades.pnl: what was sold minus what was bought minus fees."""
    cash = D(0)
    for fill in fills_of(closed):
        amount = D(fill["quantity"]) * D(fill["price"])
        cash += amount if fill["side"] == "sell" else -amount
        cash -= D(fill["fees"])
    assert sum(D(f["quantity"]) for f in fills_of(closed)[1:]) == closed.quantity  # flat
    assert cash == net_pnl(closed)


def test_csv_chunks_are_the_header_then_every_fill(monkeypatch):
    monkeypatch.setattr(export, "ROWS_PER_CHUNK", 2)
    trades = [trade(id=f"t{n}", exit_price=D(101), exited_at=later(n)) for n in range(3)]
    chunks = list(csv_chunks(trades))
    assert len(chunks) == 4  # a chunk as soon as 2 rows are waiting, then the rest
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["execution_id"] for r in rows] == [
        f"t{n}:{step}" for n in range(3) for step in ("open", "exit")
    ]


def test_json_chunks_are_one_array_even_when_empty(monkeypatch):
    monkeypatch.setattr(export, "ROWS_PER_CHUNK", 2)
    document = lambda t: {"id": t.id, "entered_at": t.entered_at}  # noqa: E731
    assert json.loads(b"".join(json_chunks([], document))) == []
    chunks = list(json_chunks([trade(id=f"t{n}") for n in range(5)], document))
    assert len(chunks) == 3
    assert json.loads(b"".join(chunks)) == [
        {"id": f"t{n}", "entered_at": T0.isoformat()} for n in range(5)
    ]
