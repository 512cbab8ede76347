"""Coalesced sends: the events of concurrent requests ride in one task message.

A webhook-style producer sends events one per request; one broker send per request is
what bounds that path (a round trip, and on SQS a billed request, per event), and it
bounds batches too where the broker is slow. Here the first request of a quiet moment
waits up to `linger` seconds for others; whatever arrived meanwhile is sent as one
message, and each request returns only once the message that carries its events was
accepted. A request's events always travel together, so if that send fails, every
request of the group gets the error: none of their events was sent, none was accepted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fluxa.events.ingest import EventIngestor, PreparedEvent, needs_claim_check

#: At most this many events share one message (and one archive object).
MAX_EVENTS_PER_MESSAGE = 500
#: A request of at least this many events already spreads a send's cost: it does not
#: linger, it only waits behind the send in flight (a lone client's batches would
#: otherwise each wait the linger for nobody).
LINGER_BELOW_EVENTS = 10


@dataclass
class _Group:
    correlation_id: str
    events: list[PreparedEvent] = field(default_factory=list)
    size: int = 0
    closed: threading.Event = field(default_factory=threading.Event)
    sent: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class CoalescingIngestor:
    """`EventIngestor.enqueue` with requests gathered for up to `linger_seconds`.

    A request whose events fit one message joins the open group as a whole; one that
    needs more than a message, or a claim check, goes straight through. A group closes
    when its linger has ended (a leader of `LINGER_BELOW_EVENTS` or more does not linger)
    and the previous group's send is done, or earlier when the
    next request would pass the message budget or `MAX_EVENTS_PER_MESSAGE`; it is always
    one message, so a failed send fails the whole group and nothing of it was accepted.
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
        size = sum(event.size for event in events)
        if not self._may_join(events, size):
            return self._ingestor.enqueue(events, correlation_id)
        group, leads = self._join(events, size, correlation_id)
        if leads:
            if len(events) < LINGER_BELOW_EVENTS:
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

    def _may_join(self, events: list[PreparedEvent], size: int) -> bool:
        """Whether `events` (`size` bytes) fit one message as they are (no claim check)."""
        limits = self._ingestor.limits
        return (
            self._linger > 0
            and 0 < len(events) <= MAX_EVENTS_PER_MESSAGE
            and not any(needs_claim_check(event, limits) for event in events)
            and size <= self._budget
        )

    def _join(
        self, events: list[PreparedEvent], size: int, correlation_id: str
    ) -> tuple[_Group, bool]:
        """Add `events` (`size` bytes) to the open group (the first request opens one and
        leads it)."""
        with self._lock:
            group = self._open
            full = group is not None and (
                group.size + size > self._budget
                or len(group.events) + len(events) > MAX_EVENTS_PER_MESSAGE
            )
            if full:
                self._open = None
                group.closed.set()
                group = None
            leads = group is None
            if group is None:
                group = self._open = _Group(correlation_id)
            group.events.extend(events)
            group.size += size
            return group, leads

    def _close(self, group: _Group) -> None:
        with self._lock:
            if self._open is group:
                self._open = None
