"""The environment of processes the launcher (and the tests and benchmarks that start the
same processes) run: the one place outside `config` that touches `os.environ`."""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The SQS/S3 emulator accepts any credentials; boto3 only needs some.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def child_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with `overrides`, for a child process."""
    return {**os.environ, **(overrides or {})}


def use_emulator_credentials() -> None:
    """Give boto3 in this process credentials for the emulator, unless it has some."""
    for name, value in EMULATOR_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def variable(name: str, default: str | None = None) -> str | None:
    """One variable of this process's environment (the tests' own knobs)."""
    return os.environ.get(name, default)
