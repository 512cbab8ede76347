"""Imports, the API's side: keep the file, record the import, send it to a worker; read
an import's progress. The worker's side is `fluxa.imports.runner`."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from fluxa import logcontext
from fluxa.errors import BrokerUnavailableError, FileTooLargeError, NotFoundError
from fluxa.imports import repository
from fluxa.imports.files import import_key
from fluxa.imports.formats import FORMATS, ImportFormat
from fluxa.imports.record import ImportCounts, ImportRecord, is_import_id
from fluxa.infra.db import transaction, translated_errors
from fluxa.infra.storage import S3ObjectStore
from fluxa.messages.tasks import CORRELATION_HEADER, TaskName, TaskPublisher
from fluxa.pagination import decode_cursor, encode_cursor

log = logging.getLogger("fluxa.imports")
#: The largest file an import takes (DESIGN §5).
MAX_IMPORT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class SweptImports:
    """What a sweep did: imports sent again, and imports failed for having run too often."""

    sent: int
    given_up: int


@dataclass(frozen=True)
class ImportPage:
    items: list[ImportRecord]
    next_cursor: str | None


class ImportService:
    """Submit and read a user's imports."""

    def __init__(
        self, engine: Engine, files: S3ObjectStore, publisher: TaskPublisher, *, queue: str
    ) -> None:
        self._engine = engine
        self._files = files
        self._publisher = publisher
        self._queue = queue

    def submit(
        self, user_id: str, data: bytes, *, format: str, account: str, timezone: str | None
    ) -> ImportRecord:
        """Keep the file and queue its import. Once this returns the import is durable:
        a message the broker refused now is sent again by the sweep (`resend_stale`)."""
        if len(data) > MAX_IMPORT_BYTES:
            raise FileTooLargeError(
                f"the file has {len(data)} bytes; at most {MAX_IMPORT_BYTES}",
                details={"file": [f"At most {MAX_IMPORT_BYTES} bytes."]},
            )
        spec = FORMATS[ImportFormat(format)]
        import_id = str(uuid.uuid4())
        key = import_key(user_id, import_id, spec.extension)
        self._files.put(key, data, content_type=spec.content_type)
        values = {"id": import_id, "user_id": user_id, "format": format, "account": account,
                  "timezone": timezone, "object_key": key, "size": len(data)}  # fmt: skip
        with transaction(self._engine) as conn:
            record = repository.insert_import(conn, values)
        self._send(record.id)
        return record

    def get(self, user_id: str, import_id: str) -> ImportRecord:
        """The user's import `import_id` (ids are UUIDs: anything else names none)."""
        if not is_import_id(import_id):
            raise NotFoundError(f"import {import_id!r} not found")
        with translated_errors(), self._engine.connect() as conn:
            record = repository.get_import(conn, user_id, import_id)
        if record is None:
            raise NotFoundError(f"import {import_id!r} not found")
        return record

    def list(self, user_id: str, *, limit: int, cursor: str | None) -> ImportPage:
        """The user's imports, newest first."""
        before = decode_cursor(cursor) if cursor else None
        with translated_errors(), self._engine.connect() as conn:
            rows = repository.list_imports(conn, user_id, limit=limit + 1, before=before)
        page = rows[:limit]
        more = len(rows) > limit and page
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
        return ImportPage(items=page, next_cursor=next_cursor)

    def resend_stale(
        self, *, older_than: dt.timedelta, max_attempts: int, limit: int = 500
    ) -> SweptImports:
        """Send again the imports left unfinished for longer than `older_than` (their message
        never left, was lost, or was dead-lettered: an import never stays `running`). A
        duplicate is harmless: a second run of a finished import changes nothing. One that
        began `max_attempts` runs and never finished fails instead, so that a file which
        kills its worker cannot circulate for ever."""
        cutoff = dt.datetime.now(dt.UTC) - older_than
        with transaction(self._engine) as conn:
            stale = repository.unfinished_before(conn, cutoff, limit)
            spent = [record.id for record in stale if record.attempts >= max_attempts]
            reason = f"The import did not complete in {max_attempts} attempts."
            for import_id in spent:
                repository.fail(conn, import_id, reason, ImportCounts())
            sent = [r.id for r in stale if r.id not in spent and self._send(r.id)]
            repository.touch(conn, sent)
        for import_id in spent:
            log.warning("import given up", extra={"import_id": import_id, "status": "failed",
                                                  "reason": reason})  # fmt: skip
        return SweptImports(sent=len(sent), given_up=len(spent))

    def _send(self, import_id: str) -> bool:
        headers = {}
        if correlation_id := logcontext.current().get("correlation_id"):
            headers[CORRELATION_HEADER] = correlation_id
        try:
            self._publisher.publish(
                TaskName.RUN_IMPORT, {"import_id": import_id}, queue=self._queue, headers=headers
            )
        except BrokerUnavailableError:
            log.warning("import not sent; the sweep will send it",
                        extra={"import_id": import_id, "status": "deferred"})  # fmt: skip
            return False
        return True
