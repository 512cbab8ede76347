"""What each emulator request changed, noted as moto applies it and made durable before the
request is answered (`PersistingApp`).

moto keeps its state in memory; wrapping the few model methods that change queues and
objects is how the changes are seen. Messages moto moves to a dead-letter queue by itself
(its redrive) stay journaled under their first queue: after a restart they are delivered
there again and take their normal way, so nothing is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.s3.models import S3Backend
from moto.sqs.models import Queue, SQSBackend

from launcher.durable_emulator.journal import MessageJournal, Record, encode_attributes
from launcher.durable_emulator.objects import ObjectDirectory, StoredObject

_noted = threading.local()


def _note(change: tuple[Any, ...]) -> None:
    if not hasattr(_noted, "changes"):
        _noted.changes = []
    _noted.changes.append(change)


def take_noted() -> list[tuple[Any, ...]]:
    """The changes this thread noted since the last call."""
    changes = getattr(_noted, "changes", [])
    _noted.changes = []
    return changes


def send_record(backend: SQSBackend, queue_name: str, message: Any) -> Record:
    """A sent message as the journal keeps it."""
    return {
        "op": "send",
        "id": message.id,
        "region": backend.region_name,
        "queue": queue_name,
        "body": message.body,
        "attributes": encode_attributes(message.message_attributes),
        "visible_at": (message.delayed_until or 0) / 1000,  # moto keeps milliseconds
        "group_id": message.group_id,
        "deduplication_id": message.deduplication_id,
    }


def install() -> None:
    """Wrap moto's send, delete and purge of messages and its put and delete of objects."""
    original_send = SQSBackend.send_message
    original_delete = Queue.delete_message
    original_purge = SQSBackend.purge_queue
    original_put = S3Backend.put_object
    original_delete_object = S3Backend.delete_object

    def send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        message = original_send(self, queue_name, *args, **kwargs)
        _note(("send", send_record(self, queue_name, message)))
        return message

    def delete_message(self: Queue, receipt_handle: str) -> None:
        ids = [m.id for m in self._messages if m.had_receipt_handle(receipt_handle)]
        original_delete(self, receipt_handle)
        for id_ in ids:
            _note(("delete", {"op": "delete", "id": id_}))

    def purge_queue(self: SQSBackend, queue_name: str) -> None:
        original_purge(self, queue_name)
        _note(("purge", {"op": "purge", "queue": queue_name}))

    def put_object(self: S3Backend, bucket_name: str, key_name: str, *args: Any, **kw: Any) -> Any:
        key = original_put(self, bucket_name, key_name, *args, **kw)
        _note(("object", self, bucket_name, key_name))
        return key

    def delete_object(self: S3Backend, bucket_name: str, key_name: str, *a: Any, **kw: Any) -> Any:
        result = original_delete_object(self, bucket_name, key_name, *a, **kw)
        _note(("object", self, bucket_name, key_name))
        return result

    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.purge_queue = purge_queue  # type: ignore[method-assign]
    S3Backend.put_object = put_object  # type: ignore[method-assign]
    S3Backend.delete_object = delete_object  # type: ignore[method-assign]


def persist(
    changes: list[tuple[Any, ...]], journal: MessageJournal, objects: ObjectDirectory
) -> None:
    """Write `changes` to disk; objects are read as they are now (moto sets an object's
    metadata after `put_object`, so the state at the end of the request is the one to keep)."""
    journal.commit(change[1] for change in changes if change[0] != "object")
    written: set[tuple[str, str]] = set()
    for change in changes:
        if change[0] != "object" or (change[2], change[3]) in written:
            continue
        _, backend, bucket_name, key_name = change
        written.add((bucket_name, key_name))
        bucket = backend.buckets.get(bucket_name)
        key = bucket.keys.get(key_name) if bucket else None
        if key is None:
            objects.delete(bucket_name, key_name)
        else:
            objects.save(
                StoredObject(
                    bucket_name, bucket.region_name, key_name, key.value, dict(key.metadata)
                )
            )


class PersistingApp:
    """WSGI middleware: the inner response is held until the request's changes are on disk.

    If they cannot be written the client gets a 500, so no success is ever answered for a
    change that would not survive a crash.
    """

    def __init__(self, app: Callable, journal: MessageJournal, objects: ObjectDirectory) -> None:
        self.app, self.journal, self.objects = app, journal, objects

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        held: list[Any] = []

        def hold(status: str, headers: list, exc_info: Any = None) -> Callable:
            held[:] = [status, headers, exc_info]
            return lambda _data: None  # moto never writes through this

        take_noted()  # nothing left over from an earlier request on this thread
        result = self.app(environ, hold)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        try:
            persist(take_noted(), self.journal, self.objects)
        except OSError as exc:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [f"emulator state could not be written: {exc}".encode()]
        start_response(*held)
        return [body]


def restore_time(visible_at: float) -> int:
    """The delay left for a message that becomes visible at `visible_at` (0 … 900 s)."""
    return int(min(900, max(0.0, visible_at - time.time())))
