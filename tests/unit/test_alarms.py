import pytest

from fluxa.ops.alarm_rules import (
    ALARM,
    OK,
    api_5xx_rate,
    api_throttling,
    database_load,
    dlq_depth,
    processor_error_rate,
)


@pytest.mark.parametrize(
    ("persisted", "dead", "state"),
    [(0, 0, OK), (100, 1, OK), (99, 1, OK), (98, 2, ALARM), (0, 1, ALARM)],
)
def test_processor_error_rate_fires_above_one_percent(persisted, dead, state):
    assert processor_error_rate(persisted, dead).state == state


def test_api_5xx_rate_and_dlq_depth_and_database_load():
    assert api_5xx_rate(2, 100).state == ALARM and api_5xx_rate(1, 100).state == OK
    assert dlq_depth("Fluxa-DLQ", 1).state == ALARM and dlq_depth("StatsDLQ", 0).state == OK
    assert "stats" in dlq_depth("StatsDLQ", 3).action
    assert database_load(3, 0, 0).state == OK
    assert database_load(3, 1, 0).state == ALARM and database_load(3, 0, 2).state == ALARM


def test_api_throttling_fires_above_five_percent_of_answers():
    assert api_throttling(6, 100).state == ALARM and api_throttling(5, 100).state == OK
    assert api_throttling(0, 0).state == OK and "FLUXA_RATE_LIMITS" in api_throttling(9, 10).action
