"""Reading events back: one with its payload, or a keyset-paginated listing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from fluxa.db import translated_errors
from fluxa.errors import NotFoundError
from fluxa.events import repository
from fluxa.events.repository import EventFilter, EventRecord
from fluxa.pagination import decode_cursor, encode_cursor
from fluxa.storage import S3ObjectStore


@dataclass(frozen=True)
class EventPage:
    """One page of a listing and the cursor of the next (None on the last page)."""

    items: list[EventRecord]
    next_cursor: str | None


class EventQueries:
    """Read-side use cases for events."""

    def __init__(self, engine: Engine, store: S3ObjectStore) -> None:
        self._engine = engine
        self._store = store

    def get(self, event_id: str) -> tuple[EventRecord, Any]:
        """The event and its payload, read from its archive by byte range."""
        with translated_errors(), self._engine.connect() as conn:
            record = repository.get_event(conn, event_id)
        if record is None:
            raise NotFoundError(f"event {event_id!r} not found")
        raw = self._store.get(
            record.archive_key, offset=record.archive_offset, length=record.payload_size
        )
        return record, json.loads(raw)

    def list(self, filters: EventFilter, *, limit: int, cursor: str | None) -> EventPage:
        """A page of events, newest first."""
        after = decode_cursor(cursor) if cursor else None
        with translated_errors(), self._engine.connect() as conn:
            rows = repository.list_events(conn, filters, limit=limit + 1, after=after)
        page, more = rows[:limit], len(rows) > limit
        last = page[-1] if page else None
        next_cursor = encode_cursor(last.occurred_at, last.event_id) if more and last else None
        return EventPage(items=page, next_cursor=next_cursor)
