"""Coalesced sends: single events of concurrent requests ride in one task message.

A webhook-style producer sends events one per request; one broker send per request is
what bounds that path (a round trip, and on SQS a billed request, per event). Here the
first event of a quiet moment waits up to `linger` seconds for others; whatever arrived
meanwhile is sent as one message, and each request returns only once the message that
carries its event was accepted. If that send fails, every request of the group gets the
error: none of their events was sent, so none was accepted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fluxa.events.ingest import EventIngestor, PreparedEvent, needs_claim_check

#: At most this many events share one message (and one archive object).
MAX_EVENTS_PER_MESSAGE = 500


@dataclass
class _Group:
    correlation_id: str
    events: list[PreparedEvent] = field(default_factory=list)
    size: int = 0
    closed: threading.Event = field(default_factory=threading.Event)
    sent: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class CoalescingIngestor:
    """`EventIngestor.enqueue` with single events gathered for up to `linger_seconds`.

    Batches (already one message) and events whose payload needs a claim check go
    straight through. A group closes when its linger has ended and the previous group's
    send is done, or earlier when it reaches the message budget or
    `MAX_EVENTS_PER_MESSAGE`; it is always one message, so a failed send fails the whole
    group and nothing of it was accepted.
    """

    def __init__(self, ingestor: EventIngestor, linger_seconds: float) -> None:
        self._ingestor = ingestor
        self._linger = linger_seconds
        self._budget = ingestor.limits.message_budget
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self._open: _Group | None = None

    def enqueue(self, events: list[PreparedEvent], correlation_id: str) -> int:
        """Send `events`; return how many messages this call sent (0 when another
        request's send carried its event). Raises what the send raised."""
        if (
            self._linger <= 0
            or len(events) != 1
            or needs_claim_check(events[0], self._ingestor.limits)
        ):
            return self._ingestor.enqueue(events, correlation_id)
        group, leads = self._join(events[0], correlation_id)
        if leads:
            group.closed.wait(self._linger)
            # One send in flight per process: while the previous one runs, this group
            # stays open and grows, so groups grow as the broker slows down.
            with self._sending:
                self._close(group)
                try:
                    self._ingestor.enqueue(group.events, group.correlation_id)
                except BaseException as exc:
                    group.error = exc
                finally:
                    group.sent.set()
        else:
            group.sent.wait()
        if group.error is not None:
            raise group.error
        return 1 if leads else 0

    def _join(self, event: PreparedEvent, correlation_id: str) -> tuple[_Group, bool]:
        """Add `event` to the open group (the first event opens one and leads it)."""
        with self._lock:
            group = self._open
            full = group is not None and (
                group.size + event.size > self._budget
                or len(group.events) >= MAX_EVENTS_PER_MESSAGE
            )
            if full:
                self._open = None
                group.closed.set()
                group = None
            leads = group is None
            if group is None:
                group = self._open = _Group(correlation_id)
            group.events.append(event)
            group.size += event.size
            return group, leads

    def _close(self, group: _Group) -> None:
        with self._lock:
            if self._open is group:
                self._open = None
