"""PostgreSQL backend of the idempotency store (`idempotency_keys`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from fluxa.idempotency.config import IdempotencyConfig
from fluxa.idempotency.models import idempotency_keys as table
from fluxa.idempotency.records import IdempotencyRecord, RecordStatus, StoredResponse
from fluxa.idempotency.store import IdempotencyStore
from fluxa.infra.db import transaction


def _key(scope: str, key: str):
    return (table.c.scope == scope) & (table.c.key == key)


class PostgresIdempotencyStore(IdempotencyStore):
    """Each primitive is one statement in its own transaction; conflicts resolve atomically."""

    def __init__(self, engine: Engine, config: IdempotencyConfig) -> None:
        super().__init__(config)
        self._engine = engine

    def _insert(self, record: IdempotencyRecord) -> bool:
        statement = (
            insert(table)
            .values(
                scope=record.scope,
                key=record.key,
                fingerprint=record.fingerprint,
                status=record.status.value,
                locked_at=record.locked_at,
                expires_at=record.expires_at,
            )
            .on_conflict_do_nothing(constraint="idempotency_keys_pkey")
            .returning(table.c.key)
        )
        with transaction(self._engine) as conn:
            return conn.execute(statement).first() is not None

    def _get(self, scope: str, key: str) -> IdempotencyRecord | None:
        with transaction(self._engine) as conn:
            row = conn.execute(select(table).where(_key(scope, key))).first()
        if row is None:
            return None
        response = None
        if row.response_status is not None:
            response = StoredResponse(status=row.response_status, body=row.response_body)
        return IdempotencyRecord(
            scope=row.scope,
            key=row.key,
            fingerprint=row.fingerprint,
            status=RecordStatus(row.status),
            locked_at=row.locked_at,
            expires_at=row.expires_at,
            response=response,
        )

    def _replace(self, expected: IdempotencyRecord, record: IdempotencyRecord) -> bool:
        statement = (
            update(table)
            .where(
                _key(record.scope, record.key),
                table.c.locked_at == expected.locked_at,
                table.c.status == expected.status.value,
            )
            .values(
                fingerprint=record.fingerprint,
                status=record.status.value,
                locked_at=record.locked_at,
                expires_at=record.expires_at,
                response_status=None,
                response_body=None,
            )
        )
        with transaction(self._engine) as conn:
            return conn.execute(statement).rowcount == 1

    def _complete(
        self,
        scope: str,
        key: str,
        locked_at: dt.datetime,
        response: StoredResponse,
        expires_at: dt.datetime,
    ) -> None:
        statement = (
            update(table)
            .where(_key(scope, key), table.c.locked_at == locked_at)
            .values(
                status=RecordStatus.COMPLETED.value,
                response_status=response.status,
                response_body=response.body,
                expires_at=expires_at,
            )
        )
        with transaction(self._engine) as conn:
            conn.execute(statement)

    def _delete(self, scope: str, key: str, locked_at: dt.datetime) -> None:
        statement = delete(table).where(
            _key(scope, key),
            table.c.locked_at == locked_at,
            table.c.status == RecordStatus.IN_PROGRESS.value,
        )
        with transaction(self._engine) as conn:
            conn.execute(statement)

    def _purge(self, now: dt.datetime) -> int:
        with transaction(self._engine) as conn:
            return conn.execute(delete(table).where(table.c.expires_at <= now)).rowcount
