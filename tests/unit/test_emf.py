"""EMF lines: valid by the specification's rules, on the API's real JSON log lines."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from config import load_settings
from config.logging import configure_logging
from fluxa.ops.emf import COUNT, MILLISECONDS, EmfMetrics, emf_fields
from tests.support.emf_spec import emf_problems

names = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)


@given(
    st.dictionaries(
        names, st.tuples(st.floats(0, 1e9), st.sampled_from([COUNT, MILLISECONDS])), min_size=1
    ),
    st.dictionaries(names.map(lambda n: "d" + n), names, max_size=3),
)
def test_every_document_follows_the_specification(metrics, dimensions):
    if set(metrics) & set(dimensions):
        return  # a member cannot be both
    sets = [[], list(dimensions)]
    document = json.loads(json.dumps(emf_fields("Fluxa/test", metrics, dimensions, sets)))
    assert emf_problems(document) == []


def test_the_checker_finds_what_cloudwatch_would_refuse():
    good = emf_fields("Fluxa", {"A": (1, COUNT)}, {"Service": "api"}, [["Service"]])
    assert emf_problems(good) == []
    not_a_number = emf_problems({**good, "A": "1"})
    assert not_a_number == ["metric A: its member must be a number or 1–100 numbers"]
    assert emf_problems({k: v for k, v in good.items() if k != "Service"}) == [
        "dimension 'Service' has no string member"
    ]
    assert emf_problems({"A": 1}) == ["no _aws object"]


#: Never connected to: /healthz touches neither.
UNUSED = {
    "FLUXA_DATABASE_URL": "postgresql://x@127.0.0.1:9/x",
    "FLUXA_BROKER_URL": "sqs://",
    "FLUXA_SQS_QUEUE_URL_PREFIX": "http://127.0.0.1:9/000000000000",
}


@pytest.fixture
def json_lines():
    """The process's JSON log lines, while the test runs (logging restored after)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", "api", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers[:], root.level = handlers, level


def test_the_api_puts_emf_on_its_log_lines_when_configured(json_lines):
    settings = load_settings(
        {**UNUSED, "FLUXA_METRICS_EMF": "true", "FLUXA_METRICS_NAMESPACE": "Fluxa/t"}
    )
    client = create_app(settings).test_client()
    assert client.get("/healthz").status_code == 200
    metrics = [line for line in json_lines() if line.get("message") == "metrics"]
    assert len(metrics) == 1 and emf_problems(metrics[0]) == []
    line = metrics[0]
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Fluxa/t"
    assert (line["Service"], line["ApiRequests"], line["Api5xx"]) == ("api", 1, 0)
    assert line["ApiLatency"] >= 0


def test_without_the_setting_no_metric_lines(json_lines):
    EmfMetrics("Fluxa", "api", enabled=False).put({"A": (1, COUNT)})
    create_app(load_settings(UNUSED)).test_client().get("/healthz")
    assert [line for line in json_lines() if line.get("message") == "metrics"] == []


def test_log_lines_survive_what_orjson_refuses(json_lines):
    logging.getLogger("fluxa.test").info("big", extra={"n": 2**70, "when": dt.datetime(2026, 1, 1)})
    (line,) = [line for line in json_lines() if line.get("message") == "big"]
    assert line["n"] == 2**70 and line["when"].startswith("2026-01-01")
