"""Canonical JSON and SHA-256: one byte form per JSON value, whatever the key order or
white space it was written with.

Two forms, each for its own job:

- **RFC 8785** (JSON Canonicalization Scheme, `rfc8785_json`): the form of payload hashes,
  a contract with producers, who compute it with their language's JCS library. Keys
  sorted by UTF-16 code units, numbers as ECMAScript writes doubles (`1.0` is `1`, `1e21`
  is `1e+21`), integers only within ±(2^53 − 1), text as UTF-8.
- **Sorted JSON** (`sorted_json`): Python's `json` with keys sorted (by code point) and
  no white space, numbers as Python writes them. The form payload hashes had before RFC
  8785, kept to verify them, and the form of idempotency fingerprints: internal, and
  unchanged so that a request retried across the upgrade keeps its key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from fluxa.errors import SchemaValidationError


class NotCanonicalizableError(SchemaValidationError):
    """The value has no canonical JSON form (NaN, infinity, a lone surrogate, an integer
    beyond ±(2^53 − 1) in RFC 8785, a non-JSON type)."""


#: The integers RFC 8785 can write: those a double holds exactly (I-JSON).
SAFE_INTEGER = 2**53 - 1


def rfc8785_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) encoding of `value`, UTF-8.

    Where a value's sorted-JSON form already is its RFC 8785 form (`_same_in_both`), the C
    encoder writes it, at a quarter of the pure-Python library's cost; otherwise the
    library does. Both give the same bytes (tests/unit/test_hashing.py holds them to it).
    """
    if _same_in_both(value):
        return sorted_json(value)
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as exc:
        raise NotCanonicalizableError(
            f"{exc}: integers beyond ±(2^53 − 1) have no RFC 8785 form (send it as a string)"
        ) from exc
    except (ValueError, TypeError, RecursionError) as exc:  # CanonicalizationError is one
        raise NotCanonicalizableError(str(exc)) from exc


def _same_in_both(value: Any) -> bool:
    """Whether sorted JSON writes `value` as RFC 8785 does: no float that Python writes
    otherwise than ECMAScript (an exponent, an integral value, -0.0, NaN), no integer
    beyond `SAFE_INTEGER`, no key outside the Basic Multilingual Plane (RFC 8785 sorts
    keys by UTF-16 code units, Python by code points: they differ only there). Text is
    escaped alike by both."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) or item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if not -SAFE_INTEGER <= item <= SAFE_INTEGER:
                return False
        elif isinstance(item, float):
            text = repr(item)
            if "e" in text or "n" in text or text.endswith(".0"):
                return False
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or (not key.isascii() and max(key) > "\uffff"):
                    return False
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        else:
            return False
    return True


def sorted_json(value: Any) -> bytes:
    """Keys sorted, no white space, UTF-8, NaN refused: the pre-RFC 8785 form."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        # A lone surrogate (JSON allows "\ud800") has no UTF-8 form: UnicodeEncodeError.
        return text.encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:
        raise NotCanonicalizableError(str(exc)) from exc


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()
