"""The fault suite runs on the same real parts as the integration tests."""

from tests.integration.conftest import *  # noqa: F403 - the shared real-part fixtures
