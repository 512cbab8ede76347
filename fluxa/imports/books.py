"""What an import changes in one book (one account's trades of one symbol). Pure.

A book's trades are recomputed from all of its fills whenever fills join it. The trades
its fills made before (`before`) and make now (`after`) are compared with what is stored:
a trade new to the book is created; a stored one whose fills changed is updated, keeping
what the trader added by hand (tags, notes, images, risk); a trade the earlier fills
made that the fills no longer make (a fill earlier than its first one arrived) is deleted.
Trades the trader entered by hand in the same account and symbol are never touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fluxa.trades.trade import Trade

#: What the fills decide; everything else on a trade is the trader's.
FROM_FILLS = ("symbol", "side", "quantity", "entry_price", "entered_at", "fees", "account",
              "multiplier", "currency", "exit_price", "exited_at", "partial_closes")  # fmt: skip


@dataclass
class BookChanges:
    """Trades to create, to update (stored version kept, for the write's condition) and
    ids to delete."""

    create: list[Trade] = field(default_factory=list)
    update: list[Trade] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


def book_changes(
    before: Sequence[Trade], after: Sequence[Trade], stored: Mapping[str, Trade]
) -> BookChanges:
    """The writes that turn the stored trades of `before` into those of `after`."""
    changes = BookChanges()
    for trade in after:
        current = stored.get(trade.id)
        if current is None:
            changes.create.append(trade)
        elif _fill_fields(current) != _fill_fields(trade):
            mine = {name: getattr(trade, name) for name in FROM_FILLS}
            changes.update.append(dataclasses.replace(current, **mine))
    made_now = {trade.id for trade in after}
    changes.delete = sorted(
        trade.id for trade in before if trade.id not in made_now and trade.id in stored
    )
    return changes


def _fill_fields(trade: Trade) -> tuple[object, ...]:
    return tuple(getattr(trade, name) for name in FROM_FILLS)
