"""Canonical JSON and SHA-256: one byte form per JSON value, whatever the key order or
white space it was written with (payload hashes, idempotency fingerprints).

The canonical encoding is `json.dumps` with keys sorted at every level, no insignificant
white space (`,` and `:` separators), non-ASCII text kept as UTF-8 (not `\\u` escapes),
NaN and infinities refused, numbers as Python writes them.
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


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()
