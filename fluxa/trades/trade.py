"""The trade value object."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property


class Side(StrEnum):
    LONG = "long"
    SHORT = "short"

    @property
    def direction(self) -> int:
        return 1 if self is Side.LONG else -1


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class PartialClose:
    """Part of the position closed at `price`."""

    quantity: Decimal
    price: Decimal
    closed_at: dt.datetime
    fees: Decimal = Decimal(0)


@dataclass(frozen=True)
class Trade:
    """One trade of one user. `exit_price`/`exited_at` close whatever the partials left."""

    id: str
    user_id: str
    symbol: str
    side: Side
    quantity: Decimal
    entry_price: Decimal
    entered_at: dt.datetime
    fees: Decimal = Decimal(0)
    #: The broker account ("" when the trader keeps one); trades of two accounts never mix.
    account: str = ""
    #: Contract multiplier: money per point per unit (1 for shares, 50 for an ES future).
    multiplier: Decimal = Decimal(1)
    #: ISO 4217 code of the prices and fees ("" when not said).
    currency: str = ""
    #: What the trade risked, in money; or the stop price the risk is measured to.
    initial_risk: Decimal | None = None
    stop_price: Decimal | None = None
    exit_price: Decimal | None = None
    exited_at: dt.datetime | None = None
    partial_closes: tuple[PartialClose, ...] = ()
    tags: tuple[str, ...] = ()
    notes: str = ""
    images: tuple[str, ...] = ()
    version: int = 1
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = field(default=None, compare=False)

    @cached_property  # the trade is frozen: computed once
    def partially_closed_quantity(self) -> Decimal:
        return sum((c.quantity for c in self.partial_closes), Decimal(0))

    @property
    def remaining_quantity(self) -> Decimal:
        """What the partial closes left open (before any final exit)."""
        return self.quantity - self.partially_closed_quantity

    @cached_property
    def status(self) -> Status:
        """Closed once fully closed: by a final exit, or by partial closes alone."""
        if self.exit_price is not None or self.remaining_quantity == 0:
            return Status.CLOSED
        return Status.OPEN

    @cached_property
    def closed_at(self) -> dt.datetime | None:
        """When the trade became closed (None while open)."""
        if self.status is Status.OPEN:
            return None
        if self.exited_at is not None:
            return self.exited_at
        # No partial close here means a zero quantity, which integrity checks refuse.
        return max((c.closed_at for c in self.partial_closes), default=None)
