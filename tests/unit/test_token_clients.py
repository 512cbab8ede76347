"""The verifier accepts the configured app clients only: people sign in through one, machine
clients get client-credentials tokens through another (Cognito: `sub` is the client id,
`scope` the resource server's scopes, no `cognito:groups`)."""

from __future__ import annotations

import pytest

from config import load_settings
from fluxa.auth import JwksKeyResolver, TokenVerifier
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from fluxa.errors import InvalidTokenError


@pytest.fixture
def issuers(tmp_path) -> dict[str, DevIssuer]:
    people = DevIssuer(tmp_path / "pool", client_id="app-client")
    same_key = dict(issuer=people.issuer)
    return {
        "people": people,
        "machines": DevIssuer.from_key_file(people.private_key_path, client_id="m2m", **same_key),
        "stranger": DevIssuer.from_key_file(people.private_key_path, client_id="x", **same_key),
    }


def verifier_for(issuers, *client_ids: str) -> TokenVerifier:
    people = issuers["people"]
    return TokenVerifier(
        issuer=people.issuer,
        client_ids=client_ids,
        key_for=JwksKeyResolver(people.jwks_url).key_for,
    )


def test_each_configured_client_is_accepted_and_no_other(issuers):
    verifier = verifier_for(issuers, "app-client", "m2m")
    assert verifier.verify(issuers["people"].mint("alice")).sub == "alice"
    assert verifier.verify(issuers["people"].mint("alice", token_use="id")).sub == "alice"
    machine = issuers["machines"].mint("m2m", scopes=(SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ))
    principal = verifier.verify(machine)
    assert principal.sub == "m2m"
    assert principal.has_scope(SCOPE_EVENTS_WRITE) and not principal.is_admin
    with pytest.raises(InvalidTokenError, match="another client"):
        verifier.verify(issuers["stranger"].mint("alice"))


def test_the_setting_lists_clients_comma_separated():
    settings = load_settings({"FLUXA_AUTH_AUDIENCE": " app-client, m2m ,"})
    assert settings.auth_client_ids == ("app-client", "m2m")
    assert settings.as_environ()["FLUXA_AUTH_AUDIENCE"] == "app-client,m2m"
    assert load_settings({}).auth_client_ids == ()
