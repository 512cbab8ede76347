"""Leases on received messages: a crashed worker's messages come back within a minute.

SQS hides a received message for the visibility timeout it was received with, and a
worker killed mid-task (SIGKILL, out of memory, a lost host) leaves everything it held
hidden for that long: with the queue's 900 s, a quarter of an hour. Here a worker
receives with a short lease (`FLUXA_SQS_LEASE_SECONDS`) and, while it lives, renews the
lease of every message it holds, running or prefetched, every quarter of a lease with
`ChangeMessageVisibilityBatch`. A live worker keeps what it holds for as long as its
tasks take; a dead or hung one stops renewing, and its messages are delivered again at
most one lease later.

Renewals run in a thread of their own, so that a slow or unreachable SQS never stalls
the worker's event loop; a failed renewal is tried again at the next tick, three times
before the lease runs out. Nothing is held by the SQS side beyond a lease either way:
a message whose renewal keeps failing is delivered again (architecture §7 makes that harmless).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("broker.message_leases")

#: SQS accepts at most ten entries per batch request.
BATCH_LIMIT = 10
#: Renewals per lease: a lease survives this many failed renewals less one.
RENEWALS_PER_LEASE = 4
#: What SQS answers for a receipt handle whose message was deleted meanwhile (acknowledged
#: between the snapshot and the renewal): expected, not a failure.
GONE_CODES = frozenset({"ReceiptHandleIsInvalid", "AWS.SimpleQueueService.MessageNotInflight"})


@dataclass(frozen=True)
class Held:
    """A message a worker holds: received and not yet acknowledged or rejected."""

    queue: str | None  # kombu's queue name, which picks the client of a predefined queue
    queue_url: str
    receipt_handle: str


@dataclass(frozen=True)
class Renewal:
    """One `ChangeMessageVisibilityBatch` request."""

    queue: str | None
    queue_url: str
    entries: list[dict[str, Any]]


def renewal_interval(lease_seconds: float) -> float:
    """How often held messages are renewed."""
    return lease_seconds / RENEWALS_PER_LEASE


def renewals(held: Iterable[Held], lease_seconds: int) -> list[Renewal]:
    """The requests that hide every message of `held` for another `lease_seconds`: one per
    queue and ten messages (ids are positions in the request)."""
    by_queue: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for message in held:
        by_queue[(message.queue, message.queue_url)].append(message.receipt_handle)
    requests = []
    for (queue, url), handles in by_queue.items():
        for start in range(0, len(handles), BATCH_LIMIT):
            chunk = handles[start : start + BATCH_LIMIT]
            entries = [
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": lease_seconds}
                for i, handle in enumerate(chunk)
            ]
            requests.append(Renewal(queue, url, entries))
    return requests


def failures(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The failed entries of a batch answer that matter (not those deleted meanwhile)."""
    return [f for f in response.get("Failed", []) if f.get("Code") not in GONE_CODES]


class LeaseKeeper:
    """Renews the leases of what a worker holds, from a daemon thread, until stopped."""

    def __init__(
        self,
        lease_seconds: int,
        held: Callable[[], list[Held]],
        send: Callable[[Renewal], dict[str, Any]],
    ) -> None:
        self.lease_seconds = lease_seconds
        self._held = held
        self._send = send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fluxa-leases", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end after `stop`; whether it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def renew(self) -> int:
        """Renew every held message once; how many were renewed."""
        renewed = 0
        for request in renewals(self._held(), self.lease_seconds):
            try:
                response = self._send(request)
            except Exception as exc:  # tried again at the next tick, before the lease ends
                log.warning(
                    "leases not renewed; tried again shortly",
                    extra={"messages": len(request.entries), "error": type(exc).__name__},
                )
                continue
            for failure in failures(response):
                log.warning(
                    "a lease was not renewed; the message may be delivered again",
                    extra={"error": failure.get("Code"), "reason": failure.get("Message")},
                )
            renewed += len(request.entries) - len(response.get("Failed", []))
        return renewed

    def _run(self) -> None:
        interval = renewal_interval(self.lease_seconds)
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception:  # the thread must outlive any one tick
                log.exception("lease renewal failed; tried again shortly")
