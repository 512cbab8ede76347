"""The `RateLimit` and `RateLimit-Policy` response fields (IETF httpapi draft, structured
fields): the quota that applies, what is left of it and when its window ends."""

from __future__ import annotations

import math

from limits import RateLimitItem


def policy_name(item: RateLimitItem) -> str:
    """A short name for a limit: `100-per-1-second`."""
    return f"{item.amount}-per-{item.multiples}-{item.GRANULARITY.name}"


def ratelimit_policy(item: RateLimitItem) -> str:
    """`RateLimit-Policy`: the quota `q` requests per window `w` seconds (per principal)."""
    return f'"{policy_name(item)}";q={item.amount};w={item.get_expiry()}'


def ratelimit(item: RateLimitItem, remaining: int, reset_seconds: float) -> str:
    """`RateLimit`: requests left `r`, and seconds until the window resets `t`."""
    return f'"{policy_name(item)}";r={max(0, remaining)};t={max(0, math.ceil(reset_seconds))}'
