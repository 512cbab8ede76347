"""Commands fail in one line naming what is missing, never with a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli.main import main

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
def test_dlq_commands_without_credentials_fail_in_one_line(argv):
    result = CliRunner(env=NO_AWS).invoke(main, argv)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: NoCredentialsError: Unable to locate credentials"
    ]


def test_a_missing_setting_is_named_in_one_line():
    result = CliRunner(env={"FLUXA_DATABASE_URL": None}).invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: missing setting: FLUXA_DATABASE_URL"
