"""kombu's SQS transport, with received bodies checked first and acknowledgements
deleted in batches.

**Checked first.** kombu, Celery and the prefork pool decode, copy and pickle a
message recursively, so one small body nested a few hundred levels deep killed the
worker's main process before any task ran, and SQS redelivered it until redrive. Here
every received body is decoded within `MESSAGE_LIMITS` and must be a Celery message
for a task this worker knows (`fluxa.messages.taskmessage.check_sqs_body`); one that is not is
sent, as it came, to its queue's DLQ with the code `MalformedMessage` in its message
attributes, and deleted. If that send fails the message is left alone: it comes back
after its visibility timeout, and SQS redrive ends a loop.

kombu deletes every acknowledged message with its own `DeleteMessage`: a third of the
SQS requests of a busy worker. Here an acknowledgement frees the worker's prefetch slot
at once and its delete joins a batch per queue, sent as one `DeleteMessageBatch` when
ten are waiting or `FLUSH_AFTER_SECONDS` after the first. A delete that is late or lost
(the worker killed in between, SQS unreachable) only means the message comes back after
its visibility timeout; processing it again changes nothing (architecture §7), so the trade is
one more idempotent delivery in a crash against nine requests saved in every ten.

**Leased.** A worker receives with a short visibility timeout and renews it while it
holds a message (`broker.message_leases`), so that a crashed worker's messages return within a
lease instead of the queue's whole visibility timeout.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from kombu.transport import SQS, virtual

from broker.message_leases import BATCH_LIMIT, Held, LeaseKeeper, Renewal
from fluxa.dlq.envelope import raw_dead_letter_attributes
from fluxa.errors import MalformedMessageError
from fluxa.infra.aws import new_client
from fluxa.messages.taskmessage import check_sqs_body

#: Transport options Fluxa adds: source queue name → DLQ URL (`broker.app`), and the
#: task names this worker runs (`workers.celery_app`, once the app is finalized).
DEAD_LETTER_URLS_OPTION = "fluxa_dead_letter_urls"
KNOWN_TASKS_OPTION = "fluxa_known_tasks"
#: The worker's lease on what it receives, in seconds (`workers.celery_app`; unset: the
#: queue's visibility timeout, as for every process that only sends).
LEASE_OPTION = "fluxa_lease_seconds"

log = logging.getLogger("broker.sqs_transport")

#: Wait before receiving again from a queue whose last receive failed.
REFUSED_RECEIVE_BACKOFF_SECONDS = 1.0
#: Longest wait of an acknowledged message for its delete (far below any visibility timeout).
FLUSH_AFTER_SECONDS = 0.5


class RegisteredTasks:
    """The task names a worker runs, read live from its registry: tasks of `--include`
    modules register after the app is finalized. Celery's built-in `celery.*` tasks are
    not Fluxa's to receive from a queue."""

    def __init__(self, registry: Mapping[str, Any]) -> None:
        self._registry = registry

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not name.startswith("celery.") and name in self._registry


@dataclass(frozen=True)
class PendingDelete:
    queue: str | None  # kombu's queue name, which picks the client of a predefined queue
    receipt_handle: str


class DeleteBatches:
    """Acknowledged messages awaiting their delete, grouped by queue URL."""

    def __init__(self) -> None:
        self._pending: dict[str, list[PendingDelete]] = defaultdict(list)

    def add(self, queue_url: str, delete: PendingDelete) -> int:
        """Queue a delete; how many now wait for `queue_url`."""
        batch = self._pending[queue_url]
        batch.append(delete)
        return len(batch)

    def take(self, queue_url: str) -> list[PendingDelete]:
        """Everything waiting for `queue_url` (and forget it)."""
        return self._pending.pop(queue_url, [])

    def take_all(self) -> dict[str, list[PendingDelete]]:
        """Everything waiting, by queue URL (and forget it)."""
        pending, self._pending = dict(self._pending), defaultdict(list)
        return pending


def batch_entries(batch: list[PendingDelete]) -> list[dict[str, str]]:
    """`DeleteMessageBatch` entries for `batch` (ids are positions)."""
    return [{"Id": str(i), "ReceiptHandle": d.receipt_handle} for i, d in enumerate(batch)]


