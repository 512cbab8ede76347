"""Token checks the way Cognito tokens must be checked; sign-out; scopes; JWKS fetch bounds."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from fluxa.auth.dev_issuer import DevIssuer
from fluxa.auth.jwks import JwksKeyResolver
from fluxa.auth.revocation import REFRESH_SECONDS, revoke_all
from fluxa.auth.verifier import LEEWAY_SECONDS, TokenVerifier
from fluxa.errors import InvalidTokenError
from launcher.waiting import wait_until

pytestmark = pytest.mark.integration


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims(dev_issuer, **overrides):
    now = int(time.time())
    base = {
        "iss": dev_issuer.issuer,
        "sub": "mallory",
        "iat": now,
        "exp": now + 600,
        "token_use": "access",
        "client_id": dev_issuer.client_id,
        "scope": "",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(dev_issuer, **overrides) -> str:
    return jwt.encode(
        claims(dev_issuer, **overrides),
        dev_issuer._private_key,
        algorithm="RS256",
        headers={"kid": dev_issuer.kid},
    )


def forged_tokens(dev_issuer, tmp_path):
    now = int(time.time())
    public_pem = dev_issuer._private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = DevIssuer(
        tmp_path / "stranger", issuer=dev_issuer.issuer, client_id=dev_issuer.client_id
    )
    hs_header = b64({"alg": "HS256", "kid": dev_issuer.kid, "typ": "JWT"})
    hs_body = b64(claims(dev_issuer))
    hs_sig = (
        base64.urlsafe_b64encode(
            hmac.new(public_pem, f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest()
        )
        .decode()
        .rstrip("=")
    )
    good = signed(dev_issuer)
    head, _body, sig = good.split(".")
    tampered_body = b64({**claims(dev_issuer), "sub": "someone-else"})
    return {
        "expired": signed(dev_issuer, iat=now - 7200, exp=now - 3600),
        "not yet valid": signed(dev_issuer, nbf=now + 3600),
        "issued in the future": signed(dev_issuer, iat=now + 3600),
        "wrong issuer": signed(dev_issuer, iss="https://evil.example"),
        "wrong client": signed(dev_issuer, client_id="other-client"),
        "wrong token_use": signed(dev_issuer, token_use="refresh"),
        "id token for another audience": signed(
            dev_issuer, token_use="id", client_id=None, aud="other-client"
        ),
        "no exp": signed(dev_issuer, exp=None),
        "lives past a day (a sign-out is kept that long)": signed(
            dev_issuer, iat=now, exp=now + 24 * 3600 + 1
        ),
        "alg none": f"{b64({'alg': 'none', 'kid': dev_issuer.kid})}.{b64(claims(dev_issuer))}.",
        "HS256 with the public key": f"{hs_header}.{hs_body}.{hs_sig}",
        "unknown kid": stranger.mint("mallory"),
        "tampered": f"{head}.{tampered_body}.{sig}",
        "garbage": "not.a.token",
    }


def test_every_forged_or_invalid_token_is_401(anonymous_client, dev_issuer, tmp_path):
    for name, token in forged_tokens(dev_issuer, tmp_path).items():
        response = anonymous_client.get("/v1/trades", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
        problem = response.get_json()
        assert problem["code"] == "InvalidToken" and "Traceback" not in str(problem), name


def test_a_valid_id_token_is_accepted(anonymous_client, dev_issuer):
    token = dev_issuer.mint(f"user-{uuid.uuid4().hex[:6]}", token_use="id")
    response = anonymous_client.get("/v1/trades", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_scopes_guard_the_event_endpoints(anonymous_client, auth):
    user_only = auth("plain-user")
    assert anonymous_client.get("/v1/events", headers=user_only).status_code == 403
    reader = auth("reader", scopes=("fluxa/events.read",))
    assert anonymous_client.get("/v1/events", headers=reader).status_code == 200
    assert anonymous_client.post("/v1/events", json={}, headers=reader).status_code == 403
    assert anonymous_client.get("/v1/events").status_code == 401


def test_sign_out_revokes_earlier_tokens_at_once(anonymous_client, dev_issuer, engine):
    user = f"user-{uuid.uuid4().hex[:8]}"
    stolen = {"Authorization": f"Bearer {dev_issuer.mint(user)}"}
    # Minted before the sign-out by an issuer whose clock runs 20 s ahead (inside the leeway).
    skewed = {"Authorization": f"Bearer {dev_issuer.mint(user, iat=int(time.time()) + 20)}"}
    assert anonymous_client.get("/v1/trades", headers=stolen).status_code == 200
    assert anonymous_client.get("/v1/trades", headers=skewed).status_code == 200
    assert anonymous_client.post("/v1/auth/signout", headers=stolen).status_code == 204
    for token in (stolen, skewed):
        refused = anonymous_client.get("/v1/trades", headers=token)
        assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]


def test_token_issued_after_sign_out_and_its_leeway_works(anonymous_client, dev_issuer, engine):
    user = f"user-{uuid.uuid4().hex[:8]}"
    signed_out = int(time.time()) - LEEWAY_SECONDS - 2
    revoke_all(engine, user, at=dt.datetime.fromtimestamp(signed_out, dt.UTC))
    fresh = {"Authorization": f"Bearer {dev_issuer.mint(user)}"}
    assert anonymous_client.get("/v1/trades", headers=fresh).status_code == 200
    within = {
        "Authorization": f"Bearer {dev_issuer.mint(user, iat=signed_out + LEEWAY_SECONDS - 1)}"
    }
    # Written by another process: this one reads it on its next refresh (REFRESH_SECONDS).
    wait_until(
        lambda: anonymous_client.get("/v1/trades", headers=within).status_code == 401,
        timeout=REFRESH_SECONDS + 5,
        what="the sign-out read",
    )
    assert anonymous_client.get("/v1/trades", headers=fresh).status_code == 200


@pytest.mark.parametrize("sub", ["", "   ", 42, None])
def test_token_without_a_usable_subject_is_401(anonymous_client, dev_issuer, sub):
    token = dev_issuer.mint(sub)  # type: ignore[arg-type]
    refused = anonymous_client.get("/v1/trades", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401, refused.get_data(as_text=True)
    assert refused.get_json()["code"] == "InvalidToken"


def test_unknown_kid_flood_does_not_become_a_jwks_fetch_flood(dev_issuer, tmp_path):
    resolver = JwksKeyResolver(dev_issuer.jwks_url)
    verifier = TokenVerifier(
        issuer=dev_issuer.issuer, client_ids=[dev_issuer.client_id], key_for=resolver.key_for
    )
    verifier.verify(dev_issuer.mint("u"))
    stranger = DevIssuer(tmp_path / "flood", issuer=dev_issuer.issuer)
    for _ in range(200):
        with pytest.raises(InvalidTokenError):
            verifier.verify(stranger.mint("u"))
    assert resolver.fetches <= 2


def test_key_rotation_is_picked_up_on_an_unknown_kid(tmp_path):
    clock = [0.0]
    issuer = DevIssuer(tmp_path / "rotating")
    resolver = JwksKeyResolver(issuer.jwks_url, clock=lambda: clock[0])
    verifier = TokenVerifier(
        issuer=issuer.issuer, client_ids=[issuer.client_id], key_for=resolver.key_for
    )
    verifier.verify(issuer.mint("u"))
    issuer.private_key_path.unlink()
    rotated = DevIssuer(tmp_path / "rotating")  # new key, new kid, same JWKS file
    clock[0] += 11
    assert verifier.verify(rotated.mint("u")).sub == "u"
    assert resolver.fetches == 2
