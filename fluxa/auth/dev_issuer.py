"""A local development issuer: a generated RSA key, its JWKS file, and minted tokens.

Used by `fluxa standalone`, `fluxa token` and the tests; never by production, whose
tokens come from Cognito.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEV_ISSUER = "https://fluxa.local/dev-issuer"
DEV_CLIENT_ID = "fluxa-dev-client"


class DevIssuer:
    """Signs tokens with a private key kept in `key_dir` (created on first use)."""

    def __init__(self, key_dir: Path, *, issuer: str = DEV_ISSUER, client_id: str = DEV_CLIENT_ID):
        key_dir.mkdir(parents=True, exist_ok=True)
        self.issuer = issuer
        self.client_id = client_id
        self.private_key_path = key_dir / "dev-issuer-key.pem"
        self.jwks_path = key_dir / "dev-issuer-jwks.json"
        if not self.private_key_path.exists():
            self._generate()
        self._private_key = serialization.load_pem_private_key(
            self.private_key_path.read_bytes(), password=None
        )
        self.kid = json.loads(self.jwks_path.read_text())["keys"][0]["kid"]

    @classmethod
    def from_key_file(cls, path: Path, **kwargs: str) -> DevIssuer:
        return cls(path.parent, **kwargs)

    def _generate(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.private_key_path.chmod(0o600)
        public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        public.update(kid=uuid.uuid4().hex, use="sig", alg="RS256")
        self.jwks_path.write_text(json.dumps({"keys": [public]}))

    @property
    def jwks_url(self) -> str:
        return self.jwks_path.resolve().as_uri()

    def mint(
        self,
        sub: str,
        *,
        scopes: tuple[str, ...] = (),
        groups: tuple[str, ...] = (),
        token_use: str = "access",
        ttl_seconds: int = 3600,
        **extra: object,
    ) -> str:
        """A signed token for `sub`, shaped like a Cognito access (or id) token."""
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": sub,
            "iat": now,
            "exp": now + ttl_seconds,
            "token_use": token_use,
            "jti": uuid.uuid4().hex,
        }
        if token_use == "access":
            claims["client_id"] = self.client_id
            claims["scope"] = " ".join(scopes)
        else:
            claims["aud"] = self.client_id
        if groups:
            claims["cognito:groups"] = list(groups)
        claims.update(extra)
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})
