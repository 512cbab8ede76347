"""An event payload's canonical JSON and SHA-256 (the encoding itself: `fluxa.canonical`).

The canonical encoding of a payload is `json.dumps` with keys sorted at every
level, no insignificant white space (`,` and `:` separators), non-ASCII text
kept as UTF-8 (not `\\u` escapes), NaN and infinities refused, numbers as Python
writes them (integers as integers, floats in their shortest round-trip form).
`payload_sha256` is the lowercase hex SHA-256 of those UTF-8 bytes.
"""

from __future__ import annotations

from typing import Any

from fluxa.canonical import NotCanonicalizable, canonical_json, sha256_hex


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


def payload_sha256(payload: Any) -> str:
    """The SHA-256 of the canonical encoding of `payload`."""
    return sha256_hex(canonical_json(payload))


def is_sha256_hex(value: str) -> bool:
    """Whether `value` looks like a hex SHA-256 digest (case-insensitive)."""
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


__all__ = [
    "CanonicalPayload",
    "NotCanonicalizable",
    "canonical_json",
    "canonical_of",
    "is_sha256_hex",
    "payload_sha256",
    "sha256_hex",
]
