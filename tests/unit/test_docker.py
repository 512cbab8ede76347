"""docker/ describes the same system as the code (no engine runs here, so check by reading)."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from config import Settings, load_settings
from fluxa.infra.queues import source_queues

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
ENTRYPOINT = (ROOT / "docker/entrypoint.sh").read_text()
DOCKERFILE = (ROOT / "docker/Dockerfile").read_text()
FLUXA_SERVICES = {"setup", "api", "worker", "beat"}
AWS_SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}


def test_compose_has_the_designed_services():
    assert set(COMPOSE["services"]) == FLUXA_SERVICES | {"postgres", "sqs", "s3"}


def test_every_variable_is_one_the_code_reads_and_they_load():
    known = {f.metadata["env"] for f in fields(Settings)} | AWS_SDK_VARIABLES
    for name in FLUXA_SERVICES:
        env = COMPOSE["services"][name]["environment"]
        assert set(env) <= known, set(env) - known
        settings = load_settings({k: str(v) for k, v in env.items()})
        settings.require("database_url", "broker_url")


def test_commands_are_entrypoint_branches():
    branches = set(re.findall(r"^  (\w+)\)$", ENTRYPOINT, flags=re.MULTILINE))
    for name in FLUXA_SERVICES:
        assert COMPOSE["services"][name]["command"][0] in branches


def test_worker_queues_default_to_the_settings_queues():
    line = next(line for line in ENTRYPOINT.splitlines() if line.startswith("queues="))
    defaults = re.findall(r":-([\w-]+)\}", line)
    assert defaults == source_queues(Settings())


ALL_QUEUES = "Fluxa-InputQueue,Fluxa-StatsQueue,Fluxa-MaintenanceQueue"


@pytest.mark.parametrize(
    ("arguments", "queues", "passed_on"),
    [
        (["worker"], ALL_QUEUES, []),
        (["worker", "A,B", "--autoscale", "4,1"], "A,B", ["--autoscale", "4,1"]),
        (["worker", "--autoscale", "4,1"], ALL_QUEUES, ["--autoscale", "4,1"]),
    ],
)
def test_a_worker_takes_the_queues_its_command_names(tmp_path, arguments, queues, passed_on):
    """The entrypoint run for real, with a `celery` that prints what it was given."""
    (tmp_path / "celery").write_text('#!/bin/sh\necho "$@"\n')
    (tmp_path / "celery").chmod(0o755)
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}", "FLUXA_LOG_LEVEL": "INFO"}
    ran = subprocess.run(["sh", ROOT / "docker/entrypoint.sh", *arguments], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    given = ran.stdout.split()
    assert given[given.index("--queues") + 1] == queues
    assert given[len(given) - len(passed_on) :] == passed_on


def test_image_copies_every_package():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for package in (p.rstrip("*") for p in packages):
        assert f"COPY {package} ./{package}" in DOCKERFILE


def test_exactly_one_beat():
    assert COMPOSE["services"]["beat"]["deploy"]["replicas"] == 1
