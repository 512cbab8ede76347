"""Coalesced single events on real parts: the API server (threads, as deployed), the emulator's
SQS (its own request log counts the sends), a real worker and PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from launcher.emulator import RequestRecording
from tests.integration.helpers import rows_for, wait_for_rows
from tests.support.builders import event_body
from tests.support.live_api import api_server

pytestmark = pytest.mark.integration

EVENTS = 200
LINGER = "0.02"


@pytest.fixture(scope="module")
def headers(dev_issuer):
    token = dev_issuer.mint("coalesce", scopes=(SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api(environ, settings, tmp_path_factory):
    """One API process (all requests can share messages), threaded as deployed."""
    env = {**environ, "FLUXA_INGEST_LINGER_SECONDS": LINGER}
    with api_server(env, tmp_path_factory.mktemp("coalesce") / "api.log", workers=1) as url:
        yield url


def post_all(url, bodies, headers, extra_headers=None, path="/v1/events"):
    def post(i):
        return requests.post(
            f"{url}{path}", json=bodies[i], timeout=30,
            headers={**headers, **(extra_headers(i) if extra_headers else {})},
        )  # fmt: skip

    with ThreadPoolExecutor(32) as pool:
        return list(pool.map(post, range(len(bodies))))


def test_concurrent_single_events_share_few_sends_and_each_is_persisted_once(
    api, headers, emulator, engine, worker
):
    source = f"coalesce-{uuid.uuid4().hex[:6]}"
    bodies = [event_body(source=source) for _ in range(EVENTS)]
    with RequestRecording(emulator) as recording:
        responses = post_all(api, bodies, headers)
        sends = recording.counts()["SQS SendMessage"]
    assert [r.status_code for r in responses] == [202] * EVENTS
    assert sends <= EVENTS / 4, f"{sends} sends for {EVENTS} events"
    accepted = {r.json()["event_id"]: r.json()["correlation_id"] for r in responses}
    assert len(set(accepted.values())) == EVENTS  # one correlation id per request
    rows = wait_for_rows(engine, list(accepted), timeout=60)
    assert len(rows) == EVENTS and len(rows_for(engine, source=source)) == EVENTS
    assert {row.event_id: row.correlation_id for row in rows} == accepted
    print(f"\n{EVENTS} concurrent single events: {sends} SQS sends")


def test_concurrent_batches_share_sends_and_each_batch_travels_whole(
    api, headers, emulator, engine, worker
):
    source = f"coalesce-batch-{uuid.uuid4().hex[:6]}"
    batches = [{"events": [event_body(source=source) for _ in range(20)]} for _ in range(32)]
    with RequestRecording(emulator) as recording:
        responses = post_all(api, batches, headers, path="/v1/events/batch")
        sends = recording.counts()["SQS SendMessage"]
    assert [r.status_code for r in responses] == [202] * 32
    assert sends < 32, f"{sends} sends for 32 batches"
    ids = [[item["event_id"] for item in r.json()["results"]] for r in responses]
    every_id = [event_id for batch in ids for event_id in batch]
    rows = {row.event_id: row for row in wait_for_rows(engine, every_id, timeout=60)}
    assert len(rows_for(engine, source=source)) == 32 * 20
    for batch, response in zip(ids, responses, strict=True):
        # One message, so one archive object; each event keeps its request's correlation id.
        assert len({rows[event_id].archive_key for event_id in batch}) == 1
        assert {rows[event_id].correlation_id for event_id in batch} == {
            response.json()["correlation_id"]
        }
    print(f"\n32 concurrent batches of 20: {sends} SQS sends")


def test_a_broker_failure_answers_503_to_every_request_of_the_send(
    api, environ, settings, headers, engine, worker, tmp_path
):
    broken = {
        **environ,
        "FLUXA_INGEST_LINGER_SECONDS": LINGER,
        "FLUXA_SQS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: every send fails
        "FLUXA_ENQUEUE_TIMEOUT_SECONDS": "2",
    }
    source = f"coalesce-down-{uuid.uuid4().hex[:6]}"
    bodies = [event_body(source=source) for _ in range(40)]
    batches = [{"events": [event_body(source=source) for _ in range(5)]} for _ in range(8)]
    with api_server(broken, tmp_path / "api.log", workers=1) as url:
        responses = post_all(url, bodies, headers)
        responses += post_all(url, batches, headers, path="/v1/events/batch")
    assert {r.status_code for r in responses} == {503}
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in responses)
    # A sentinel of the same source through the working API, sent after them all: once it
    # is persisted, an event of theirs that had been sent would have had its chance too.
    sentinel = requests.post(
        f"{api}/v1/events", json=event_body(source=source), headers=headers, timeout=30
    ).json()["event_id"]
    wait_for_rows(engine, [sentinel])
    assert [row.event_id for row in rows_for(engine, source=source)] == [sentinel]


def test_a_batch_whose_second_message_fails_is_answered_event_by_event(
    api, headers, engine, worker, strict_sqs
):
    """The batch needs two messages; SQS takes the first and refuses the second. The
    client learns which events were queued and which to send again; resent, every event
    is stored once (a 503 for all would have stored the first message's twice)."""
    source = f"partly-{uuid.uuid4().hex[:6]}"
    batch = [event_body(source=source, payload={"pad": "x" * 4000, "n": n}) for n in range(100)]
    with strict_sqs.failing("SendMessage", after=1):
        response = requests.post(
            f"{api}/v1/events/batch", json={"events": batch}, headers=headers, timeout=60
        )
    assert response.status_code == 202
    results = response.json()["results"]
    queued = [r["event_id"] for r in results if r["status"] == "accepted"]
    refused = [r["index"] for r in results if r["status"] == "rejected"]
    assert queued and refused and len(queued) + len(refused) == len(batch)
    assert {r["code"] for r in results if r["status"] == "rejected"} == {"BrokerUnavailable"}
    assert response.json()["accepted"] == len(queued)

    resend = requests.post(
        f"{api}/v1/events/batch", json={"events": [batch[i] for i in refused]},
        headers=headers, timeout=60,
    )  # fmt: skip
    assert resend.status_code == 202 and resend.json()["accepted"] == len(refused)
    queued += [r["event_id"] for r in resend.json()["results"]]
    wait_for_rows(engine, queued, timeout=60)
    stored = rows_for(engine, source=source)
    assert len(stored) == len(batch) == len({row.event_id for row in stored})


def test_idempotency_keys_inside_coalesced_sends_behave_as_before(api, headers, engine, worker):
    source = f"coalesce-keys-{uuid.uuid4().hex[:6]}"
    bodies = [event_body(source=source) for _ in range(30)]
    keys = [f"key-{uuid.uuid4().hex}" for _ in bodies]
    first = post_all(api, bodies, headers, lambda i: {"Idempotency-Key": keys[i]})
    again = post_all(api, bodies, headers, lambda i: {"Idempotency-Key": keys[i]})
    assert [r.status_code for r in first] == [r.status_code for r in again] == [202] * 30
    assert [r.json()["event_id"] for r in again] == [r.json()["event_id"] for r in first]
    wait_for_rows(engine, [r.json()["event_id"] for r in first], timeout=60)
    assert len(rows_for(engine, source=source)) == 30  # the replays enqueued nothing
