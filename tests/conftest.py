"""Shared test configuration: emulator credentials for every boto3 client in the run."""

import os

# The SQS/S3 emulator accepts any credentials; boto3 only needs some.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def pytest_addoption(parser):
    group = parser.getgroup("fluxa faults")
    group.addoption(
        "--soak-events",
        type=int,
        default=3000,
        help="events the fault suite's soak sends (default 3000; `make soak`: 50000)",
    )
    group.addoption("--soak-seed", type=int, default=20261123, help="seed of the soak's faults")
