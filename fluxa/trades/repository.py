"""Data access for `trades`. Every query is scoped to its users; callers own the transaction."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Text, and_, any_, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY

from fluxa.trades.models import trades
from fluxa.trades.trade import PartialClose, Side, Trade


def _partials_to_json(closes: tuple[PartialClose, ...]) -> list[dict[str, str]]:
    return [
        {
            "quantity": str(c.quantity),
            "price": str(c.price),
            "closed_at": c.closed_at.isoformat(),
            "fees": str(c.fees),
        }
        for c in closes
    ]


def _partials_from_json(raw: list[dict[str, str]]) -> tuple[PartialClose, ...]:
    return tuple(
        PartialClose(
            quantity=Decimal(c["quantity"]),
            price=Decimal(c["price"]),
            closed_at=dt.datetime.fromisoformat(c["closed_at"]),
            fees=Decimal(c["fees"]),
        )
        for c in raw
    )


def to_row(trade: Trade) -> dict[str, Any]:
    """Column values of `trade` (status and closed_at derived, for filtering)."""
    return {
        "id": trade.id,
        "user_id": trade.user_id,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "quantity": trade.quantity,
        "entry_price": trade.entry_price,
        "entered_at": trade.entered_at,
        "fees": trade.fees,
        "account": trade.account,
        "multiplier": trade.multiplier,
        "currency": trade.currency,
        "initial_risk": trade.initial_risk,
        "stop_price": trade.stop_price,
        "exit_price": trade.exit_price,
        "exited_at": trade.exited_at,
        "partial_closes": _partials_to_json(trade.partial_closes),
        "tags": list(trade.tags),
        "notes": trade.notes,
        "images": list(trade.images),
        "status": trade.status.value,
        "closed_at": trade.closed_at,
        "version": trade.version,
    }


def from_row(row: Any) -> Trade:
    m = row._mapping
    return Trade(
        id=m["id"],
        user_id=m["user_id"],
        symbol=m["symbol"],
        side=Side(m["side"]),
        quantity=m["quantity"],
        entry_price=m["entry_price"],
        entered_at=m["entered_at"],
        fees=m["fees"],
        account=m["account"],
        multiplier=m["multiplier"],
        currency=m["currency"],
        initial_risk=m["initial_risk"],
        stop_price=m["stop_price"],
        exit_price=m["exit_price"],
        exited_at=m["exited_at"],
        partial_closes=_partials_from_json(m["partial_closes"]),
        tags=tuple(m["tags"]),
        notes=m["notes"],
        images=tuple(m["images"]),
        version=m["version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _mine(user_id: str, trade_id: str):
    return and_(trades.c.user_id == user_id, trades.c.id == trade_id)


def insert(conn: Connection, trade: Trade) -> Trade:
    row = conn.execute(trades.insert().values(to_row(trade)).returning(trades)).one()
    return from_row(row)


def insert_many(conn: Connection, new: list[Trade]) -> None:
    """Insert `new` (one statement per thousand rows)."""
    for start in range(0, len(new), 1000):
        conn.execute(trades.insert(), [to_row(trade) for trade in new[start : start + 1000]])


def _text_array(name: str, values: list[str]) -> Any:
    """One array parameter, however many values (an IN list binds one each)."""
    return bindparam(name, values, type_=ARRAY(Text))


def get_many(conn: Connection, user_id: str, trade_ids: list[str]) -> dict[str, Trade]:
    """The user's trades of these ids that exist, by id, locked for update."""
    rows = conn.execute(
        select(trades)
        .where(trades.c.user_id == user_id, trades.c.id == any_(_text_array("ids", trade_ids)))
        .with_for_update()
    )
    return {row.id: from_row(row) for row in rows}


def get(conn: Connection, user_id: str, trade_id: str, *, for_update: bool = False) -> Trade | None:
    query = select(trades).where(_mine(user_id, trade_id))
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return from_row(row) if row else None


def replace(conn: Connection, trade: Trade, expected_version: int) -> Trade | None:
    """Store `trade` if its row is still at `expected_version`; bumps the version."""
    values = {
        **to_row(trade),
        "version": expected_version + 1,
        "updated_at": dt.datetime.now(dt.UTC),
    }
    row = conn.execute(
        update(trades)
        .where(_mine(trade.user_id, trade.id), trades.c.version == expected_version)
        .values(values)
        .returning(trades)
    ).first()
    return from_row(row) if row else None


