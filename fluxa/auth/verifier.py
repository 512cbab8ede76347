"""Verifying Cognito-style tokens with PyJWT: RS256 only, issuer, times, token_use, and
one of the configured app clients (people sign in through one, machines through another)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import jwt

from fluxa.auth.principal import Principal
from fluxa.auth.token_cache import VerifiedTokens
from fluxa.errors import InvalidTokenError

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30
#: The longest life (exp − iat) a token may claim: Cognito's maximum for access and ID
#: tokens is 24 hours. The revocation set keeps a sign-out exactly this long
#: (`fluxa.auth.revocation`), so a token claiming more is refused.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
MAX_SUB_LENGTH = 256


class TokenVerifier:
    """Checks a bearer token and returns its `Principal`, or raises `InvalidTokenError`."""

    def __init__(
        self,
        *,
        issuer: str,
        client_ids: Collection[str],
        key_for: Callable[[str], Any],
        verified: VerifiedTokens | None = None,
    ) -> None:
        self._issuer = issuer
        self._client_ids = frozenset(client_ids)
        self._key_for = key_for
        self._verified = verified or VerifiedTokens()

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError(f"algorithm must be {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("token has no key id (kid)")
        claims = self._decode(token, self._key_for(kid))
        _check_lifetime(claims)
        principal = self._principal(claims)
        self._verified.put(token, principal, valid_until=claims["exp"] + LEEWAY_SECONDS)
        return principal

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "iat", "iss", "sub", "token_use"],
                    "verify_aud": False,  # access tokens carry client_id instead; checked below
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidTokenError("token not yet valid") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidTokenError("wrong issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError(f"missing claim {exc.claim}") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("invalid signature or claims") from exc

    def _principal(self, claims: dict[str, Any]) -> Principal:
        token_use = claims["token_use"]
        if token_use == "access":
            client = claims.get("client_id")
        elif token_use == "id":
            client = claims.get("aud")
        else:
            raise InvalidTokenError("token_use must be access or id")
        if client not in self._client_ids:
            raise InvalidTokenError("token is for another client")
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB_LENGTH:
            raise InvalidTokenError("token has no usable subject (sub)")
        scopes = claims.get("scope", "")
        groups = claims.get("cognito:groups", [])
        return Principal(
            sub=sub,
            token_use=token_use,
            issued_at=int(claims["iat"]),
            scopes=frozenset(scopes.split()) if isinstance(scopes, str) else frozenset(),
            groups=frozenset(g for g in groups if isinstance(g, str))
            if isinstance(groups, list)
            else frozenset(),
        )


def _check_lifetime(claims: dict[str, Any]) -> None:
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidTokenError("exp and iat must be numbers")
    if exp - iat > MAX_TOKEN_LIFETIME_SECONDS:
        raise InvalidTokenError(
            f"token lives longer than {MAX_TOKEN_LIFETIME_SECONDS} s (exp − iat)"
        )
