"""Structural limits of JSON, checked without unbounded recursion.

Python's JSON decoder, `copy`, `pickle` and marshmallow all recurse once per level of
nesting, so a body of a few kilobytes nested a few hundred levels deep can exhaust the
stack of whatever touches it next (Celery's prefork pool did). Every door that parses
JSON from outside (the API's request bodies, the worker's SQS messages) decodes with
`loads_bounded` and checks the result with `check_structure` before anything
recursive sees it. The limits are documented in docs/events.md ("Limits").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fluxa.errors import SchemaValidationError


@dataclass(frozen=True)
class JsonLimits:
    """How large a JSON document may be, level by level."""

    max_depth: int  # objects and arrays nested in one another; the top level is depth 1
    max_items: int  # keys of one object, or items of one array
    max_string_chars: int  # one string value or key
    max_number_digits: int  # digits of one integer (floats are IEEE doubles anyway)

    @cached_property
    def max_int(self) -> int:
        """The largest integer of `max_number_digits` digits."""
        return 10**self.max_number_digits - 1


#: An event's `payload` (an object at depth 1).
PAYLOAD_LIMITS = JsonLimits(
    max_depth=32, max_items=10_000, max_string_chars=1_048_576, max_number_digits=100
)
#: A request body: a payload inside an event inside a batch is 3 levels deeper.
REQUEST_LIMITS = JsonLimits(
    max_depth=PAYLOAD_LIMITS.max_depth + 3,
    max_items=10_000,
    max_string_chars=PAYLOAD_LIMITS.max_string_chars,
    max_number_digits=PAYLOAD_LIMITS.max_number_digits,
)
#: An SQS message as a worker receives it: kombu's envelope, Celery's body, the events
#: list and the dead-letter header add levels around the payload.
MESSAGE_LIMITS = JsonLimits(
    max_depth=PAYLOAD_LIMITS.max_depth + 8,
    max_items=10_000,
    max_string_chars=PAYLOAD_LIMITS.max_string_chars,
    max_number_digits=PAYLOAD_LIMITS.max_number_digits,
)


class JsonLimitExceededError(SchemaValidationError, ValueError):
    """A JSON document breaks a structural limit; `field` is the dotted path at fault.

    A `ValueError` too, like every other way a text can fail to be bounded JSON."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message, details={field or "_schema": [message]})
        self.field = field


def loads_bounded(data: str | bytes, limits: JsonLimits) -> Any:
    """Decode `data` as JSON within `limits`.

    Raises `JsonLimitExceededError` for a limit, `ValueError` (JSONDecodeError or
    UnicodeDecodeError) for text that is not JSON.
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        # NaN and Infinity decode (as Python's json does) so that the field that holds
        # them is named by its own validation (a payload, an amount) rather than here.
        value = json.loads(text)
    except RecursionError as exc:
        raise JsonLimitExceededError(f"nested deeper than {limits.max_depth} levels") from exc
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # CPython's 4,300-digit guard
            raise JsonLimitExceededError(_number_message(limits)) from exc
        raise
    check_structure(value, limits)
    return value


def _number_message(limits: JsonLimits) -> str:
    return f"an integer has more than {limits.max_number_digits} digits"


def _dotted(path: tuple[Any, ...] | None) -> str:
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(str(key))
    return ".".join(reversed(parts))


def _check_string(text: str, limits: JsonLimits, path: tuple[Any, ...] | None) -> None:
    if len(text) > limits.max_string_chars:
        raise JsonLimitExceededError(
            f"a string is longer than {limits.max_string_chars} characters", _dotted(path)
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonLimitExceededError(
                "a string is not valid Unicode (a lone UTF-16 surrogate)", _dotted(path)
            ) from exc


def check_structure(value: Any, limits: JsonLimits, *, field: str = "") -> None:
    """Raise `JsonLimitExceededError` unless decoded JSON `value` is within `limits`.

    Iterative, so it is safe on any depth. `field` prefixes the path it reports.
    """
    root: tuple[Any, ...] | None = (None, field) if field else None
    if isinstance(value, str):
        _check_string(value, limits, root)
    if not isinstance(value, dict | list):
        return
    max_chars, max_int = limits.max_string_chars, limits.max_int
    stack: list[tuple[Any, int, tuple[Any, ...] | None]] = [(value, 1, root)]
    while stack:
        node, depth, path = stack.pop()
        if depth > limits.max_depth:
            raise JsonLimitExceededError(
                f"nested deeper than {limits.max_depth} levels", _dotted(path)
            )
        if len(node) > limits.max_items:
            raise JsonLimitExceededError(f"more than {limits.max_items} items", _dotted(path))
        if type(node) is dict:
            for key in node:
                if len(key) > max_chars or not key.isascii():
                    _check_string(key, limits, path)
            children: Any = node.items()
        else:
            children = enumerate(node)
        for key, child in children:
            kind = type(child)
            if kind is str:
                if len(child) > max_chars or not child.isascii():
                    _check_string(child, limits, (path, key))
            elif kind is dict or kind is list:
                stack.append((child, depth + 1, (path, key)))
            elif kind is int and not -max_int <= child <= max_int:
                raise JsonLimitExceededError(_number_message(limits), _dotted((path, key)))
