"""Rules every stored trade satisfies; broken ones are reported by field, all at once."""

from __future__ import annotations

from collections import defaultdict

from fluxa.decimals import fits_storage
from fluxa.errors import SchemaValidationError
from fluxa.trades.trade import Trade

#: Contract multipliers stop here (a forex standard lot is 100,000): P&L figures of any
#: trade then stay within what the stats columns hold.
MAX_MULTIPLIER = 1_000_000


def problems(trade: Trade) -> dict[str, list[str]]:
    """Field → messages for every rule `trade` breaks (empty when it is valid)."""
    found: dict[str, list[str]] = defaultdict(list)
    if trade.quantity <= 0:
        found["quantity"].append("Must be greater than 0.")
    if not 0 < trade.multiplier <= MAX_MULTIPLIER or not fits_storage(trade.multiplier):
        found["multiplier"].append(f"Must be greater than 0 and at most {MAX_MULTIPLIER}.")
    for name in ("entry_price", "fees", "exit_price", "stop_price"):
        value = getattr(trade, name)
        if value is not None and value < 0:
            found[name].append("Must not be negative.")
    if trade.initial_risk is not None and trade.initial_risk <= 0:
        found["initial_risk"].append("Must be greater than 0.")
    for name in ("quantity", "entry_price", "fees", "exit_price", "initial_risk", "stop_price"):
        value = getattr(trade, name)
        if value is not None and not fits_storage(value):
            found[name].append("At most 18 integer and 10 fractional digits.")
    for i, close in enumerate(trade.partial_closes):
        where = f"partial_closes.{i}"
        if close.quantity <= 0:
            found[f"{where}.quantity"].append("Must be greater than 0.")
        if close.price < 0:
            found[f"{where}.price"].append("Must not be negative.")
        if close.fees < 0:
            found[f"{where}.fees"].append("Must not be negative.")
        if close.closed_at < trade.entered_at:
            found[f"{where}.closed_at"].append("Must not be before entered_at.")
        for name in ("quantity", "price", "fees"):
            if not fits_storage(getattr(close, name)):
                found[f"{where}.{name}"].append("At most 18 integer and 10 fractional digits.")
    if trade.partially_closed_quantity > trade.quantity:
        found["partial_closes"].append("Partial closes exceed the position's quantity.")
    _check_exit(trade, found)
    return dict(found)


def _check_exit(trade: Trade, found: dict[str, list[str]]) -> None:
    if (trade.exit_price is None) != (trade.exited_at is None):
        missing = "exited_at" if trade.exited_at is None else "exit_price"
        found[missing].append("exit_price and exited_at go together.")
        return
    if trade.exited_at is None:
        return
    if trade.exited_at < trade.entered_at:
        found["exited_at"].append("Must not be before entered_at.")
    if any(c.closed_at > trade.exited_at for c in trade.partial_closes):
        found["exited_at"].append("Must not be before a partial close.")
    if trade.remaining_quantity <= 0:
        found["exit_price"].append("Nothing is left to close after the partial closes.")


def check(trade: Trade) -> None:
    """Raise `SchemaValidationError` naming every field at fault."""
    errors = problems(trade)
    if errors:
        raise SchemaValidationError("trade breaks its integrity rules", details=errors)
