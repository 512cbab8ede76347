"""Canonical JSON and the payload SHA-256.

The canonical encoding of a payload is `json.dumps` with keys sorted at every
level, no insignificant white space (`,` and `:` separators), non-ASCII text
kept as UTF-8 (not `\\u` escapes), NaN and infinities refused, numbers as Python
writes them (integers as integers, floats in their shortest round-trip form).
`payload_sha256` is the lowercase hex SHA-256 of those UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


class NotCanonicalizable(ValueError):
    """The value has no canonical JSON form (NaN, infinity, a lone surrogate, a non-JSON type)."""


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON encoding of `value`."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        # A lone surrogate (JSON allows "\ud800") has no UTF-8 form: UnicodeEncodeError.
        return text.encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:
        raise NotCanonicalizable(str(exc)) from exc


class CanonicalPayload(dict):
    """A payload that knows its canonical encoding (computed once, when it was checked)."""

    __slots__ = ("canonical",)

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(value)
        self.canonical = canonical_json(value)


def canonical_of(payload: Any) -> bytes:
    """The canonical encoding of `payload`, reusing the one a `CanonicalPayload` carries."""
    if isinstance(payload, CanonicalPayload):
        return payload.canonical
    return canonical_json(payload)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def payload_sha256(payload: Any) -> str:
    """The SHA-256 of the canonical encoding of `payload`."""
    return sha256_hex(canonical_json(payload))


def is_sha256_hex(value: str) -> bool:
    """Whether `value` looks like a hex SHA-256 digest (case-insensitive)."""
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)
