"""An import as stored and reported (`GET /v1/imports/{id}`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ImportStatus.DONE, ImportStatus.FAILED)


@dataclass(frozen=True)
class ImportCounts:
    """What a finished import did."""

    fills: int = 0
    trades_created: int = 0
    trades_updated: int = 0
    trades_deleted: int = 0
    duplicates_skipped: int = 0
    #: Rows refused; `rejected` lists the first `REJECTED_LISTED` of them.
    rejected_rows: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportRecord:
    id: str
    user_id: str
    format: str
    account: str
    timezone: str | None
    object_key: str
    size: int
    status: ImportStatus
    reason: str | None
    counts: ImportCounts
    created_at: dt.datetime
    updated_at: dt.datetime
    #: Runs begun (each delivery of its message that reached the database).
    attempts: int = 0


def is_import_id(value: str) -> bool:
    """Whether `value` has the form of an import id (a UUID)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
