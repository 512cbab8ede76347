"""Signing keys by `kid` from a JWKS URL, cached; unknown kids refetch at most every 10 s."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError

from fluxa.errors import InvalidTokenError

MIN_REFETCH_SECONDS = 10.0


class JwksKeyResolver:
    """Resolves a token's `kid` to its public key (http(s):// or file:// JWKS)."""

    def __init__(self, url: str, *, timeout: float = 3.0, clock=time.monotonic) -> None:
        self._url = url
        self._timeout = timeout
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def _fetch(self) -> None:
        self.fetches += 1
        self._fetched_at = self._clock()
        with urllib.request.urlopen(self._url, timeout=self._timeout) as response:
            data: Any = json.load(response)
        try:
            keys = PyJWKSet.from_dict(data).keys
        except PyJWKSetError:
            keys = []
        self._keys = {key.key_id: key for key in keys if key.key_id}

    def key_for(self, kid: str) -> Any:
        """The key for `kid`; raises `InvalidTokenError` for a kid the JWKS does not have."""
        with self._lock:
            if kid not in self._keys:
                recently = (
                    self._fetched_at is not None
                    and self._clock() - self._fetched_at < MIN_REFETCH_SECONDS
                )
                if not recently:
                    try:
                        self._fetch()
                    except OSError as exc:
                        raise InvalidTokenError("signing keys unavailable") from exc
            key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError("unknown signing key (kid)")
        return key.key
