"""CoalescingIngestor with an ingestor that records its sends (no broker: the concurrency
and failure rules, which the integration test shows on real parts)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fluxa.errors import BrokerUnavailableError
from fluxa.events.coalesce import CoalescingIngestor
from fluxa.events.ingest import IngestLimits, prepare_event
from tests.support.builders import event_body


class RecordingIngestor:
    """Records each send's events; fails the sends whose number is in `failing`."""

    def __init__(
        self,
        limits: IngestLimits,
        failing: set[int] = frozenset(),
        seconds: float = 0.0,
        rendezvous: threading.Barrier | None = None,
    ) -> None:
        self.limits = limits
        self.rendezvous = rendezvous  # each send waits there for the others
        self.sends: list[list[str]] = []
        self.failing = failing
        self.seconds = seconds  # how long a send takes (a broker's round trip)
        self._lock = threading.Lock()

    def enqueue(self, events, correlation_id):
        if self.rendezvous is not None:
            self.rendezvous.wait()
        time.sleep(self.seconds)
        with self._lock:
            self.sends.append([e.event_id for e in events])
            number = len(self.sends)
        if number in self.failing:
            raise BrokerUnavailableError("refused")
        return 1


LIMITS = IngestLimits(claim_check_bytes=64 * 1024, max_message_bytes=256 * 1024)


def prepared(payload_bytes: int = 10):
    event = event_body(payload={"data": "x" * payload_bytes})
    event["occurred_at"] = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    return prepare_event(
        event, declared_sha256=None, correlation_id="c", accepted_at=event["occurred_at"]
    )


def send_concurrently(coalescer, events, threads=32):
    def one(event):
        try:
            coalescer.enqueue([event], f"cid-{event.event_id}")
            return event.event_id, None
        except BrokerUnavailableError as exc:
            return event.event_id, exc

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, events))


def test_concurrent_single_events_share_messages_and_each_is_sent_once():
    ingestor = RecordingIngestor(LIMITS)
    events = [prepared() for _ in range(200)]
    outcomes = send_concurrently(CoalescingIngestor(ingestor, linger_seconds=0.02), events)
    assert all(error is None for _, error in outcomes)
    sent = [event_id for send in ingestor.sends for event_id in send]
    assert sorted(sent) == sorted(e.event_id for e in events)  # each exactly once
    assert len(ingestor.sends) <= 200 / 4


def test_a_failed_send_fails_every_request_of_its_group_and_only_those():
    ingestor = RecordingIngestor(LIMITS, failing={2})
    events = [prepared() for _ in range(120)]
    outcomes = dict(send_concurrently(CoalescingIngestor(ingestor, linger_seconds=0.02), events))
    failed_group = set(ingestor.sends[1])
    assert {event_id for event_id, error in outcomes.items() if error} == failed_group
    assert failed_group


def test_the_message_budget_closes_a_group_early():
    small = IngestLimits(claim_check_bytes=64 * 1024, max_message_bytes=8 * 1024 + 2000)
    ingestor = RecordingIngestor(small)
    events = [prepared(300) for _ in range(40)]
    send_concurrently(CoalescingIngestor(ingestor, linger_seconds=0.05), events)
    assert all(sum(e.size for e in events if e.event_id in send) <= 2000 for send in ingestor.sends)
    assert sum(len(send) for send in ingestor.sends) == 40


def test_concurrent_batches_share_messages_each_batch_whole_in_one():
    # Batches do not linger: they share a message with what arrives while the previous
    # send is on its way.
    ingestor = RecordingIngestor(LIMITS, seconds=0.01)
    batches = [[prepared() for _ in range(20)] for _ in range(24)]

    coalescer = CoalescingIngestor(ingestor, linger_seconds=0.02)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda batch: coalescer.enqueue(batch, "c"), batches))
    sends = [set(send) for send in ingestor.sends]
    for batch in batches:
        ids = {e.event_id for e in batch}
        assert sum(1 for send in sends if ids <= send) == 1  # whole, in exactly one send
    assert sum(len(send) for send in sends) == 24 * 20
    assert len(sends) < 24


@pytest.mark.parametrize(
    ("linger", "request_events", "why"),
    [(0.0, lambda: [prepared()], "coalescing off"),
     (0.05, lambda: [prepared(70 * 1024)], "a claim-checked payload"),
     (0.05, lambda: [prepared(60 * 1024) for _ in range(5)], "more than one message holds")],
)  # fmt: skip
def test_what_goes_straight_through(linger, request_events, why):
    """Two such requests at once are in the ingestor at the same time: neither joined the
    other's group (one send) nor waited behind the other's send (the coalescer sends one
    group at a time)."""
    both_sending = threading.Barrier(2, timeout=10)
    ingestor = RecordingIngestor(LIMITS, rendezvous=both_sending)
    coalescer = CoalescingIngestor(ingestor, linger_seconds=linger)
    requests = [request_events(), request_events()]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda events: coalescer.enqueue(events, "c"), requests))
    sent = sorted(ingestor.sends)
    assert sent == sorted([e.event_id for e in events] for events in requests), why


def test_a_batch_alone_is_sent_without_lingering():
    ingestor = RecordingIngestor(LIMITS)
    coalescer = CoalescingIngestor(ingestor, linger_seconds=3600)
    batch = [prepared() for _ in range(10)]
    sender = threading.Thread(target=coalescer.enqueue, args=(batch, "c"), daemon=True)
    sender.start()
    sender.join(timeout=30)  # an hour's linger would still be waiting
    assert not sender.is_alive() and ingestor.sends == [[e.event_id for e in batch]]
