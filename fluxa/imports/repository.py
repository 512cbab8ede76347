"""Data access for `imports` and `import_fills`. Scoped to a user; callers own the
transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select, text, tuple_, update

from fluxa.imports.files import import_id_of
from fluxa.imports.fills import Action, Fill
from fluxa.imports.models import import_fills, imports
from fluxa.imports.record import ImportCounts, ImportRecord, ImportStatus, is_import_id


def _record(row: Any) -> ImportRecord:
    m = row._mapping
    counts = ImportCounts(**{f.name: m[f.name] for f in dataclasses.fields(ImportCounts)})
    return ImportRecord(
        id=m["id"], user_id=m["user_id"], format=m["format"], account=m["account"],
        timezone=m["timezone"], object_key=m["object_key"], size=m["size"],
        status=ImportStatus(m["status"]), reason=m["reason"], counts=counts,
        created_at=m["created_at"], updated_at=m["updated_at"], attempts=m["attempts"],
    )  # fmt: skip


def insert_import(conn: Connection, values: dict[str, Any]) -> ImportRecord:
    return _record(conn.execute(imports.insert().values(values).returning(imports)).one())


def get_import(conn: Connection, user_id: str, import_id: str) -> ImportRecord | None:
    row = conn.execute(
        select(imports).where(imports.c.user_id == user_id, imports.c.id == import_id)
    ).first()
    return _record(row) if row else None


def list_imports(
    conn: Connection, user_id: str, *, limit: int, before: tuple[dt.datetime, str] | None
) -> list[ImportRecord]:
    """The user's imports, newest first, after the keyset position `before`."""
    query = select(imports).where(imports.c.user_id == user_id)
    if before is not None:
        query = query.where(tuple_(imports.c.created_at, imports.c.id) < tuple_(*before))
    query = query.order_by(imports.c.created_at.desc(), imports.c.id.desc()).limit(limit)
    return [_record(row) for row in conn.execute(query)]


def referenced_files(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of these import files' keys an import names (looked up by the id in the key)."""
    ids = [i for i in map(import_id_of, keys) if is_import_id(i)]
    if not ids:
        return set()
    named = conn.execute(select(imports.c.object_key).where(imports.c.id.in_(ids))).scalars()
    return set(named) & set(keys)


def start(conn: Connection, import_id: str) -> ImportRecord | None:
    """Mark an unfinished import running (one more attempt); the import as it stands
    (finished ones unchanged), None if there is none. Locks its row."""
    row = conn.execute(
        update(imports)
        .where(imports.c.id == import_id, imports.c.status.in_(("queued", "running")))
        .values(status="running", attempts=imports.c.attempts + 1, updated_at=func.now())
        .returning(imports)
    ).first()
    if row is None:
        row = conn.execute(select(imports).where(imports.c.id == import_id)).first()
    return _record(row) if row else None


def finish(conn: Connection, import_id: str, counts: ImportCounts) -> None:
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id)
        .values(status="done", updated_at=func.now(), **dataclasses.asdict(counts))
    )


def fail(conn: Connection, import_id: str, reason: str, counts: ImportCounts) -> None:
    """Mark an unfinished import failed (one another delivery finished stays as it ended)."""
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id, imports.c.status.in_(("queued", "running")))
        .values(status="failed", reason=reason, updated_at=func.now(),
                **dataclasses.asdict(counts))
    )  # fmt: skip


def unfinished_before(conn: Connection, cutoff: dt.datetime, limit: int) -> list[ImportRecord]:
    """Imports queued or running, untouched since before `cutoff`: their message was never
    sent, or was lost or dead-lettered (a run in progress touched its import when it began,
    and a run never outlives the task time limit)."""
    rows = conn.execute(
        select(imports)
        .where(imports.c.status.in_(("queued", "running")), imports.c.updated_at < cutoff)
        .order_by(imports.c.updated_at)
        .limit(limit)
    )
    return [_record(row) for row in rows]


def touch(conn: Connection, import_ids: Sequence[str]) -> None:
    """Restart the staleness clock of these imports (their message was sent again)."""
    conn.execute(update(imports).where(imports.c.id.in_(import_ids)).values(updated_at=func.now()))


def insert_fills(
    conn: Connection, user_id: str, import_id: str, fills: Sequence[Fill]
) -> set[tuple[str, str]]:
    """Store the fills not stored before, in the order given; the (account, execution id)
    of those stored now. Concurrent imports of one user may race here: the key decides,
    each fill once. The rows travel by COPY into a scratch table (a multi-row INSERT of
    100,000 fills spent a minute building its statement), then one INSERT ... SELECT."""
    conn.execute(text(
        "CREATE TEMP TABLE incoming_fills ON COMMIT DROP AS "
        f"SELECT 0 AS seq, {', '.join(_COLUMNS)} FROM import_fills WITH NO DATA"
    ))  # fmt: skip
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY incoming_fills (seq, {', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for seq, fill in enumerate(fills):
            copy.write_row((seq, *_fill_values(user_id, import_id, fill)))
    rows = conn.execute(text(
        f"INSERT INTO import_fills ({', '.join(_COLUMNS)}) "
        f"SELECT {', '.join(_COLUMNS)} FROM incoming_fills ORDER BY seq "
        "ON CONFLICT (user_id, account, execution_id) DO NOTHING "
        "RETURNING account, execution_id"
    ))  # fmt: skip
    inserted = {(account, execution_id) for account, execution_id in rows}
    conn.execute(text("DROP TABLE incoming_fills"))
    return inserted


_COLUMNS = ("user_id", "account", "execution_id", "symbol", "executed_at", "action",
            "quantity", "price", "fees", "multiplier", "currency", "import_id", "line")  # fmt: skip


def _fill_values(user_id: str, import_id: str, fill: Fill) -> tuple[Any, ...]:
    return (user_id, fill.account, fill.execution_id, fill.symbol, fill.executed_at,
            fill.action.value, fill.quantity, fill.price, fill.fees, fill.multiplier,
            fill.currency, import_id, fill.line)  # fmt: skip


def book_fills(
    conn: Connection, user_id: str, books: Sequence[tuple[str, str]]
) -> list[tuple[Fill, str]]:
    """Every stored fill of these (account, symbol) books with the import that brought it,
    in the order they happened (ties in the order they were read)."""
    if not books:
        return []
    in_books = tuple_(import_fills.c.account, import_fills.c.symbol).in_(list(books))
    rows = conn.execute(
        select(import_fills)
        .where(import_fills.c.user_id == user_id, in_books)
        .order_by(import_fills.c.executed_at, import_fills.c.ordinal)
    )
    return [(_fill(row), row.import_id) for row in rows]


def _fill(row: Any) -> Fill:
    return Fill(
        executed_at=row.executed_at, account=row.account, symbol=row.symbol,
        action=Action(row.action), quantity=row.quantity, price=row.price, fees=row.fees,
        execution_id=row.execution_id, multiplier=row.multiplier, currency=row.currency,
        line=row.line,
    )  # fmt: skip
