"""Bad input: a clear 4xx problem naming the field, nothing enqueued, never a 5xx."""

from __future__ import annotations

import pytest

from api.app import create_app
from fluxa.events.hashing import payload_sha256
from launcher.emulator import RequestRecording
from tests.support.builders import event_body, unique_source

pytestmark = pytest.mark.integration


def problem_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    return problem


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("type"), "type"),
        (lambda b: b.update(payload=[1, 2]), "payload"),
        (lambda b: b.update(payload="text"), "payload"),
        (lambda b: b.update(occurred_at="yesterday"), "occurred_at"),
        (lambda b: b.update(source=42), "source"),
        (lambda b: b.update(user_id="someone"), "user_id"),
        (lambda b: b.update(event_id="has spaces"), "event_id"),
        (lambda b: b.update(payload_sha256="nothex"), "payload_sha256"),
    ],
)
def test_invalid_event_is_400_naming_the_field(client, mutate, field):
    body = event_body()
    mutate(body)
    problem = problem_of(client.post("/v1/events", json=body), 400)
    assert problem["code"] == "SchemaValidation"
    assert field in problem["errors"]


def test_nan_payload_is_400(client):
    raw = '{"type":"t","source":"s","occurred_at":"2026-01-01T00:00:00Z","payload":{"x":NaN}}'
    problem = problem_of(client.post("/v1/events", data=raw, content_type="application/json"), 400)
    assert "payload" in problem["errors"]


def test_malformed_json_is_400(client):
    problem = problem_of(
        client.post("/v1/events", data="{not json", content_type="application/json"), 400
    )
    assert problem["code"] == "SchemaValidation"


def test_wrong_content_type_is_415(client):
    problem = problem_of(client.post("/v1/events", data="type=x", content_type="text/plain"), 415)
    assert problem["code"] == "UnsupportedMediaType"


def test_oversized_body_is_413(settings, machine_token):
    small = create_app(settings.__class__(**{**settings.__dict__, "max_body_bytes": 4096}))
    body = event_body(payload={"blob": "x" * 10_000})
    problem = problem_of(
        small.test_client().post(
            "/v1/events", json=body, headers={"Authorization": f"Bearer {machine_token}"}
        ),
        413,
    )
    assert problem["code"] == "PayloadTooLarge"


def test_declared_hash_mismatch_is_400_and_nothing_is_enqueued(client, emulator):
    source = unique_source()
    body = event_body(source=source)
    with RequestRecording(emulator) as recording:
        response = client.post("/v1/events", json=body, headers={"X-Payload-SHA256": "a" * 64})
    problem = problem_of(response, 400)
    assert problem["code"] == "HashMismatch"
    assert "payload_sha256" in problem["errors"]
    assert sends_mentioning(recording, source) == 0
    # The matching hash, upper-case, is accepted.
    good = client.post(
        "/v1/events",
        json=body,
        headers={"X-Payload-SHA256": payload_sha256(body["payload"]).upper()},
    )
    assert good.status_code == 202


def test_batch_over_the_limit_is_400_naming_events(client):
    problem = problem_of(
        client.post("/v1/events/batch", json={"events": [event_body()] * 501}), 400
    )
    assert "events" in problem["errors"]


def test_batch_rejects_bad_items_one_by_one(client):
    good = event_body(event_id="evt-dup-" + unique_source())
    bad = event_body(payload=None)
    bad["payload"] = 7
    tampered = event_body()
    tampered["payload_sha256"] = "b" * 64
    response = client.post("/v1/events/batch", json={"events": [good, bad, tampered, good]})
    assert response.status_code == 202
    result = response.get_json()
    assert (result["accepted"], result["rejected"]) == (1, 3)
    outcomes = [(r["index"], r["status"], r.get("code")) for r in result["results"]]
    assert outcomes == [
        (0, "accepted", None),
        (1, "rejected", "SchemaValidation"),
        (2, "rejected", "HashMismatch"),
        (3, "rejected", "SchemaValidation"),  # the same event_id twice in one batch
    ]
    assert "payload" in result["results"][1]["errors"]
    assert "event_id" in result["results"][3]["errors"]


def test_batch_with_no_valid_item_is_400_naming_each(client):
    problem = problem_of(client.post("/v1/events/batch", json={"events": [{"type": "t"}, 5]}), 400)
    assert "events.0.source" in problem["errors"]
    assert "events.1._schema" in problem["errors"]


def test_bad_idempotency_key_is_400(client):
    problem = problem_of(
        client.post("/v1/events", json=event_body(), headers={"Idempotency-Key": "x" * 300}), 400
    )
    assert "Idempotency-Key" in problem["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=100000", "limit"),
        ("limit=0", "limit"),
        ("cursor=@@@", "cursor"),
        ("since=not-a-date", "since"),
        ("bogus=1", "bogus"),
    ],
)
def test_bad_list_query_is_400_naming_the_parameter(client, query, field):
    problem = problem_of(client.get(f"/v1/events?{query}"), 400)
    assert field in problem["errors"]


def test_unknown_event_is_404_problem(client):
    problem_of(client.get("/v1/events/does-not-exist"), 404)


def sends_mentioning(recording: RequestRecording, marker: str) -> int:
    """SQS sends the emulator answered whose body carries `marker`."""
    return sum(
        1
        for r in recording.requests()
        if r.name in {"SQS SendMessage", "SQS SendMessageBatch"} and marker.encode() in r.body
    )


def test_rejected_requests_enqueue_nothing(client, emulator):
    """Counted where SQS sees it (the emulator's request log), with an accepted request
    as the control that the log sees sends at all."""
    rejected, control = unique_source(), unique_source()
    bad = event_body(source=rejected)
    bad["payload"] = []
    with RequestRecording(emulator) as recording:
        statuses = [
            client.post("/v1/events", json=bad).status_code,
            client.post(
                "/v1/events",
                json=event_body(source=rejected),
                headers={"X-Payload-SHA256": "c" * 64},
            ).status_code,
            client.post("/v1/events/batch", json={"events": [bad, bad]}).status_code,
        ]
        accepted = client.post("/v1/events", json=event_body(source=control)).status_code
    assert statuses == [400, 400, 400] and accepted == 202
    assert sends_mentioning(recording, control) == 1
    assert sends_mentioning(recording, rejected) == 0
