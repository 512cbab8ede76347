"""Reading the ledger a fault scenario checks: what was persisted, and what was done twice.

A duplicate here is an event *processed* twice, which the `events` primary key cannot
show: logged "Successfully processed event" twice across every worker lifetime,
archived in two objects, or dead-lettered and persisted both. Each is measured, so each
figure could come out non-zero.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from fluxa.events.models import events
from tests.support.sqs import events_of, receive_all


def persisted(engine: Engine, source: str) -> int:
    """How many events of `source` are in the `events` table."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(events).where(events.c.source == source)
        ).scalar_one()


def rows_of(engine: Engine, source: str) -> list[Any]:
    """`event_id`, `payload_sha256` and `archive_key` of every persisted event of `source`."""
    query = select(events.c.event_id, events.c.payload_sha256, events.c.archive_key).where(
        events.c.source == source
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def success_counts(log_lines: Iterable[dict[str, Any]], ids: set[str]) -> Counter[str]:
    """How often each of `ids` was logged "Successfully processed event" in `log_lines`
    (pass every lifetime's lines: a double would follow a kill)."""
    return Counter(
        line["event_id"]
        for line in log_lines
        if line.get("message") == "Successfully processed event" and line.get("event_id") in ids
    )


def archive_counts(s3: Any, bucket: str, sha256s: set[str]) -> Counter[str]:
    """How many archive objects hold each payload of `sha256s` (one line per payload)."""
    counts: Counter[str] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="archive/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            held = {hashlib.sha256(line).hexdigest() for line in body.splitlines() if line}
            counts.update(held & sha256s)
    return counts


def dead_lettered_ids(sqs: Any, dlq_url: str, source: str) -> list[str]:
    """Event ids of `source` in the DLQ (left in the queue)."""
    return [
        e["event_id"]
        for e in events_of(receive_all(sqs, dlq_url))
        if e.get("source") == source and "event_id" in e
    ]


@dataclass(frozen=True)
class Doubles:
    """Events processed more than once, by how it shows."""

    logged_twice: int
    archived_twice: int
    dead_lettered_and_persisted: int

    @property
    def total(self) -> int:
        return self.logged_twice + self.archived_twice + self.dead_lettered_and_persisted


def doubles(
    rows: list[Any],
    log_lines: Iterable[dict[str, Any]],
    s3: Any,
    bucket: str,
    dead_ids: Iterable[str],
) -> tuple[Doubles, Counter[str]]:
    """What was done twice to the persisted `rows`; also each id's success count."""
    ids = {str(row.event_id) for row in rows}
    successes = success_counts(log_lines, ids)
    archived = archive_counts(s3, bucket, {row.payload_sha256 for row in rows})
    found = Doubles(
        logged_twice=sum(1 for n in successes.values() if n > 1),
        archived_twice=sum(1 for n in archived.values() if n > 1),
        dead_lettered_and_persisted=len(ids & set(dead_ids)),
    )
    return found, successes
