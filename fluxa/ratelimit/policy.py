"""`FLUXA_RATE_LIMITS`: which limits apply to whom.

Syntax: entries separated by `;`, each `SCOPE=LIMITS` or `SCOPE@PRINCIPAL=LIMITS`, where
LIMITS is one or more limits in the `limits` library's notation separated by `,`
(`100/second`, `2000 per minute`). A `SCOPE@PRINCIPAL` entry replaces the scope's limits
for that principal (a token's `sub`): that is how one client's limit is raised. A scope
without an entry is not limited; `off` as LIMITS turns a scope (or one principal's) off.

    events.write=100/second;events.read=20/second,600/minute;journal=10/second;
    events.write@ingest-client=1000/second
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from limits import RateLimitItem, parse_many

#: The scopes requests are counted in (each API area belongs to one).
SCOPES = ("events.write", "events.read", "journal")
_ENTRY = re.compile(r"^(?P<scope>[a-z.]+)(?:@(?P<principal>[^=\s]+))?=(?P<limits>.+)$")
OFF = "off"


@dataclass(frozen=True)
class RateLimitPolicy:
    """Limits per scope, and per principal where one was raised (or lowered)."""

    by_scope: Mapping[str, tuple[RateLimitItem, ...]] = field(default_factory=dict)
    by_principal: Mapping[tuple[str, str], tuple[RateLimitItem, ...]] = field(default_factory=dict)

    def limits_for(self, scope: str, principal: str) -> tuple[RateLimitItem, ...]:
        """What applies to `principal` in `scope` (empty: not limited)."""
        return self.by_principal.get((scope, principal), self.by_scope.get(scope, ()))


def parse_policy(text: str) -> RateLimitPolicy:
    """The policy `text` describes (module docstring); ValueError naming a bad entry."""
    by_scope: dict[str, tuple[RateLimitItem, ...]] = {}
    by_principal: dict[tuple[str, str], tuple[RateLimitItem, ...]] = {}
    for raw in filter(None, (part.strip() for part in text.split(";"))):
        match = _ENTRY.match(raw)
        if not match or match["scope"] not in SCOPES:
            raise ValueError(f"{raw!r}: expected SCOPE[@PRINCIPAL]=LIMITS, SCOPE one of {SCOPES}")
        limits = _limits(raw, match["limits"].strip())
        if match["principal"]:
            by_principal[(match["scope"], match["principal"])] = limits
        else:
            by_scope[match["scope"]] = limits
    return RateLimitPolicy(by_scope, by_principal)


def _limits(entry: str, text: str) -> tuple[RateLimitItem, ...]:
    if text == OFF:
        return ()
    try:
        return tuple(parse_many(text.replace(",", ";")))
    except ValueError as exc:
        raise ValueError(f"{entry!r}: {exc}") from None
