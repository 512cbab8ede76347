"""Decimal helpers: money and quantities are `Decimal` end to end, strings on the wire."""

from __future__ import annotations

from decimal import Decimal

MAX_FRACTION_DIGITS = 10
MAX_INTEGER_DIGITS = 18
RATIO_PLACES = Decimal("0.000001")


def to_str(value: Decimal | None) -> str | None:
    """Plain notation without trailing zeros: Decimal('1.50') → '1.5', 1E+3 → '1000'."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def fits_storage(value: Decimal) -> bool:
    """Whether `value` fits NUMERIC(28, 10) without rounding."""
    _sign, digits, exponent = value.normalize().as_tuple()
    fraction = max(0, -int(exponent))
    integer = max(0, len(digits) + int(exponent))
    return fraction <= MAX_FRACTION_DIGITS and integer <= MAX_INTEGER_DIGITS


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator / denominator rounded to 6 places, or None when the denominator is 0."""
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(RATIO_PLACES)
