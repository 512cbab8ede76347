"""Verified tokens are reused only while they stay valid, and nothing else is reused."""

from __future__ import annotations

import time

import pytest

from fluxa.auth import JwksKeyResolver, TokenVerifier
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.auth.principal import Principal
from fluxa.auth.token_cache import VerifiedTokens
from fluxa.auth.verifier import LEEWAY_SECONDS
from fluxa.errors import InvalidTokenError

ALICE = Principal(sub="alice", token_use="access", issued_at=0)


def test_an_entry_ends_at_its_deadline_or_its_ttl_the_sooner():
    clock = [1000.0]
    tokens = VerifiedTokens(ttl_seconds=60, clock=lambda: clock[0])
    tokens.put("expiring", ALICE, valid_until=1010)
    tokens.put("lasting", ALICE, valid_until=5000)
    clock[0] = 1009.9
    assert tokens.get("expiring") is ALICE and tokens.get("lasting") is ALICE
    clock[0] = 1010
    assert tokens.get("expiring") is None
    clock[0] = 1060
    assert tokens.get("lasting") is None


def test_the_oldest_entry_leaves_when_full():
    tokens = VerifiedTokens(max_entries=2, clock=lambda: 0.0)
    for token in ("a", "b", "c"):
        tokens.put(token, ALICE, valid_until=100)
    assert [tokens.get(t) for t in ("a", "b", "c")] == [None, ALICE, ALICE]


class CountingKeys:
    def __init__(self, issuer: DevIssuer) -> None:
        self.calls = 0
        self._resolver = JwksKeyResolver(issuer.jwks_url)

    def key_for(self, kid: str):
        self.calls += 1
        return self._resolver.key_for(kid)


@pytest.fixture
def issuer(tmp_path) -> DevIssuer:
    return DevIssuer(tmp_path / "issuer")


def test_a_verified_token_is_not_verified_again_until_its_entry_ends(issuer):
    clock = [time.time()]
    keys = CountingKeys(issuer)
    verifier = TokenVerifier(
        issuer=issuer.issuer, client_ids=[issuer.client_id], key_for=keys.key_for,
        verified=VerifiedTokens(clock=lambda: clock[0]),
    )  # fmt: skip
    token = issuer.mint("alice", ttl_seconds=30)
    assert verifier.verify(token).sub == "alice"
    assert verifier.verify(token).sub == "alice"
    assert keys.calls == 1
    clock[0] += 30 + LEEWAY_SECONDS  # past the token's own end: verified in full again
    verifier.verify(token)
    assert keys.calls == 2


def test_a_tampered_copy_of_a_verified_token_is_still_refused(issuer):
    verifier = TokenVerifier(
        issuer=issuer.issuer, client_ids=[issuer.client_id],
        key_for=JwksKeyResolver(issuer.jwks_url).key_for,
    )  # fmt: skip
    token = issuer.mint("alice")
    verifier.verify(token)
    head, body, signature = token.split(".")
    other = issuer.mint("mallory").split(".")[1]
    for forged in (f"{head}.{other}.{signature}", f"{head}.{body}.{signature[:-4]}AAAA"):
        with pytest.raises(InvalidTokenError):
            verifier.verify(forged)


def test_a_refused_token_is_not_kept(issuer):
    keys = CountingKeys(issuer)
    verifier = TokenVerifier(issuer=issuer.issuer, client_ids=["another"], key_for=keys.key_for)
    token = issuer.mint("alice")
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            verifier.verify(token)
    assert keys.calls == 2
