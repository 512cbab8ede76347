"""FLUXA_RATE_LIMITS parsed (fluxa/ratelimit/policy.py), decisions in memory, and the
RateLimit fields (fluxa/ratelimit/headers.py)."""

from __future__ import annotations

import pytest
from limits import parse

from config.settings import DEFAULT_RATE_LIMITS
from fluxa.ratelimit import RateLimiter, parse_policy
from fluxa.ratelimit.headers import ratelimit, ratelimit_policy


def test_scopes_principals_and_several_limits():
    policy = parse_policy(
        " events.write=100/second ; events.read=20/second,600/minute;"
        "events.write@ingest-client=1000/second;journal@quiet=off"
    )
    assert policy.limits_for("events.write", "anyone") == (parse("100/second"),)
    assert policy.limits_for("events.write", "ingest-client") == (parse("1000/second"),)
    assert policy.limits_for("events.read", "x") == (parse("20/second"), parse("600/minute"))
    assert policy.limits_for("journal", "anyone") == ()  # no entry: not limited
    assert policy.limits_for("journal", "quiet") == ()


def test_the_defaults_parse_and_limit_every_scope():
    policy = parse_policy(DEFAULT_RATE_LIMITS)
    assert all(
        policy.limits_for(scope, "x") for scope in ("events.write", "events.read", "journal")
    )


@pytest.mark.parametrize(
    "text", ["events.write", "ingest=5/second", "events.write=lots", "events.write@=5/second"]
)
def test_a_bad_entry_is_named(text):
    with pytest.raises(ValueError, match=r"events\.write|ingest"):
        parse_policy(text)


def test_the_tightest_limit_is_reported_and_the_breached_one_refuses():
    limiter = RateLimiter(parse_policy("journal=3/second,100/minute"))
    decisions = [limiter.check("journal", "u") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[0].limit == parse("3/second") and decisions[0].remaining == 2
    assert decisions[3].limit == parse("3/second") and decisions[3].reset_seconds <= 1


def test_a_failing_store_lets_the_request_through_and_says_so():
    failures: list[int] = []
    limiter = RateLimiter(
        parse_policy("journal=1/second"), on_store_failure=lambda: failures.append(1)
    )
    limiter._strategy.hit = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down"))
    assert all(limiter.check("journal", "u").allowed for _ in range(3)) and len(failures) == 3


def test_the_fields_follow_the_draft_syntax():
    item = parse("100/minute")
    assert ratelimit_policy(item) == '"100-per-1-minute";q=100;w=60'
    assert ratelimit(item, 42, 17.2) == '"100-per-1-minute";r=42;t=18'
    assert ratelimit(item, -1, -3) == '"100-per-1-minute";r=0;t=0'
