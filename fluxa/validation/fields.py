"""Marshmallow fields that accept exactly what the OpenAPI document says, and nothing
PostgreSQL or S3 cannot store.

- `FullMatch`: a regular expression that must match the whole value (`re.match` with `$`
  lets a trailing newline through; JSON Schema's `pattern` does not).
- `Text`: free text without NUL characters or lone surrogates (PostgreSQL's `text`
  refuses the first, UTF-8 the second).
- `Moment`: an aware timestamp inside `[EARLIEST, LATEST)`, a range every store holds.
- `Amount`: a decimal as a plain string (`AMOUNT_PATTERN`) or a JSON number, within
  NUMERIC(28, 10): 18 integer and 10 fractional digits.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate

from fluxa.decimals import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, fits_storage

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
MOMENT_RANGE_TEXT = "from 1970-01-01T00:00:00Z up to (not including) 9000-01-01T00:00:00Z"

AMOUNT_PATTERN = rf"^[+-]?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?$"
AMOUNT_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS  # exclusive, either sign
AMOUNT_TEXT = (
    f'A decimal: a string such as "123.45" (at most {MAX_INTEGER_DIGITS} integer and'
    f" {MAX_FRACTION_DIGITS} fractional digits, ASCII, no exponent) or a JSON number"
    f" (rounded to {MAX_FRACTION_DIGITS} fractional digits; send strings for exact values)."
)
_QUANTUM = Decimal(1).scaleb(-MAX_FRACTION_DIGITS)
_AMOUNT = re.compile(AMOUNT_PATTERN)


class FullMatch(validate.Regexp):
    """`validate.Regexp` that must match the whole string."""

    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def storable_text_error(value: str) -> str | None:
    """Why `value` cannot be stored as PostgreSQL text, or None when it can."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Must be valid Unicode (no lone UTF-16 surrogates)."
    return None


class Text(fields.String):
    """A string PostgreSQL can store: no NUL, no lone surrogate."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = storable_text_error(text)
        if problem:
            raise ValidationError(problem)
        return text


class Moment(fields.AwareDateTime):
    """An aware timestamp (naive ones are UTC) inside the documented range."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        description = metadata.get("description", "")
        metadata["description"] = f"{description} RFC 3339, {MOMENT_RANGE_TEXT}.".strip()
        super().__init__(default_timezone=dt.UTC, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            inside = EARLIEST <= moment < LATEST
        except OverflowError:  # an offset that carries it past year 1 or 9999
            inside = False
        if not inside:
            raise ValidationError(f"Must be {MOMENT_RANGE_TEXT}.")
        return moment


class Amount(fields.Decimal):
    """A decimal amount (see the module); the OpenAPI form is set in `api/openapi.py`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", AMOUNT_TEXT)
        super().__init__(as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, str):
            if not _AMOUNT.fullmatch(value):
                raise ValidationError(AMOUNT_TEXT)
            return Decimal(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(AMOUNT_TEXT)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError(AMOUNT_TEXT)
        if abs(value) >= AMOUNT_LIMIT:
            raise ValidationError(f"Must be less than 10^{MAX_INTEGER_DIGITS} in magnitude.")
        number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        number = number.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
        if not fits_storage(number):  # rounding up to 10^18 itself
            raise ValidationError(f"Must be less than 10^{MAX_INTEGER_DIGITS} in magnitude.")
        return number


class TimeZone(fields.String):
    """An IANA time zone name (`Europe/Paris`), loaded as a `ZoneInfo`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> ZoneInfo:
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError("Not an IANA time zone name (such as Europe/Paris).") from None
