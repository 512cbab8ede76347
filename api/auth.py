"""Bearer-token authentication for the API's user-facing blueprints."""

from __future__ import annotations

from flask import g, request

from api.services import current_services
from config import Settings
from fluxa.auth import JwksKeyResolver, Principal, TokenVerifier
from fluxa.errors import InvalidTokenError


def build_verifier(settings: Settings) -> TokenVerifier | None:
    """A verifier for the configured issuer, or None when authentication is not configured."""
    if not (settings.auth_issuer and settings.auth_audience and settings.auth_jwks_url):
        return None
    return TokenVerifier(
        issuer=settings.auth_issuer,
        client_id=settings.auth_audience,
        key_for=JwksKeyResolver(settings.auth_jwks_url).key_for,
    )


def authenticate() -> None:
    """`before_request` of protected blueprints: verify the bearer token, keep the caller."""
    verifier = current_services().verifier
    if verifier is None:
        raise InvalidTokenError("authentication is not configured on this server")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("missing bearer token")
    g.principal = verifier.verify(token.strip())


def current_principal() -> Principal:
    """The verified caller of this request."""
    return g.principal
