import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.delay import SQS_MAX_DELAY_SECONDS, delay_options
from fluxa.dlq.envelope import DeadLetterEnvelope, build_envelope, is_replayable
from fluxa.errors import (
    DBConnectionError,
    ErrorCode,
    HashMismatchError,
    SchemaValidationError,
    StorageUnavailableError,
    classify,
)
from workers.retry_policy import RetryPolicy

POLICY = RetryPolicy(max_retries=5, base_seconds=2, cap_seconds=60)


@given(st.integers(min_value=0, max_value=40), st.floats(min_value=0, max_value=1))
def test_countdown_is_bounded_and_never_zero(retries, draw):
    countdown = POLICY.countdown(retries, rng=lambda: draw)
    ceiling = min(60, 2 * 2**retries)
    assert ceiling / 2 <= countdown <= ceiling


def test_countdown_grows_exponentially():
    assert [POLICY.countdown(n, rng=lambda: 1.0) for n in range(6)] == [2, 4, 8, 16, 32, 60]


@given(st.floats(min_value=0.001, max_value=10_000))
def test_on_sqs_the_queue_holds_a_delayed_message_not_the_worker(seconds):
    options = delay_options("sqs://@127.0.0.1:5000", seconds)
    assert options["countdown"] == 0  # no ETA for the worker to keep unacknowledged
    delay = options["DelaySeconds"]
    assert isinstance(delay, int)  # SQS takes whole seconds, rounded up: never early
    assert min(seconds, SQS_MAX_DELAY_SECONDS) <= delay <= SQS_MAX_DELAY_SECONDS
    assert delay < seconds + 1


def test_other_brokers_keep_the_countdown_and_no_delay_means_none():
    assert delay_options("redis://127.0.0.1:6379/0", 1.5) == {"countdown": 1.5}
    assert delay_options("sqs://", None) == {"countdown": 0}
    assert delay_options("sqs://", 0) == {"countdown": 0}


def test_retries_are_bounded_and_only_for_transient_errors():
    assert POLICY.should_retry(retryable=True, retries_so_far=4)
    assert not POLICY.should_retry(retryable=True, retries_so_far=5)
    assert not POLICY.should_retry(retryable=False, retries_so_far=0)


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (HashMismatchError("x"), ErrorCode.HASH_MISMATCH, False),
        (SchemaValidationError("x"), ErrorCode.SCHEMA_VALIDATION, False),
        (DBConnectionError("x"), ErrorCode.DB_CONNECTION_ERROR, True),
        (StorageUnavailableError("x"), ErrorCode.STORAGE_UNAVAILABLE, True),
        (KeyError("x"), ErrorCode.UNHANDLED, True),
    ],
)
def test_classification(error, code, retryable):
    assert classify(error) == (code, retryable)


def test_envelope_fields_and_replayability():
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    first = now - dt.timedelta(seconds=30)
    envelope = build_envelope(
        error_code=ErrorCode.DB_CONNECTION_ERROR,
        error_message="x" * 5000,
        attempts=7,
        first_failed_at=first,
        now=now,
        correlation_id="c",
        source_queue="Fluxa-InputQueue",
    )
    assert envelope.retryable is True
    assert len(envelope.error_message) == 1000
    assert envelope.first_failed_at == first.isoformat()
    assert DeadLetterEnvelope.from_dict({**envelope.to_dict(), "future": 1}) == envelope


@pytest.mark.parametrize(
    ("code", "replayable"),
    [
        ("HashMismatch", False),
        ("SchemaValidation", False),
        ("DBConnectionError", True),
        ("StorageUnavailable", True),
        ("Unhandled", True),
        ("MaxReceiveExceeded", True),
    ],
)
def test_never_replay_poison(code, replayable):
    assert is_replayable(code) is replayable
