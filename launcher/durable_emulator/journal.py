"""The queue journal: every message sent and every deletion, appended and synced before the
emulator answers; replayed at start, it is exactly the set of messages not yet deleted."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from launcher.durable_emulator.files import write_durably

#: Rewrite the journal once it holds this many bytes more than its live messages need.
COMPACT_SLACK_BYTES = 8 * 1024 * 1024

Record = dict[str, Any]


def encode_attributes(attributes: dict[str, Any] | None) -> dict[str, Any]:
    """Message attributes as JSON: binary values become base64 text, marked as such."""
    encoded: dict[str, Any] = {}
    for name, attribute in (attributes or {}).items():
        value = dict(attribute)
        if isinstance(value.get("BinaryValue"), bytes):
            value["BinaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
            value["binary_base64"] = True
        encoded[name] = value
    return encoded


def decode_attributes(encoded: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `encode_attributes`."""
    attributes: dict[str, Any] = {}
    for name, attribute in encoded.items():
        value = dict(attribute)
        if value.pop("binary_base64", False):
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        attributes[name] = value
    return attributes


class MessageJournal:
    """Append-only JSON lines: `send` (a whole message), `delete` (by id), `purge` (a queue).

    `live` is the replayed state: message id → its `send` record, in send order. A deletion
    committed before its send (two emulator threads racing) is remembered and applied when
    the send arrives, so the order of commits cannot resurrect a message.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.live: dict[str, Record] = {}
        self._early_deletes: set[str] = set()
        self._lock = threading.Lock()
        self._file: Any = None
        self._appended = 0
        self._rewritten = 0

    @classmethod
    def load(cls, path: Path) -> MessageJournal:
        """Replay the journal at `path` (missing: empty). A torn last line, left by a crash
        in the middle of a write that was never acknowledged, is ignored."""
        journal = cls(path)
        if path.exists():
            for line in path.read_bytes().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                journal._apply(record)
        return journal

    def _apply(self, record: Record) -> None:
        op = record["op"]
        if op == "send":
            if record["id"] in self._early_deletes:
                self._early_deletes.discard(record["id"])
            else:
                self.live[record["id"]] = record
        elif op == "delete":
            if self.live.pop(record["id"], None) is None:
                self._early_deletes.add(record["id"])
        elif op == "purge":
            doomed = [id_ for id_, sent in self.live.items() if sent["queue"] == record["queue"]]
            for id_ in doomed:
                del self.live[id_]

    def commit(self, records: Iterable[Record]) -> None:
        """Append `records` and sync them to disk; returns only once they are durable."""
        records = list(records)
        if not records:
            return
        lines = b"".join(json.dumps(record).encode() + b"\n" for record in records)
        with self._lock:
            if self._file is None:
                self._file = open(self.path, "ab")  # noqa: SIM115 - open for the process's life
            self._file.write(lines)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._appended += len(lines)
            for record in records:
                self._apply(record)
            # Rewritten once the appends outgrow what the last rewrite left (about the live
            # messages then) by the slack: the journal stays within a constant of them.
            if self._appended > COMPACT_SLACK_BYTES + self._rewritten:
                early = [{"op": "delete", "id": id_} for id_ in sorted(self._early_deletes)]
                self._rewrite_locked(list(self.live.values()), early)

    def rewrite(self, records: Iterable[Record]) -> None:
        """Replace the whole journal by `records` (sends), atomically."""
        with self._lock:
            self.live.clear()
            self._early_deletes.clear()
            self._rewrite_locked(list(records))

    def _rewrite_locked(self, sends: list[Record], early_deletes: Sequence[Record] = ()) -> None:
        """Write `sends` and the deletes still waiting for their send (`early_deletes`: a
        compaction that dropped them would let the late send live again after a restart)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        records = [*sends, *early_deletes]
        data = b"".join(json.dumps(record).encode() + b"\n" for record in records)
        write_durably(self.path, data)
        self._rewritten = len(data)
        self.live = {record["id"]: record for record in sends}
        self._appended = 0
