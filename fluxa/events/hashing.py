"""An event payload's canonical JSON and SHA-256 (the encodings themselves: `fluxa.canonical`).

`payload_sha256` is the lowercase hex SHA-256 of the payload's RFC 8785 (JCS) encoding:
what a producer in any language computes with its JCS library (docs/events.md).

Hashes made before RFC 8785 were over the sorted-JSON form. Stored events keep theirs:
a row's hash is checked against the bytes archived with it, whatever form they are in.
Messages enqueued before the upgrade still carry the old form, and clients may still
declare it: `canonical_matching` finds which form a hash was made over.
"""

from __future__ import annotations

from typing import Any

from fluxa.canonical import NotCanonicalizableError, rfc8785_json, sha256_hex, sorted_json


class CanonicalPayload(dict):
    """A payload that knows its canonical encoding (computed once, when it was checked)."""

    __slots__ = ("canonical",)

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(value)
        self.canonical = rfc8785_json(value)


def canonical_of(payload: Any) -> bytes:
    """The RFC 8785 encoding of `payload`, reusing the one a `CanonicalPayload` carries."""
    if isinstance(payload, CanonicalPayload):
        return payload.canonical
    return rfc8785_json(payload)


def payload_sha256(payload: Any) -> str:
    """The SHA-256 of the RFC 8785 encoding of `payload`."""
    return sha256_hex(canonical_of(payload))


def legacy_payload_sha256(payload: Any) -> str | None:
    """The SHA-256 of the pre-RFC 8785 (sorted JSON) encoding, None where it has none."""
    try:
        return sha256_hex(sorted_json(payload))
    except NotCanonicalizableError:
        return None


def canonical_matching(payload: Any, expected_sha256: str) -> bytes | None:
    """The encoding of `payload` that hashes to `expected_sha256`: RFC 8785, or the
    pre-RFC 8785 form for a hash made before it; None when neither does."""
    expected = expected_sha256.lower()
    try:
        canonical = canonical_of(payload)
    except NotCanonicalizableError:
        canonical = None  # an integer beyond 2^53 had a sorted-JSON form only
    if canonical is not None and sha256_hex(canonical) == expected:
        return canonical
    try:
        legacy = sorted_json(payload)
    except NotCanonicalizableError:
        return None
    return legacy if sha256_hex(legacy) == expected else None


def is_sha256_hex(value: str) -> bool:
    """Whether `value` looks like a hex SHA-256 digest (case-insensitive)."""
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


__all__ = [
    "CanonicalPayload",
    "NotCanonicalizableError",
    "canonical_matching",
    "canonical_of",
    "is_sha256_hex",
    "legacy_payload_sha256",
    "payload_sha256",
    "sha256_hex",
]
