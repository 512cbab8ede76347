"""Bearer-token authentication and scope checks for the API's blueprints."""

from __future__ import annotations

from collections.abc import Callable

from flask import g, request

from api.services import current_services
from config import Settings
from fluxa import logcontext
from fluxa.auth import JwksKeyResolver, Principal, TokenVerifier
from fluxa.errors import ForbiddenError, InvalidTokenError


def build_verifier(settings: Settings) -> TokenVerifier | None:
    """A verifier for the configured issuer, or None when authentication is not configured."""
    if not (settings.auth_issuer and settings.auth_client_ids and settings.auth_jwks_url):
        return None
    return TokenVerifier(
        issuer=settings.auth_issuer,
        client_ids=settings.auth_client_ids,
        key_for=JwksKeyResolver(settings.auth_jwks_url).key_for,
    )


def authenticate() -> None:
    """`before_request` of protected blueprints: verify the bearer token, keep the caller."""
    services = current_services()
    if services.verifier is None:
        raise InvalidTokenError("authentication is not configured on this server")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("missing bearer token")
    principal = services.verifier.verify(token.strip())
    if services.revocations.is_revoked(principal):
        raise InvalidTokenError("token revoked (signed out)")
    g.principal = principal
    logcontext.bind(principal=principal.sub)


def requires_scope(scope: str) -> Callable[[], None]:
    """A `before_request` hook: authenticate, then demand `scope` (admins pass too)."""

    def check() -> None:
        authenticate()
        principal = current_principal()
        if not (principal.has_scope(scope) or principal.is_admin):
            raise ForbiddenError(f"this needs the scope {scope}")

    return check


def current_principal() -> Principal:
    """The verified caller of this request."""
    return g.principal
