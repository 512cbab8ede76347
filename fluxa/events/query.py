"""Reading events back: one with its payload, or a keyset-paginated listing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from fluxa.errors import NotFoundError
from fluxa.events import repository
from fluxa.events.repository import EventFilter, EventRecord
from fluxa.events.schemas import EVENT_ID_PATTERN
from fluxa.infra.db import translated_errors
from fluxa.infra.storage import S3ObjectStore
from fluxa.pagination import decode_cursor, encode_cursor

EVENT_ID = re.compile(EVENT_ID_PATTERN)
#: What `EventQueries.get` returns for a payload whose archive object is missing.
PAYLOAD_MISSING = object()


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
        """The event and its payload, read from its archive by byte range.

        The payload is `PAYLOAD_MISSING` when its archive object is gone (the event's
        metadata and SHA-256 still stand). Raises `NotFoundError` for an unknown id.
        """
        if EVENT_ID.fullmatch(event_id) is None:  # never a valid id: no query
            raise NotFoundError(f"event {event_id!r} not found")
        with translated_errors(), self._engine.connect() as conn:
            record = repository.get_event(conn, event_id)
        if record is None:
            raise NotFoundError(f"event {event_id!r} not found")
        try:
            raw = self._store.get(
                record.archive_key, offset=record.archive_offset, length=record.payload_size
            )
        except NotFoundError:
            return record, PAYLOAD_MISSING
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