def remove(conn: Connection, user_id: str, trade_id: str) -> Trade | None:
    row = conn.execute(delete(trades).where(_mine(user_id, trade_id)).returning(trades)).first()
    return from_row(row) if row else None


def list_page(
    conn: Connection,
    user_id: str,
    *,
    symbol: str | None = None,
    account: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
    oldest_first: bool = False,
) -> list[Trade]:
    """The user's trades, newest entry first (or oldest first), strictly after the keyset
    position `after`."""
    conditions = [trades.c.user_id == user_id]
    if symbol is not None:
        conditions.append(trades.c.symbol == symbol)
    if account is not None:
        conditions.append(trades.c.account == account)
    if status is not None:
        conditions.append(trades.c.status == status)
    if tag is not None:
        conditions.append(trades.c.tags.contains([tag]))
    if since is not None:
        conditions.append(trades.c.entered_at >= since)
    if until is not None:
        conditions.append(trades.c.entered_at < until)
    position = tuple_(trades.c.entered_at, trades.c.id)
    if after is not None:
        conditions.append(position > tuple_(*after) if oldest_first else position < tuple_(*after))
    order = (trades.c.entered_at, trades.c.id)
    query = (
        select(trades)
        .where(and_(*conditions))
        .order_by(*(order if oldest_first else (column.desc() for column in order)))
        .limit(limit)
    )
    return [from_row(row) for row in conn.execute(query)]


def stream_for_user(
    conn: Connection, user_id: str, batch: int = 1000, *, account: str | None = None
) -> Iterator[Trade]:
    """Every trade of the user (of `account` only, if named), fetched in batches (bounded
    memory on the driver side): the input of the pure stats calculator, against which
    the rebuild's SQL is checked."""
    for _, user_trades in stream_by_user(conn, [user_id], batch, account=account):
        yield from user_trades


def stream_by_user(
    conn: Connection, user_ids: list[str], batch: int = 1000, *, account: str | None = None
) -> Iterator[tuple[str, Iterator[Trade]]]:
    """The trades of these users, user by user (users without trades are left out);
    each user's iterator must be consumed before the next user's is taken."""
    conditions = [trades.c.user_id.in_(user_ids)]
    if account is not None:
        conditions.append(trades.c.account == account)
    result = conn.execute(
        select(*_STATS_COLUMNS)
        .where(*conditions)
        # The order of index trades_user_entered_at_id: read through a cursor (planned
        # for its first rows), ORDER BY user_id, id walked the whole primary key instead.
        .order_by(trades.c.user_id, trades.c.entered_at, trades.c.id)
        .execution_options(yield_per=batch)
    )
    grouped = itertools.groupby((_stats_trade(row) for row in result), key=lambda t: t.user_id)
    yield from grouped


# What the stats read of a trade: no notes or images to fetch and decode.
_STATS_COLUMNS = [
    trades.c[name]
    for name in ("id", "user_id", "symbol", "side", "quantity", "entry_price", "entered_at",
                 "fees", "multiplier", "initial_risk", "stop_price", "exit_price", "exited_at",
                 "partial_closes", "tags")
]  # fmt: skip
_SIDES = {side.value: side for side in Side}


def _stats_trade(row: Any) -> Trade:
    """A trade as far as the stats need it (from a row of `_STATS_COLUMNS`)."""
    return Trade(
        id=row.id,
        user_id=row.user_id,
        symbol=row.symbol,
        side=_SIDES[row.side],
        quantity=row.quantity,
        entry_price=row.entry_price,
        entered_at=row.entered_at,
        fees=row.fees,
        multiplier=row.multiplier,
        initial_risk=row.initial_risk,
        stop_price=row.stop_price,
        exit_price=row.exit_price,
        exited_at=row.exited_at,
        partial_closes=_partials_from_json(row.partial_closes),
        tags=tuple(row.tags),
    )


def referenced_images(conn: Connection, keys: list[str]) -> set[str]:
    """Which of `keys` some trade still lists."""
    if not keys:
        return set()
    rows = conn.execute(select(trades.c.images).where(trades.c.images.overlap(keys)))
    wanted = set(keys)
    return {key for row in rows for key in row.images if key in wanted}
