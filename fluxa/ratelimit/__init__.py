"""Per-client rate limits (architecture §8): a policy read from settings, counted per principal and
scope in a shared store (or this process's memory), failing open when the store is down."""

from fluxa.ratelimit.limiter import Decision, RateLimiter
from fluxa.ratelimit.policy import RateLimitPolicy, parse_policy

__all__ = ["Decision", "RateLimitPolicy", "RateLimiter", "parse_policy"]
