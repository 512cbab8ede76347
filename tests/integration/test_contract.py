"""schemathesis against the live app's own OpenAPI document, positive and negative cases.

Checks every response: no 5xx, documented status codes and content types, response
bodies that match their schemas, negative data rejected, and auth not ignored.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from tests.integration.test_openapi import OPERATIONS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/v1/openapi.json", app)


@pytest.fixture(scope="session")
def contract_token(dev_issuer) -> str:
    return dev_issuer.mint(
        "schemathesis", scopes=(SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ), ttl_seconds=6 * 3600
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), sorted(OPERATIONS))
def test_operation_conforms_to_its_spec(api_schema, contract_token, path, method, mode):
    operation = api_schema[path][method.upper()]
    headers = {"Authorization": f"Bearer {contract_token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def conforms(case):
        case.call_and_validate(headers=headers)

    conforms()
