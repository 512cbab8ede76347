"""Idempotency record value objects and the request fingerprint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fluxa.canonical import sha256_hex, sorted_json


class RecordStatus(StrEnum):
    """Lifecycle of a key."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True)
class StoredResponse:
    """The response to replay for a completed key."""

    status: int
    body: Any


@dataclass(frozen=True)
class IdempotencyRecord:
    """One row of `idempotency_keys`."""

    scope: str
    key: str
    fingerprint: str
    status: RecordStatus
    locked_at: dt.datetime
    expires_at: dt.datetime
    response: StoredResponse | None = None


def fingerprint(method: str, path: str, body: Any, extra: dict[str, Any] | None = None) -> str:
    """A digest of what makes two requests "the same": method, path, canonical body, extras.

    White space and key order in the JSON body do not change it.
    """
    return sha256_hex(
        sorted_json({"method": method, "path": path, "body": body, "extra": extra or {}})
    )
