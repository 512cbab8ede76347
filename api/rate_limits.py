"""Per-client rate limits on the API (architecture §8; the counting: `fluxa.ratelimit`).

Each protected blueprint names its scope; once the caller is authenticated, its request
is counted against that scope's limits for its principal (the token's `sub`). Over the
limit: `429` problem+json with `Retry-After`. Every counted answer, refused or not,
carries `RateLimit-Policy` and `RateLimit` (the IETF httpapi draft's fields), so that a
client can pace itself before it is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flask import Response, g

from api.auth import current_principal
from api.metrics import count_rate_limited
from api.services import current_services
from fluxa.errors import RateLimitedError
from fluxa.ratelimit import Decision
from fluxa.ratelimit.headers import ratelimit, ratelimit_policy

#: Each API area's scope (fluxa.ratelimit.policy.SCOPES).
INGEST, QUERIES, JOURNAL = "events.write", "events.read", "journal"


def limited_to(scope: str) -> Callable[[], None]:
    """A `before_request` hook, after authentication: count the request in `scope`."""

    def check() -> None:
        decision = current_services().rate_limiter.check(scope, current_principal().sub)
        g.rate_limit = decision
        if not decision.allowed:
            count_rate_limited(scope)
            raise RateLimitedError(
                f"more than {decision.limit} in {scope} for this client; "
                f"retry in {retry_after(decision)} s"
            )

    return check


def retry_after(decision: Decision) -> int:
    """Whole seconds until the breached window lets a request through (at least 1)."""
    return max(1, math.ceil(decision.reset_seconds))


def add_rate_limit_headers(response: Response) -> Response:
    """`after_request` of the app: the quota fields of a counted request."""
    decision: Decision | None = g.get("rate_limit")
    if decision is None or decision.limit is None:
        return response
    response.headers["RateLimit-Policy"] = ratelimit_policy(decision.limit)
    response.headers["RateLimit"] = ratelimit(
        decision.limit, decision.remaining, decision.reset_seconds
    )
    if not decision.allowed:
        response.headers["Retry-After"] = str(retry_after(decision))
    return response