def refusals_as_empty(on_list_ready: Callable[..., Any]) -> Callable[..., Any]:
    """kombu's parser of async answers, with a refused receive read as an empty one.

    kombu reads a 5xx answer to ReceiveMessage as no messages, but raises on any other
    error (a throttle, an expired credential): inside the worker's event loop that is
    "Unrecoverable error" and the worker stops. Here the receive is logged (ERROR: a
    refusal that lasts is an outage to see) and the loop polls again after its interval.
    """

    def parse(parent: Any, markers: Any, operation: str, response: Any) -> Any:
        try:
            return on_list_ready(parent, markers, operation, response)
        except Exception as exc:
            if operation != "ReceiveMessage":
                raise
            log.error(
                "SQS refused a receive; polling again",
                extra={"error": str(exc)[:500], "status": getattr(response, "status", None)},
            )
            return []

    return parse


class Channel(SQS.Channel):
    """An SQS channel whose acknowledgements are deleted in batches (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deletes = DeleteBatches()
        self._refused: set[str] = set()  # queue URLs whose last receive failed
        self._leases: LeaseKeeper | None = None

    def _new_boto_client(
        self,
        service: str,
        region: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        session_token: str | None = None,
        config: Config | None = None,
    ) -> Any:
        # kombu's, but from the process's shared session: kombu makes a session for each
        # queue's client, and each session loads botocore's data again (7.6 MiB apiece).
        client_config = Config(**(self.transport_options.get("client-config") or {}))
        if config is not None:
            client_config = client_config.merge(config)
        extra = {"endpoint_url": self.endpoint_url} if self.endpoint_url is not None else {}
        return new_client(
            service,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            use_ssl=self.is_secure if self.is_secure is not None else True,
            config=client_config,
            **extra,
        )

    def _loop1(self, queue: str, messages_fetched: int | None = None) -> None:
        # kombu polls again after `polling_interval` (10 ms); after a failed receive it
        # waits longer, so that an outage is not a storm of requests and log lines.
        if self._new_queue(queue) in self._refused:
            self._refused.discard(self._new_queue(queue))
            self.hub.call_later(REFUSED_RECEIVE_BACKOFF_SECONDS, self._schedule_queue, queue)
            return
        super()._loop1(queue, messages_fetched)

    def asynsqs(self, queue: str | None = None) -> Any:
        connection = super().asynsqs(queue)
        if not getattr(connection, "_fluxa_refusals_as_empty", False):
            # An instance attribute shadows kombu's method: `get_list` looks it up per call.
            connection._on_list_ready = refusals_as_empty(connection._on_list_ready)
            connection._fluxa_refusals_as_empty = True
        return connection

    def _get_from_sqs(
        self,
        queue_name: str,
        queue_url: str,
        connection: Any,
        count: int = 1,
        callback: Any = None,
    ) -> Any:
        # kombu's receive, with the lease as its visibility timeout (kombu passes none).
        lease = self.transport_options.get(LEASE_OPTION)
        if not lease:
            return super()._get_from_sqs(queue_name, queue_url, connection, count, callback)
        if self._leases is None:
            self._leases = LeaseKeeper(lease, self._held, self._renew)
            self._leases.start()
        return connection.receive_message(
            queue_name,
            queue_url,
            number_messages=count,
            visibility_timeout=lease,
            wait_time_seconds=self.wait_time_seconds,
            callback=callback,
        )

    def _held(self) -> list[Held]:
        """What this channel holds: delivered and neither acknowledged nor rejected.
        Called from the lease thread: both collections are copied at once (the event loop
        changes them) before they are read."""
        delivered, done = dict(self.qos._delivered), set(self.qos._dirty)
        held = []
        for tag, message in delivered.items():
            info = message.delivery_info
            if tag in done or "sqs_message" not in info:
                continue
            held.append(
                Held(self._queue_of(info), info["sqs_queue"], info["sqs_message"]["ReceiptHandle"])
            )
        return held

    def _queue_of(self, delivery_info: dict[str, Any]) -> str | None:
        """kombu's name of the queue a message came from (it picks the SQS client)."""
        key = delivery_info.get("routing_key")
        return self.canonical_queue_name(key) if key else None

    def _renew(self, renewal: Renewal) -> dict[str, Any]:
        return self.sqs(queue=renewal.queue).change_message_visibility_batch(
            QueueUrl=renewal.queue_url, Entries=renewal.entries
        )

    def _on_messages_ready(self, queue: str, qname: str, messages: dict[str, Any] | list) -> int:
        # kombu's async receive path (the worker's): `queue` is the URL, `qname` the name.
        if not isinstance(messages, dict):  # kombu's empty answer to a 5xx, timeout or refusal
            self._refused.add(queue)
            return 0
        if messages.get("Messages"):
            messages["Messages"] = [m for m in messages["Messages"] if self._admit(m, qname, queue)]
        return super()._on_messages_ready(queue, qname, messages)

    def _messages_to_python(self, messages: list[dict[str, Any]], queue: str) -> list[Any]:
        # kombu's blocking receive path.
        url = self._new_queue(queue)
        admitted = [m for m in messages if self._admit(m, queue, url)]
        return super()._messages_to_python(admitted, queue)

    def _admit(self, message: dict[str, Any], queue: str, queue_url: str) -> bool:
        """Whether `message` may go on to kombu; a malformed one is dead-lettered here."""
        known = self.transport_options.get(KNOWN_TASKS_OPTION)
        if known is None:  # not a worker (no tasks registered): nothing to check against
            return True
        try:
            check_sqs_body(message.get("Body", ""), known_tasks=known)
        except MalformedMessageError as exc:
            self._dead_letter_raw(message, queue, queue_url, exc)
            return False
        return True

    def _dead_letter_raw(
        self, message: dict[str, Any], queue: str, queue_url: str, error: MalformedMessageError
    ) -> None:
        dlq_url = self.transport_options.get(DEAD_LETTER_URLS_OPTION, {}).get(queue)
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        client = self.sqs(queue=queue)
        try:
            if dlq_url is None:
                raise LookupError(f"no dead-letter queue known for {queue}")
            client.send_message(
                QueueUrl=dlq_url,
                MessageBody=message.get("Body") or "(empty)",
                MessageAttributes=raw_dead_letter_attributes(
                    error_code=error.code,
                    error_message=error.message,
                    source_queue=queue,
                    attempts=attempts,
                ),
            )
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        except Exception as exc:  # never raise into kombu's event loop
            log.error(
                "malformed message not dead-lettered; SQS delivers it again",
                extra={"error_code": error.code.value, "error": type(exc).__name__},
            )
            return
        log.error(
            "malformed message dead-lettered",
            extra={
                "error_code": error.code.value,
                "reason": error.message,
                "source_queue": queue,
                "message_id": message.get("MessageId"),
                "status": "dead_lettered",
            },
        )

    def basic_ack(self, delivery_tag: Any, multiple: bool = False) -> None:
        try:
            info = self.qos.get(delivery_tag).delivery_info
            queue_url, receipt = info["sqs_queue"], info["sqs_message"]["ReceiptHandle"]
        except KeyError:
            return super().basic_ack(delivery_tag)
        if self.hub is None:  # no event loop to flush from later: delete now
            return super().basic_ack(delivery_tag)
        queue = self._queue_of(info)
        virtual.Channel.basic_ack(self, delivery_tag)  # frees the prefetch slot now
        waiting = self._deletes.add(queue_url, PendingDelete(queue, receipt))
        if waiting >= BATCH_LIMIT:
            self._flush(queue_url)
        elif waiting == 1:  # the first of a new batch: it is sent by this time at the latest
            self.hub.call_later(FLUSH_AFTER_SECONDS, self._flush, queue_url)

    def _flush(self, queue_url: str) -> None:
        self._delete(queue_url, self._deletes.take(queue_url))

    def _delete(self, queue_url: str, batch: list[PendingDelete]) -> None:
        if not batch:
            return
        try:
            response = self.sqs(queue=batch[0].queue).delete_message_batch(
                QueueUrl=queue_url, Entries=batch_entries(batch)
            )
        except Exception as exc:  # a timer callback must not raise into the event loop
            log.warning(
                "acknowledged messages not deleted; SQS delivers them again",
                extra={"messages": len(batch), "error": type(exc).__name__},
            )
            return
        for failed in response.get("Failed", []):
            log.warning(
                "an acknowledged message was not deleted; SQS delivers it again",
                extra={"error": failed.get("Code"), "reason": failed.get("Message")},
            )

    def close(self) -> None:
        if self._leases is not None:
            self._leases.stop()
        for queue_url, batch in self._deletes.take_all().items():
            self._delete(queue_url, batch)
        super().close()


class Transport(SQS.Transport):
    """kombu's SQS transport with `Channel` above (`broker_transport` names this class)."""

    Channel = Channel
