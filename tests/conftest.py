"""Shared test configuration: emulator credentials for every boto3 client in the run."""

from launcher.environment import use_emulator_credentials

use_emulator_credentials()


def pytest_addoption(parser):
    group = parser.getgroup("fluxa faults")
    group.addoption(
        "--soak-events",
        type=int,
        default=3000,
        help="events the fault suite's soak sends (default 3000; `make soak`: 50000)",
    )
    group.addoption("--soak-seed", type=int, default=20261123, help="seed of the soak's faults")
