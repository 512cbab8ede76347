"""Commands fail in one line naming what is missing, never with a traceback."""

from __future__ import annotations

import boto3
import pytest
from click.testing import CliRunner

from cli.main import main
from cli.operations import alarm_table
from fluxa.ops.alarm_rules import Alarm

NO_AWS = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.mark.parametrize(
    "argv", [["dlq", "inspect", "--queue", "events"], ["dlq", "replay", "--queue", "stats"]]
)
def test_dlq_commands_without_credentials_fail_in_one_line(argv, monkeypatch):
    # boto3's default session caches the credentials an earlier test's client found.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    result = CliRunner(env=NO_AWS).invoke(main, argv)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: NoCredentialsError: Unable to locate credentials"
    ]


def test_a_missing_setting_is_named_in_one_line():
    result = CliRunner(env={"FLUXA_DATABASE_URL": None}).invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: missing setting: FLUXA_DATABASE_URL"


def test_the_alarm_table_keeps_its_columns_apart():
    rows = [
        Alarm("OK", "DatabaseLoad", "active=1 waiting=0 long_running=0",
              "active > 50 or waiting > 0 or running > 60s", "Look at pg_stat_activity"),
        Alarm("ALARM", "DLQDepth[Fluxa-DLQ]", "3", "> 0", "fluxa dlq inspect --queue events"),
    ]  # fmt: skip
    wide = alarm_table(rows, 200).splitlines()
    assert len(wide) == 3 and "60s  Look at pg_stat_activity" in wide[1]
    narrow = alarm_table(rows, 60).splitlines()
    assert "    Look at pg_stat_activity" in narrow and "60sLook" not in "".join(narrow)
