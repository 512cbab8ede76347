"""A fill: one execution as a broker reports it, whatever the file it came in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Action(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def direction(self) -> int:
        """+1 for a buy (adds to a long), −1 for a sell."""
        return 1 if self is Action.BUY else -1


@dataclass(frozen=True)
class Fill:
    """One execution. `execution_id` is unique per account at the broker: the same fill
    seen in two files is one fill."""

    executed_at: dt.datetime
    account: str
    symbol: str
    action: Action
    quantity: Decimal
    price: Decimal
    fees: Decimal
    execution_id: str
    multiplier: Decimal = Decimal(1)
    currency: str = ""
    #: Where the file has it (the first line is 1; 0: not from a file). Not part of the fill.
    line: int = field(default=0, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """What makes a fill the same fill: its account and execution id."""
        return self.account, self.execution_id

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.action.direction
