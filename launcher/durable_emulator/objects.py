"""S3 objects as files: one body and one metadata document per object, each written to a
temporary name, synced and renamed, so a crash leaves either the old object or the new one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from launcher.durable_emulator.files import write_durably


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    region: str
    key: str
    body: bytes
    metadata: dict[str, str]


class ObjectDirectory:
    """`<root>/<bucket>/<sha256 of key>.body` and `.json` (key, region, size, metadata).

    Keys are hashed into file names because S3 keys may be longer than a file name may be
    and may hold any character.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, bucket: str, key: str) -> tuple[Path, Path]:
        stem = hashlib.sha256(key.encode()).hexdigest()
        folder = self.root / bucket
        return folder / f"{stem}.body", folder / f"{stem}.json"

    def save(self, stored: StoredObject) -> None:
        """Write the object durably (the metadata last: it is what makes the object exist)."""
        body_path, meta_path = self._paths(stored.bucket, stored.key)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        write_durably(body_path, stored.body)
        meta = {
            "key": stored.key,
            "region": stored.region,
            "size": len(stored.body),
            "metadata": stored.metadata,
        }
        write_durably(meta_path, json.dumps(meta).encode())

    def delete(self, bucket: str, key: str) -> None:
        for path in reversed(self._paths(bucket, key)):  # the metadata first
            path.unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        """Every complete object (metadata present, body of the recorded size)."""
        if not self.root.exists():
            return
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for meta_path in sorted(folder.glob("*.json")):
                meta = json.loads(meta_path.read_bytes())
                body_path = meta_path.with_suffix(".body")
                if not body_path.exists() or body_path.stat().st_size != meta["size"]:
                    continue
                yield StoredObject(
                    folder.name,
                    meta["region"],
                    meta["key"],
                    body_path.read_bytes(),
                    meta["metadata"],
                )
