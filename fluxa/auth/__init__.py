"""Bearer-token authentication: Cognito-compatible RS256 JWTs verified against a JWKS."""

from fluxa.auth.jwks import JwksKeyResolver
from fluxa.auth.principal import Principal
from fluxa.auth.verifier import TokenVerifier

__all__ = ["JwksKeyResolver", "Principal", "TokenVerifier"]
