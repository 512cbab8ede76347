"""The stats relay's per-user throttle, a pure function of the last claim."""

import datetime as dt

from fluxa.stats.relay import throttle_delay


def test_the_throttle_delays_only_what_follows_a_recent_claim():
    now = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
    assert throttle_delay(1.0, None, now) == 0.0
    assert throttle_delay(1.0, now - dt.timedelta(seconds=5), now) == 0.0
    assert throttle_delay(1.0, now - dt.timedelta(seconds=0.25), now) == 0.75
    assert throttle_delay(0.0, now, now) == 0.0
