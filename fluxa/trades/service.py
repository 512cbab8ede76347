"""Trade use cases. Each write commits the trade and a "trades of this user changed" mark
together (`TradeChanges`: the stats outbox, injected; trades know nothing of stats)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from fluxa.errors import NotFoundError, PreconditionFailedError, SchemaValidationError
from fluxa.infra.db import transaction, translated_errors
from fluxa.pagination import decode_cursor, encode_cursor
from fluxa.trades import integrity
from fluxa.trades import repository as trades_repository
from fluxa.trades import trail as trade_trail
from fluxa.trades.images import S3ImageStore, key_prefix, upload_problem
from fluxa.trades.trade import PartialClose, Side, Trade
from fluxa.trades.versions import VersionCondition

log = logging.getLogger("fluxa.trades")
#: Trades read at a time by `TradeService.every` (an export).
EXPORT_PAGE = 500


@dataclass(frozen=True)
class TradeFilter:
    symbol: str | None = None
    account: str | None = None
    status: str | None = None
    tag: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class TradePage:
    items: list[Trade]
    next_cursor: str | None


def _field_values(data: dict[str, Any]) -> dict[str, Any]:
    """Schema output → Trade field values (tuples, enums, PartialClose objects)."""
    values = dict(data)
    if "side" in values:
        values["side"] = Side(values["side"])
    if "partial_closes" in values:
        values["partial_closes"] = tuple(PartialClose(**c) for c in values["partial_closes"])
    for name in ("tags", "images"):
        if name in values:
            values[name] = tuple(values[name])
    return values


class TradeChanges(Protocol):
    """Told when a user's trades change: `mark` inside the write's transaction (so the
    fact commits with the write), `after_commit` once it has committed."""

    def mark(self, conn: Connection, user_id: str) -> None:
        """Record, in `conn`'s transaction, that `user_id`'s trades changed."""
        ...

    def after_commit(self, user_id: str) -> Any:
        """React once the write is committed (e.g. publish a rebuild)."""
        ...


def _trail_write(conn: Connection, trade: Trade, action: str) -> None:
    trade_trail.record(
        conn, "trade_written", trade.id, user_id=trade.user_id, action=action, version=trade.version
    )


def _require_id_form(trade_id: str) -> None:
    """Ids are UUIDs: anything else names no trade (and never reaches the database)."""
    try:
        uuid.UUID(trade_id)
    except ValueError:
        raise NotFoundError(f"trade {trade_id!r} not found") from None


class TradeService:
    """create, read, list, update and delete trades of one user at a time."""

    def __init__(self, engine: Engine, images: S3ImageStore, changes: TradeChanges) -> None:
        self._engine = engine
        self._images = images
        self._changes = changes

    def create(self, user_id: str, data: dict[str, Any]) -> Trade:
        trade = Trade(id=str(uuid.uuid4()), user_id=user_id, **_field_values(data))
        if trade.images:
            raise SchemaValidationError(
                "images are attached after upload",
                details={"images": ["Upload through POST /v1/trades/{id}/images first."]},
            )
        integrity.check(trade)
        with transaction(self._engine) as conn:
            stored = trades_repository.insert(conn, trade)
            _trail_write(conn, stored, "created")
            self._changes.mark(conn, user_id)
        self._after_write(stored, "created", previous=None)
        return stored

    def get(self, user_id: str, trade_id: str) -> Trade:
        _require_id_form(trade_id)
        with translated_errors(), self._engine.connect() as conn:
            trade = trades_repository.get(conn, user_id, trade_id)
        if trade is None:
            raise NotFoundError(f"trade {trade_id!r} not found")
        return trade

    def list(
        self, user_id: str, filters: TradeFilter, *, limit: int, cursor: str | None
    ) -> TradePage:
        after = decode_cursor(cursor) if cursor else None
        with translated_errors(), self._engine.connect() as conn:
            rows = trades_repository.list_page(
                conn, user_id, **dataclasses.asdict(filters), limit=limit + 1, after=after
            )
        page = rows[:limit]
        more = len(rows) > limit and page
        next_cursor = encode_cursor(page[-1].entered_at, page[-1].id) if more else None
        return TradePage(items=page, next_cursor=next_cursor)

    def every(self, user_id: str) -> Iterator[Trade]:
        """Every trade of the user (`every_trade`)."""
        return every_trade(self._engine, user_id)

    def update(
        self, user_id: str, trade_id: str, changes: dict[str, Any], *, condition: VersionCondition
    ) -> Trade:
        """Apply `changes` if the trade's version meets `condition` (else 412)."""
        _require_id_form(trade_id)
        with transaction(self._engine) as conn:
            current = trades_repository.get(conn, user_id, trade_id, for_update=True)
            if current is None:
                raise NotFoundError(f"trade {trade_id!r} not found")
            if not condition.admits(current.version):
                raise PreconditionFailedError(
                    f"trade is at version {current.version}, not {condition.describe()}",
                    details={"version": [f"Current version is {current.version}."]},
                )
            merged = dataclasses.replace(current, **_field_values(changes))
            self._check_new_images(merged, current)
            integrity.check(merged)
            stored = trades_repository.replace(conn, merged, current.version)
            if stored is None:  # unreachable while the row is locked; kept for safety
                raise PreconditionFailedError("trade changed concurrently")
            _trail_write(conn, stored, "updated")
            self._changes.mark(conn, user_id)
        self._after_write(stored, "updated", previous=current)
        return stored

    def delete(self, user_id: str, trade_id: str) -> None:
        _require_id_form(trade_id)
        with transaction(self._engine) as conn:
            removed = trades_repository.remove(conn, user_id, trade_id)
            if removed is None:
                raise NotFoundError(f"trade {trade_id!r} not found")
            _trail_write(conn, removed, "deleted")
            self._changes.mark(conn, user_id)
        self._after_write(None, "deleted", previous=removed)

    def _check_new_images(self, trade: Trade, current: Trade) -> None:
        """Each added key must be this trade's and hold the upload it was granted for."""
        prefix = key_prefix(trade.user_id, trade.id)
        problems = []
        for key in sorted(set(trade.images) - set(current.images)):
            if not key.startswith(prefix):
                problems.append(f"Not an uploaded image of this trade: {key}")
            elif problem := upload_problem(key, self._images.stored(key)):
                problems.append(problem)
        if problems:
            raise SchemaValidationError(
                "unknown or invalid image keys", details={"images": problems}
            )

    def _after_write(self, trade: Trade | None, action: str, *, previous: Trade | None) -> None:
        before = set(previous.images) if previous else set()
        after = set(trade.images) if trade else set()
        log.info(
            f"trade {action}",
            extra={
                "trade_id": (trade or previous).id,
                "status": action,
                "images": len(after),
                "images_added": sorted(after - before),
                "images_removed": sorted(before - after),
            },
        )
        self._changes.after_commit((trade or previous).user_id)


def every_trade(engine: Engine, user_id: str, *, page: int = EXPORT_PAGE) -> Iterator[Trade]:
    """Every trade of the user, oldest entry first (an export re-imported meets a trade's
    exit before a later trade's entry), a page of `page` at a time: each page its own
    short read, so a slow reader of an export holds no connection. The first page is
    read before this returns: a database that is down fails the call, not a response
    already under way."""
    first = _page_of_every(engine, user_id, page, None)
    return _rest_of_every(engine, user_id, page, first)


def _rest_of_every(engine: Engine, user_id: str, page: int, rows: list[Trade]) -> Iterator[Trade]:
    while True:
        yield from rows
        if len(rows) < page:
            return
        rows = _page_of_every(engine, user_id, page, (rows[-1].entered_at, rows[-1].id))


def _page_of_every(
    engine: Engine, user_id: str, page: int, after: tuple[dt.datetime, str] | None
) -> list[Trade]:
    with translated_errors(), engine.connect() as conn:
        return trades_repository.list_page(
            conn, user_id, limit=page, after=after, oldest_first=True
        )
