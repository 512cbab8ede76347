"""Archive objects: many canonical payloads in one S3 object, each readable by byte range.

An archive is the payloads' canonical JSON, one per line. Its key is derived from
its content, so writing the same archive twice yields one object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from fluxa.events.hashing import sha256_hex


@dataclass(frozen=True)
class ArchiveEntry:
    """Where one payload sits inside an archive object."""

    event_id: str
    offset: int
    size: int


@dataclass(frozen=True)
class Archive:
    """The bytes of an archive object, its key, and the position of each payload."""

    key: str
    body: bytes
    entries: tuple[ArchiveEntry, ...]


def build_archive(payloads: Sequence[tuple[str, bytes]], day: dt.date) -> Archive:
    """Pack `(event_id, canonical_payload)` pairs into one archive filed under `day`."""
    body = bytearray()
    entries = []
    for event_id, payload in payloads:
        entries.append(ArchiveEntry(event_id, len(body), len(payload)))
        body += payload + b"\n"
    data = bytes(body)
    key = f"archive/{day:%Y/%m/%d}/{sha256_hex(data)}.jsonl"
    return Archive(key=key, body=data, entries=tuple(entries))


def claim_key(payload_sha256: str) -> str:
    """Key of a claim-checked payload in transit: addressed by its hash, so a re-send is
    one object. `claims/` expires (a lifecycle rule): no row may name it."""
    return f"claims/{payload_sha256[:2]}/{payload_sha256}.json"


def kept_claim_key(payload_sha256: str, day: dt.date) -> str:
    """Where a claim-checked payload is kept once its event is persisted: under `archive/`,
    with the archives of the same day, so it lives exactly as long as they do."""
    return f"archive/{day:%Y/%m/%d}/{payload_sha256}.json"
