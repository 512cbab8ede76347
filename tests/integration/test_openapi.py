"""The OpenAPI document (generated from the schemas) and Swagger UI served offline."""

from __future__ import annotations

import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.integration

OPERATIONS = {
    ("/v1/events", "post"),
    ("/v1/events", "get"),
    ("/v1/events/batch", "post"),
    ("/v1/events/{event_id}", "get"),
    ("/v1/trades", "post"),
    ("/v1/trades", "get"),
    ("/v1/trades/{trade_id}", "get"),
    ("/v1/trades/{trade_id}", "patch"),
    ("/v1/trades/{trade_id}", "delete"),
    ("/v1/trades/{trade_id}/images", "post"),
    ("/v1/stats", "get"),
    ("/v1/imports", "post"),
    ("/v1/imports", "get"),
    ("/v1/imports/{import_id}", "get"),
    ("/v1/stats/rebuild", "post"),
    ("/v1/auth/signout", "post"),
}


def test_spec_is_valid_and_complete(anonymous_client):
    spec = anonymous_client.get("/v1/openapi.json").get_json()
    validate(spec)
    operations = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert operations >= OPERATIONS
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    for path, method in OPERATIONS:
        responses = spec["paths"][path][method]["responses"]
        assert "401" in responses, (path, method)
        problem = responses["401"]["content"]["application/problem+json"]
        assert problem["schema"]["$ref"].endswith("/Problem")


def test_yaml_matches_json(anonymous_client):
    as_yaml = yaml.safe_load(anonymous_client.get("/v1/openapi.yaml").get_data(as_text=True))
    assert as_yaml == anonymous_client.get("/v1/openapi.json").get_json()


def test_swagger_ui_and_its_assets_are_served_locally(anonymous_client):
    page = anonymous_client.get("/v1/docs").get_data(as_text=True)
    assert "/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "unpkg" not in page and "cdn" not in page.lower()
    script = anonymous_client.get("/v1/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.data) > 100_000


def test_yaml_keeps_the_conventional_order(anonymous_client):
    text = anonymous_client.get("/v1/openapi.yaml").get_data(as_text=True)
    assert text.startswith("openapi: ")
    assert list(yaml.safe_load(text))[:2] == ["openapi", "info"]
    assert "DESIGN" not in text  # users do not have our design document
