import logging

import pytest

from config import SettingsError, load_settings


def test_defaults_follow_the_runbooks():
    settings = load_settings({})
    assert settings.input_queue == "Fluxa-InputQueue"
    assert settings.dead_letter_queue == "Fluxa-DLQ"
    assert settings.stats_dead_letter_queue == "StatsDLQ"
    assert settings.payload_bucket == "fluxa-payloads"
    assert settings.aws_region == "us-east-1"


def test_every_bad_variable_is_named_at_once():
    with pytest.raises(SettingsError) as error:
        load_settings({"FLUXA_DATABASE_URL": "mysql://x", "FLUXA_TASK_TIME_LIMIT": "soon"})
    message = str(error.value)
    assert "FLUXA_DATABASE_URL" in message and "FLUXA_TASK_TIME_LIMIT" in message
    assert "\n" not in message


@pytest.mark.parametrize("size", ["1023", "1048577"])
def test_message_size_must_be_one_sqs_accepts(size):
    with pytest.raises(SettingsError, match="FLUXA_SQS_MAX_MESSAGE_BYTES"):
        load_settings({"FLUXA_SQS_MAX_MESSAGE_BYTES": size})


def test_visibility_timeout_must_cover_the_longest_hold():
    with pytest.raises(SettingsError, match="FLUXA_SQS_VISIBILITY_TIMEOUT"):
        load_settings(
            {
                "FLUXA_SQS_VISIBILITY_TIMEOUT": "60",
                "FLUXA_TASK_TIME_LIMIT": "50",
                "FLUXA_RETRY_BACKOFF_MAX": "20",
            }
        )


def test_prefetched_messages_count_against_the_visibility_timeout():
    # 2 × 200 s (one waits while the other runs) + 120 s of backoff > 400 s of visibility
    environ = {"FLUXA_SQS_VISIBILITY_TIMEOUT": "400", "FLUXA_TASK_TIME_LIMIT": "200"}
    assert load_settings(environ | {"FLUXA_WORKER_PREFETCH_MULTIPLIER": "1"})
    with pytest.raises(SettingsError, match="FLUXA_WORKER_PREFETCH_MULTIPLIER"):
        load_settings(environ | {"FLUXA_WORKER_PREFETCH_MULTIPLIER": "2"})


def test_require_names_the_missing_variables():
    with pytest.raises(SettingsError, match="FLUXA_DATABASE_URL, FLUXA_BROKER_URL"):
        load_settings({}).require("database_url", "broker_url")


def test_plain_postgresql_urls_use_psycopg():
    url = load_settings({"FLUXA_DATABASE_URL": "postgresql://u@h/db"}).database_url
    assert url == "postgresql+psycopg://u@h/db"


def test_region_falls_back_to_aws_default_region():
    assert load_settings({"AWS_DEFAULT_REGION": "eu-west-1"}).aws_region == "eu-west-1"


def test_as_environ_round_trips():
    settings = load_settings({"FLUXA_BROKER_URL": "sqs://", "FLUXA_LOG_LEVEL": "debug"})
    assert load_settings(settings.as_environ()) == settings


def test_a_renamed_setting_is_still_read_under_its_former_name_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="fluxa.config"):
        settings = load_settings({"FLUXA_STATS_DEBOUNCE_SECONDS": "2.5"})
    assert settings.stats_throttle_seconds == 2.5
    (line,) = [r for r in caplog.records if r.name == "fluxa.config"]
    assert "FLUXA_STATS_DEBOUNCE_SECONDS is deprecated" in line.getMessage()
    assert "FLUXA_STATS_THROTTLE_SECONDS" in line.getMessage()
    caplog.clear()
    both = {"FLUXA_STATS_THROTTLE_SECONDS": "3", "FLUXA_STATS_DEBOUNCE_SECONDS": "2.5"}
    assert load_settings(both).stats_throttle_seconds == 3  # the new name wins, silently
    assert not caplog.records
