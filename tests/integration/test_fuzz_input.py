"""Whatever a client sends, the API answers below 500 (hypothesis over bodies and queries)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fuzz import event_like, json_values, printable

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=event_like | json_values)
def test_single_event_never_5xx(client, body):
    response = client.post("/v1/events", json=body)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.content_type == "application/problem+json"


@FUZZ
@given(items=st.lists(event_like | json_values, max_size=5))
def test_batch_never_5xx(client, items):
    assert client.post("/v1/events/batch", json={"events": items}).status_code < 500


@FUZZ
@given(
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
    ),
)
def test_raw_bytes_never_5xx(client, raw, content_type):
    response = client.post("/v1/events", data=raw, content_type=content_type or None)
    assert response.status_code < 500


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["type", "source", "since", "until", "limit", "cursor", "x"]),
        st.text(max_size=30),
        max_size=4,
    )
)
def test_list_query_never_5xx(client, params):
    assert client.get("/v1/events", query_string=params).status_code < 500


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(["Idempotency-Key", "X-Payload-SHA256", "X-Correlation-ID"]),
        printable,
    )
)
def test_headers_never_5xx(client, headers):
    body = {"type": "t", "source": "fuzz", "occurred_at": "2026-01-01T00:00:00Z", "payload": {}}
    response = client.post(
        "/v1/events", data=json.dumps(body), headers=headers, content_type="application/json"
    )
    assert response.status_code < 500
