"""The store's shared logic, over a dict backend (the PostgreSQL one is tested in integration)."""

import dataclasses
import datetime as dt

import pytest

from fluxa.errors import IdempotencyKeyInFlightError, IdempotencyKeyMismatchError
from fluxa.idempotency import IdempotencyConfig, IdempotencyStore, StoredResponse, fingerprint
from fluxa.idempotency.records import IdempotencyRecord, RecordStatus

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class DictStore(IdempotencyStore):
    def __init__(self, config):
        super().__init__(config)
        self.rows = {}

    def _insert(self, record):
        return self.rows.setdefault((record.scope, record.key), record) is record

    def _get(self, scope, key):
        return self.rows.get((scope, key))

    def _replace(self, expected, record):
        current = self.rows.get((record.scope, record.key))
        if current and (current.locked_at, current.status) == (expected.locked_at, expected.status):
            self.rows[(record.scope, record.key)] = record
            return True
        return False

    def _complete(self, scope, key, locked_at, response, expires_at):
        row = self.rows[(scope, key)]
        if row.locked_at == locked_at:
            self.rows[(scope, key)] = dataclasses.replace(
                row, status=RecordStatus.COMPLETED, response=response, expires_at=expires_at
            )

    def _delete(self, scope, key, locked_at):
        row = self.rows.get((scope, key))
        if row and row.locked_at == locked_at and row.status is RecordStatus.IN_PROGRESS:
            del self.rows[(scope, key)]

    def _purge(self, now):
        expired = [k for k, r in self.rows.items() if r.expires_at <= now]
        for k in expired:
            del self.rows[k]
        return len(expired)


@pytest.fixture
def store():
    return DictStore(IdempotencyConfig(ttl_seconds=3600, lock_seconds=60))


def ok(body):
    return lambda: StoredResponse(202, body)


def test_replays_the_first_response(store):
    assert store.execute("s", "k", "fp", ok(1), now=T0) == (StoredResponse(202, 1), False)
    assert store.execute("s", "k", "fp", ok(2), now=T0) == (StoredResponse(202, 1), True)


def test_other_body_is_a_mismatch(store):
    store.execute("s", "k", "fp", ok(1), now=T0)
    with pytest.raises(IdempotencyKeyMismatchError):
        store.execute("s", "k", "other", ok(2), now=T0)


def test_scopes_are_separate(store):
    store.execute("a", "k", "fp", ok(1), now=T0)
    assert store.execute("b", "k", "fp", ok(2), now=T0) == (StoredResponse(202, 2), False)


def test_in_flight_is_refused_until_its_lock_is_stale(store):
    store.rows[("s", "k")] = IdempotencyRecord(
        "s",
        "k",
        "fp",
        RecordStatus.IN_PROGRESS,
        locked_at=T0,
        expires_at=T0 + dt.timedelta(hours=1),
    )
    with pytest.raises(IdempotencyKeyInFlightError):
        store.execute("s", "k", "fp", ok(1), now=T0 + dt.timedelta(seconds=59))
    response, replayed = store.execute("s", "k", "fp", ok(1), now=T0 + dt.timedelta(seconds=61))
    assert (response.body, replayed) == (1, False)


def test_expired_key_is_a_new_request_even_with_another_body(store):
    store.execute("s", "k", "fp", ok(1), now=T0)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert store.execute("s", "k", "other", ok(2), now=later) == (StoredResponse(202, 2), False)


def test_an_exception_releases_the_key(store):
    def boom():
        raise RuntimeError

    with pytest.raises(RuntimeError):
        store.execute("s", "k", "fp", boom, now=T0)
    assert store.rows == {}


def test_purge_removes_only_expired(store):
    store.execute("s", "old", "fp", ok(1), now=T0)
    assert store.purge_expired(now=dt.datetime.now(dt.UTC)) == 0
    assert store.purge_expired(now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)) == 1


def test_fingerprint_ignores_key_order_but_not_values():
    assert fingerprint("POST", "/p", {"a": 1, "b": 2}) == fingerprint(
        "POST", "/p", {"b": 2, "a": 1}
    )
    assert fingerprint("POST", "/p", {"a": 1}) != fingerprint("POST", "/p", {"a": 2})
    assert fingerprint("POST", "/p", {"a": 1}) != fingerprint("POST", "/q", {"a": 1})
