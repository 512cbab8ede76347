"""Event ids: time-ordered UUIDv7 (RFC 9562) when the client sends none.

A UUIDv7 begins with its creation time in milliseconds, so ids made one after another
sort in time and land next to each other in the primary key's B-tree (a random UUIDv4
scatters inserts over the whole index), and an id says when it was made, which lets a
lookup by id go to the time range that holds it. Client-chosen ids are any string the
schema allows; they carry no time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from uuid_utils import uuid7

#: Two events with one client-chosen id that arrive within this of each other are one
#: event (the second is not stored). Beyond it the id may be stored again: a partitioned
#: `events` has no unique index across days, and this bounds how many days a check reads.
CLIENT_ID_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class EventKey:
    """What makes an event's row unique: its id and arrival; `from_client` when the client
    chose the id (an id Fluxa made is new by construction)."""

    event_id: str
    accepted_at: dt.datetime
    from_client: bool


def new_event_id() -> str:
    """A fresh UUIDv7, as text. Monotonic within a process, by a counter within each
    millisecond rather than by running the clock ahead (`uuid6` did: at 15,000 ids a
    second its times ran seconds into the future); 0.2 µs an id, a ninth of uuid4's."""
    return str(uuid7())


def time_of(event_id: str) -> dt.datetime | None:
    """When a UUIDv7 event id was made (to the millisecond); None for any other id."""
    try:
        parsed = uuid.UUID(event_id)
    except ValueError:
        return None
    if parsed.version != 7 or parsed.variant != uuid.RFC_4122:
        return None
    return dt.datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=dt.UTC)
