"""Running an import (the worker's side of `POST /v1/imports`).

The stored file is read; its fills not stored before are stored, and the trades of every
book (account and symbol) they join are recomputed from all of that book's fills — in one
transaction under the user's lock (the lock stats rebuilds and erasure take), so two
imports of one user never interleave and a crash leaves nothing half done: the message
comes back and the import runs again from the start. A file the format cannot read makes
a failed import with its reason, never a retried message.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, func, select

from fluxa.errors import ErrorCode, ImportFormatError, NotFoundError, SchemaValidationError
from fluxa.imports import repository
from fluxa.imports.books import BookChanges, book_changes
from fluxa.imports.formats import read_fills
from fluxa.imports.positions import trades_from_fills, unique_fills
from fluxa.imports.record import ImportCounts, ImportRecord
from fluxa.imports.rows import ReadFills, RejectedRow
from fluxa.infra.db import transaction, translated_errors
from fluxa.infra.storage import S3ObjectStore
from fluxa.stats.rebuild import lock_key
from fluxa.trades import integrity, trail
from fluxa.trades import repository as trades_repository
from fluxa.trades.service import TradeChanges
from fluxa.trades.trade import Trade

log = logging.getLogger("fluxa.imports")
#: Rejected rows listed on an import (all are counted).
REJECTED_LISTED = 1000


class ImportRunner:
    """Runs imports by id; running one again after it finished changes nothing."""

    def __init__(self, engine: Engine, files: S3ObjectStore, changes: TradeChanges) -> None:
        self._engine = engine
        self._files = files
        self._changes = changes

    def run(self, import_id: str) -> ImportRecord | None:
        """Run the import; it as it ended (None: there is no such import, e.g. erased)."""
        with transaction(self._engine) as conn:
            record = repository.start(conn, import_id)
        if record is None or record.status.finished:
            return record
        try:
            data = self._files.get(record.object_key)
        except NotFoundError:
            return self._fail(record, "The uploaded file is gone.", ErrorCode.PAYLOAD_MISSING)
        try:
            read = read_fills(record.format, data, account=record.account, timezone=record.timezone)
        except ImportFormatError as exc:
            return self._fail(record, exc.message, exc.code)
        except Exception:  # user bytes must end an import, never loop it through retries
            log.exception("import unreadable", extra={"import_id": import_id})
            return self._fail(record, "The file could not be read.", ErrorCode.UNHANDLED)
        changed = self._store(record, read)
        if changed:
            self._changes.after_commit(record.user_id)
        return self._reread(record)

    def _store(self, record: ImportRecord, read: ReadFills) -> bool:
        """Store the fills and their trades; whether any trade changed."""
        user = record.user_id
        with transaction(self._engine) as conn:
            conn.execute(select(func.pg_advisory_xact_lock(lock_key(user))))
            current = repository.get_import(conn, user, record.id)
            if current is None or current.status.finished:
                return False  # another delivery finished it (or the user was erased)
            fills = unique_fills(read.fills)
            inserted = repository.insert_fills(conn, user, record.id, fills)
            books = sorted({(f.account, f.symbol) for f in fills if f.key in inserted})
            changes, refused = self._changes_of(conn, record, books)
            self._write(conn, user, changes)
            counts = _counts(read, len(inserted), changes, refused)
            repository.finish(conn, record.id, counts)
            trail.record(conn, "trades_imported", record.id, **_trail_detail(user, counts))
            if changes.create or changes.update or changes.delete:
                self._changes.mark(conn, user)
                return True
        return False

    @staticmethod
    def _changes_of(
        conn: Connection, record: ImportRecord, books: Sequence[tuple[str, str]]
    ) -> tuple[BookChanges, list[RejectedRow]]:
        """The writes that bring these books' trades in line with all their fills, less
        the trades that break the trades' rules (refused, with why)."""
        stored_fills = repository.book_fills(conn, record.user_id, books)
        earlier = [fill for fill, import_id in stored_fills if import_id != record.id]
        before = trades_from_fills(earlier, record.user_id)
        after = trades_from_fills([fill for fill, _ in stored_fills], record.user_id)
        ids = sorted({t.id for t in before} | {t.id for t in after})
        changes = book_changes(before, after, trades_repository.get_many(conn, record.user_id, ids))
        refused: list[RejectedRow] = []
        changes.create = _keep_valid(changes.create, refused)
        changes.update = _keep_valid(changes.update, refused)
        return changes, refused

    @staticmethod
    def _write(conn: Connection, user: str, changes: BookChanges) -> None:
        trades_repository.insert_many(conn, changes.create)
        for trade in changes.update:
            trades_repository.replace(conn, trade, trade.version)
        for trade_id in changes.delete:
            trades_repository.remove(conn, user, trade_id)

    def _fail(self, record: ImportRecord, reason: str, code: ErrorCode) -> ImportRecord | None:
        with transaction(self._engine) as conn:
            repository.fail(conn, record.id, reason, ImportCounts())
        log.info("import failed", extra={"import_id": record.id, "status": "failed",
                                         "error_code": code.value, "reason": reason})  # fmt: skip
        return self._reread(record)

    def _reread(self, record: ImportRecord) -> ImportRecord | None:
        with translated_errors(), self._engine.connect() as conn:
            return repository.get_import(conn, record.user_id, record.id)


def _keep_valid(trades: list[Trade], refused: list[RejectedRow]) -> list[Trade]:
    kept = []
    for trade in trades:
        try:
            integrity.check(trade)
        except SchemaValidationError as exc:
            for name, reasons in exc.details.items():
                refused.append(RejectedRow(0, name, f"trade {trade.id}: {'; '.join(reasons)}"))
        else:
            kept.append(trade)
    return kept


def _trail_detail(user: str, counts: ImportCounts) -> dict[str, object]:
    detail = {"user_id": user, **dataclasses.asdict(counts)}
    del detail["rejected"]  # the import row lists them
    return detail


def _counts(
    read: ReadFills, stored: int, changes: BookChanges, refused: list[RejectedRow]
) -> ImportCounts:
    rejected = read.rejected + refused
    return ImportCounts(
        fills=len(read.fills),
        trades_created=len(changes.create),
        trades_updated=len(changes.update),
        trades_deleted=len(changes.delete),
        duplicates_skipped=len(read.fills) - stored,
        rejected_rows=len(rejected),
        rejected=[dataclasses.asdict(row) for row in rejected[:REJECTED_LISTED]],
    )
