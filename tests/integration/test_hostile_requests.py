"""Hostile requests (issue 13): each finding answered with a 4xx problem naming the field.

Every case here earned a 500 (or was wrongly accepted) before the limits and strict
fields of fluxa/validation; nothing a client sends may yield a 5xx or change anything.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from fluxa.trades.models import trades
from tests.support.builders import event_body
from tests.support.trades import trade_body

pytestmark = pytest.mark.integration


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    return response.get_json()


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def raw_post(client, path: str, text: str, **kwargs):
    return client.post(path, data=text, content_type="application/json", **kwargs)


@pytest.fixture
def user_client(app, auth):
    """A client of a fresh end user, and that user's id."""
    user = f"hostile-{uuid.uuid4().hex[:8]}"
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = auth(user)["Authorization"]
    return test_client, user


def trade_count(engine, user: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(trades).where(trades.c.user_id == user)
        return conn.execute(query).scalar_one()


# -- structure: depth, numbers, strings ------------------------------------------------


def test_body_nested_past_the_parsers_recursion_limit_is_400(client):
    text = '{"events":' + "[" * 5000 + "]" * 5000 + "}"
    problem = problem_of(raw_post(client, "/v1/events/batch", text), 400)
    assert "nested deeper than" in json.dumps(problem["errors"])


def test_payload_nested_a_few_hundred_levels_is_400_naming_payload(client):
    body = event_body(payload=nested(300))
    problem = problem_of(client.post("/v1/events", json=body), 400)
    assert any(field.startswith("payload") for field in problem["errors"]), problem


def test_payload_at_the_depth_limit_is_accepted_one_deeper_is_not(client):
    assert client.post("/v1/events", json=event_body(payload=nested(32))).status_code == 202
    problem = problem_of(client.post("/v1/events", json=event_body(payload=nested(33))), 400)
    assert "payload" in problem["errors"]


def test_integer_of_5000_digits_in_a_payload_is_400(client):
    text = json.dumps(event_body(payload={"n": 0})).replace('"n": 0', '"n": ' + "9" * 5000)
    problem = problem_of(raw_post(client, "/v1/events", text), 400)
    assert "digits" in json.dumps(problem)


def test_integer_of_101_digits_in_a_payload_is_400_naming_it(client):
    problem = problem_of(client.post("/v1/events", json=event_body(payload={"n": 10**100})), 400)
    assert "payload.n" in problem["errors"]


def test_lone_surrogate_in_a_payload_is_400(client):
    text = json.dumps(event_body(payload={"s": "x"})).replace('"x"', '"\\ud800"')
    problem = problem_of(raw_post(client, "/v1/events", text), 400)
    assert "payload.s" in problem["errors"]


# -- decimals and timestamps inside what PostgreSQL stores ----------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "1e999999"),
        ("entry_price", "1E+1000000000"),
        ("quantity", "1e-999999999"),
        ("quantity", "1_000"),
        ("quantity", "  5"),
        ("quantity", "５"),  # fullwidth digit
        ("quantity", "٣"),  # Arabic-Indic digit
        ("quantity", 1e300),
        ("entry_price", "1000000000000000000"),
        ("fees", "0.00000000001"),
        ("quantity", True),
    ],
)
def test_decimal_outside_the_documented_form_is_400_naming_it(user_client, engine, field, value):
    client, user = user_client
    problem = problem_of(client.post("/v1/trades", json=trade_body(**{field: value})), 400)
    assert field in problem["errors"], problem
    assert trade_count(engine, user) == 0


def test_quantity_that_rounds_to_zero_is_400_not_500(user_client):
    client, _ = user_client
    problem = problem_of(client.post("/v1/trades", json=trade_body(quantity=1e-300)), 400)
    assert "quantity" in problem["errors"]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "1969-12-31T23:59:59Z"]
)
def test_timestamp_outside_the_documented_range_is_400(user_client, client, moment):
    trader, _ = user_client
    problem = problem_of(trader.post("/v1/trades", json=trade_body(entered_at=moment)), 400)
    assert "entered_at" in problem["errors"]
    problem = problem_of(client.post("/v1/events", json=event_body(occurred_at=moment)), 400)
    assert "occurred_at" in problem["errors"]
    problem = problem_of(client.get("/v1/events", query_string={"since": moment}), 400)
    assert "since" in problem["errors"]


# -- text: NUL, surrogates, whole-string patterns -------------------------------------


def test_nul_in_a_query_parameter_is_400(user_client, client):
    trader, _ = user_client
    problem_of(client.get("/v1/events", query_string={"source": "a\x00b"}), 400)
    problem_of(client.get("/v1/events", query_string={"cursor": "a\x00b"}), 400)
    problem_of(trader.get("/v1/trades", query_string={"tag": "a\x00b"}), 400)


def test_nul_in_path_ids_is_404(user_client, client):
    trader, _ = user_client
    problem_of(client.get("/v1/events/a%00b"), 404)
    problem_of(trader.get("/v1/trades/a%00b"), 404)


def test_nul_or_surrogate_in_trade_notes_is_400(user_client, engine):
    client, user = user_client
    problem = problem_of(client.post("/v1/trades", json=trade_body(notes="a\x00b")), 400)
    assert "notes" in problem["errors"]
    text = json.dumps(trade_body(notes="x")).replace('"notes": "x"', '"notes": "\\udc00"')
    problem = problem_of(raw_post(client, "/v1/trades", text), 400)
    assert "notes" in problem["errors"]
    assert trade_count(engine, user) == 0


def test_symbol_with_a_trailing_newline_is_400(user_client, client, engine):
    trader, user = user_client
    problem = problem_of(trader.post("/v1/trades", json=trade_body(symbol="AAPL\n")), 400)
    assert "symbol" in problem["errors"]
    assert trade_count(engine, user) == 0
    problem = problem_of(client.post("/v1/events", json=event_body(source="src\n")), 400)
    assert "source" in problem["errors"]


def test_non_ascii_tag_is_400_as_the_documented_pattern_says(user_client):
    client, _ = user_client
    problem = problem_of(client.post("/v1/trades", json=trade_body(tags=["é"])), 400)
    assert "tags.0" in problem["errors"]


# -- smaller findings -------------------------------------------------------------------


def test_stats_refuses_unknown_query_parameters(user_client):
    client, _ = user_client
    problem = problem_of(client.get("/v1/stats", query_string={"bogus": "1"}), 400)
    assert "bogus" in problem["errors"]


def test_create_trade_honours_idempotency_key(user_client, engine):
    client, user = user_client
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = client.post("/v1/trades", json=trade_body(), headers=key)
    again = client.post("/v1/trades", json=trade_body(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == again.get_json()
    assert first.headers["Location"] == again.headers["Location"]
    assert trade_count(engine, user) == 1
    other = client.post("/v1/trades", json=trade_body(quantity="11"), headers=key)
    assert problem_of(other, 422)["code"] == "IdempotencyKeyMismatch"
    assert trade_count(engine, user) == 1


def test_problem_responses_are_documented_as_problem_json(client):
    spec = client.get("/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation.get("responses", {}).items():
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
                if status.startswith(("4", "5")) or status == "default":
                    types = set(response.get("content", {}))
                    assert types == {"application/problem+json"}, (path, method, status, types)


def test_a_query_parameter_given_twice_is_400(user_client):
    client, _ = user_client
    problem = problem_of(client.get("/v1/trades?limit=5&limit=abc"), 400)
    assert "limit" in problem["errors"]
