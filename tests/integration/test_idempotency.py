"""Idempotency-Key on the ingest endpoints, against the real `idempotency_keys` table."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from fluxa.idempotency import (
    IdempotencyConfig,
    PostgresIdempotencyStore,
    StoredResponse,
    fingerprint,
)
from fluxa.idempotency.models import idempotency_keys
from launcher.waiting import wait_until
from tests.integration.helpers import rows_for, wait_for_rows
from tests.support.builders import event_body, unique_source
from tests.support.sqs import queue_depth

pytestmark = pytest.mark.integration


def drained(sqs, queue_url, settings) -> None:
    wait_until(
        lambda: queue_depth(sqs, queue_url(settings.input_queue)) == 0,
        what="the input queue to drain",
    )


def test_same_key_and_body_replays_the_first_response_and_enqueues_once(
    client, worker, engine, sqs, queue_url, settings
):
    source = unique_source()
    body = event_body(source=source)
    key = f"key-{uuid.uuid4()}"
    first = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})
    second = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == second.status_code == 202
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    wait_for_rows(engine, [first.get_json()["event_id"]])
    drained(sqs, queue_url, settings)
    assert len(rows_for(engine, source=source)) == 1


def test_same_key_with_another_body_is_422_and_enqueues_nothing(client, worker, engine):
    key = f"key-{uuid.uuid4()}"
    source = unique_source()
    first = client.post(
        "/v1/events", json=event_body(source=source), headers={"Idempotency-Key": key}
    )
    other = client.post(
        "/v1/events", json=event_body(source=source), headers={"Idempotency-Key": key}
    )

    assert first.status_code == 202
    assert other.status_code == 422
    problem = other.get_json()
    assert other.content_type == "application/problem+json"
    assert problem["code"] == "IdempotencyKeyMismatch"
    assert "Idempotency-Key" in problem["errors"]
    wait_for_rows(engine, [first.get_json()["event_id"]])
    assert len(rows_for(engine, source=source)) == 1


def test_key_in_flight_is_409(client, engine):
    key = f"key-{uuid.uuid4()}"
    body = event_body()
    store = PostgresIdempotencyStore(engine, IdempotencyConfig(lock_seconds=60))
    same_request = fingerprint("POST", "/v1/events", body, extra={"payload_sha256": None})
    seen = {}
    first_response = {
        "event_id": "evt-first",
        "correlation_id": "c-1",
        "payload_sha256": "0" * 64,
        "status": "accepted",
    }

    def first_request_still_working() -> StoredResponse:
        # Another API instance holds the key while this request arrives.
        response = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})
        seen.update(status=response.status_code, problem=response.get_json())
        return StoredResponse(202, first_response)

    store.execute("events:ingest-client", key, same_request, first_request_still_working)
    assert seen["status"] == 409
    assert seen["problem"]["code"] == "IdempotencyKeyInFlight"
    replay = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})
    assert (replay.status_code, replay.get_json()) == (202, first_response)


def test_concurrent_requests_with_one_key_enqueue_once(
    app, worker, engine, sqs, queue_url, settings, machine_token
):
    source = unique_source()
    body = event_body(source=source)
    key = f"key-{uuid.uuid4()}"

    def post(_: int):
        headers = {"Idempotency-Key": key, "Authorization": f"Bearer {machine_token}"}
        response = app.test_client().post("/v1/events", json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(post, range(20)))

    statuses = [status for status, _ in results]
    assert set(statuses) <= {202, 409}
    accepted_ids = {body["event_id"] for status, body in results if status == 202}
    assert len(accepted_ids) == 1  # every 202 is the first response, replayed
    wait_for_rows(engine, list(accepted_ids))
    drained(sqs, queue_url, settings)
    assert len(rows_for(engine, source=source)) == 1


def test_expired_keys_are_new_requests_and_are_purged(client, worker, engine):
    key = f"key-{uuid.uuid4()}"
    body = event_body()
    first = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})
    store = PostgresIdempotencyStore(engine, IdempotencyConfig())

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert store.purge_expired(now=later) >= 1
    with engine.connect() as conn:
        left = conn.execute(
            select(func.count()).select_from(idempotency_keys).where(idempotency_keys.c.key == key)
        ).scalar_one()
    assert left == 0
    again = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 202
    assert again.get_json()["event_id"] != first.get_json()["event_id"]


def test_failed_enqueue_releases_the_key(engine):
    store = PostgresIdempotencyStore(engine, IdempotencyConfig())
    key = f"key-{uuid.uuid4()}"

    def failing() -> StoredResponse:
        raise RuntimeError("broker down")

    with pytest.raises(RuntimeError):
        store.execute("events", key, "fp", failing)
    response, replayed = store.execute("events", key, "fp", lambda: StoredResponse(202, {"n": 1}))
    assert (response.body, replayed) == ({"n": 1}, False)
