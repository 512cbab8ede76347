"""The sign-outs each API process keeps in memory (`RevocationSet`), on real PostgreSQL:
read incrementally, answered from memory while the database is down, forgotten once no
token can outlive them."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import insert

from fluxa.auth.principal import Principal
from fluxa.auth.revocation import (
    HORIZON_SECONDS,
    OVERLAP_SECONDS,
    RevocationSet,
    revoke_all,
    token_revocations,
)
from fluxa.errors import DBConnectionError
from fluxa.infra.db import make_engine

pytestmark = pytest.mark.integration


def principal(sub: str, issued_at: float) -> Principal:
    return Principal(sub=sub, token_use="access", issued_at=int(issued_at), scopes=frozenset())


def user() -> str:
    return f"signout-{uuid.uuid4().hex[:10]}"


def test_a_sign_out_written_elsewhere_is_seen_on_the_next_read(engine):
    revocations, alice = RevocationSet(engine), user()
    token = principal(alice, time.time() - 60)
    assert not revocations.is_revoked(token)
    revoke_all(engine, alice)  # as another API process would
    assert not revocations.is_revoked(token)  # memory only, until the next read
    revocations.refresh()
    assert revocations.is_revoked(token)
    assert not revocations.is_revoked(principal(alice, time.time() + 120))  # a later token


def test_reads_are_incremental(engine):
    revocations = RevocationSet(engine)
    revocations.refresh()
    late, early = user(), user()
    now = dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(seconds=OVERLAP_SECONDS + 600)
    with engine.begin() as conn:  # a row recorded before the last read's window
        conn.execute(
            insert(token_revocations).values(sub=early, revoked_before=now, recorded_at=long_ago)
        )
    revoke_all(engine, late)
    revocations.refresh()
    assert revocations.is_revoked(principal(late, time.time() - 5))
    assert not revocations.is_revoked(principal(early, time.time() - 5))
    assert RevocationSet(engine).is_revoked(principal(early, time.time() - 5))  # a full read


def test_answers_from_memory_while_the_database_is_down(test_database):
    engine = make_engine(test_database.proxied_url)
    revocations, alice, bob = RevocationSet(engine), user(), user()
    revoke_all(engine, alice)
    revocations.refresh()
    test_database.proxy.refuse()
    try:
        with pytest.raises(DBConnectionError):
            revocations.refresh()
        assert revocations.is_revoked(principal(alice, time.time() - 5))
        assert not revocations.is_revoked(principal(bob, time.time() - 5))
        assert revocations.stale_seconds is not None and revocations.stale_seconds >= 0
    finally:
        test_database.proxy.restore()
        engine.dispose()


def test_a_process_that_never_read_fails_closed(test_database):
    engine = make_engine(test_database.proxied_url)
    test_database.proxy.refuse()
    try:
        with pytest.raises(DBConnectionError):
            RevocationSet(engine).is_revoked(principal(user(), time.time()))
    finally:
        test_database.proxy.restore()
        engine.dispose()


def test_a_sign_out_is_forgotten_once_no_token_can_outlive_it(engine):
    later = [time.time()]
    revocations, alice = RevocationSet(engine, clock=lambda: later[0]), user()
    revoke_all(engine, alice)
    revocations.refresh()
    token = principal(alice, time.time() - 5)
    assert revocations.is_revoked(token)
    later[0] += HORIZON_SECONDS + 1
    revocations.refresh()
    assert not revocations.is_revoked(token)  # any such token expired long ago
