"""Rows written before claim-checked payloads were kept: they name their `claims/` object,
which the stack's lifecycle rule expires. `keep_claims` copies each such object to where
the processor now keeps them (`archive/`) and points the row at the copy, page by page;
a run stopped midway is simply run again (a copy is idempotent, a row moves once)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine

from fluxa.errors import NotFoundError
from fluxa.events import repository
from fluxa.events.archive import kept_claim_key
from fluxa.infra.db import transaction
from fluxa.infra.storage import S3ObjectStore

PAGE = 500


@dataclass
class KeptClaims:
    """What a run did: rows re-pointed (or, in a dry run, that would be), and rows whose
    claim object was already gone (their payload is lost: `PayloadMissing` when read)."""

    moved: int = 0
    missing: list[str] = field(default_factory=list)


def keep_claims(engine: Engine, store: S3ObjectStore, *, dry_run: bool = False) -> KeptClaims:
    """Copy every claim a row names to `archive/` and re-point the row (see the module)."""
    report, after = KeptClaims(), ""
    while True:
        with engine.connect() as conn:
            rows = repository.rows_naming_claims(conn, after=after, limit=PAGE)
        if not rows:
            return report
        for row in rows:
            kept = kept_claim_key(row.payload_sha256, row.accepted_at.astimezone(dt.UTC).date())
            if dry_run:
                report.moved += 1
                continue
            try:
                store.copy(row.archive_key, kept)
            except NotFoundError:
                report.missing.append(row.event_id)
                continue
            with transaction(engine) as conn:
                report.moved += repository.repoint_payload(conn, row, kept)
        after = rows[-1].event_id
