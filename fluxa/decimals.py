"""Decimal helpers: money and quantities are `Decimal` end to end, strings on the wire."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

MAX_FRACTION_DIGITS = 10
MAX_INTEGER_DIGITS = 18
RATIO_PLACES = Decimal("0.000001")

# Money arithmetic without rounding. A stored amount has at most 28 digits; a P&L leg
# multiplies a price difference (29 digits) by a quantity (28), so 57 digits, and sums of
# them grow by one digit per tenfold more terms. The default context (28 digits) would
# round those products and refuse to quantize their ratios (InvalidOperation).
EXACT = Context(
    prec=100, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
P = ParamSpec("P")
R = TypeVar("R")


def exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` under the `EXACT` context (its sums and products are not rounded)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(EXACT):
            return function(*args, **kwargs)

    return wrapper


def to_str(value: Decimal | None) -> str | None:
    """Plain notation without trailing zeros: Decimal('1.50') → '1.5', 1E+3 → '1000'."""
    if value is None:
        return None
    text = format(value.normalize(EXACT), "f")
    return "0" if text in {"-0", ""} else text


def fits_storage(value: Decimal) -> bool:
    """Whether `value` fits NUMERIC(28, 10) without rounding."""
    _sign, digits, exponent = value.normalize(EXACT).as_tuple()
    fraction = max(0, -int(exponent))
    integer = max(0, len(digits) + int(exponent))
    return fraction <= MAX_FRACTION_DIGITS and integer <= MAX_INTEGER_DIGITS


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator / denominator rounded to 6 places, or None when the denominator is 0."""
    if denominator == 0:
        return None
    return EXACT.divide(numerator, denominator).quantize(RATIO_PLACES, context=EXACT)
