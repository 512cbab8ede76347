"""Every table of Fluxa's schema in one place, so that `fluxa.infra.db.metadata` is complete
(what the migrations own; tests compare the two)."""

from fluxa.auth.revocation import token_revocations
from fluxa.events.models import events
from fluxa.events.trail import event_trail
from fluxa.idempotency.models import idempotency_keys
from fluxa.imports.models import import_fills, imports
from fluxa.infra.db import metadata
from fluxa.infra.leases import leases
from fluxa.stats.models import stats_outbox, trade_stats
from fluxa.trades.models import trades
from fluxa.trades.trail import work_trail

ALL_TABLES = (
    events,
    idempotency_keys,
    trades,
    trade_stats,
    stats_outbox,
    leases,
    token_revocations,
    event_trail,
    work_trail,
    imports,
    import_fills,
)

__all__ = ["ALL_TABLES", "metadata"]
