"""The stack's own S3 lifecycle rules played forward (`tests/support/s3_lifecycle.py`):
the emulator never runs them, AWS always does. What a row names, or a message that can
still be processed or replayed, must still be there."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from fluxa.events import repository
from fluxa.events.archive import claim_key
from fluxa.events.hashing import canonical_of, payload_sha256
from fluxa.events.retention import LIFECYCLE_GRACE_DAYS, OVERDUE
from fluxa.infra.db import transaction
from tests.integration.helpers import fluxa, wait_for_dead_letter, wait_for_rows
from tests.support.builders import event_body, pre_claims_row
from tests.support.s3_lifecycle import play_forward, template_parameters, template_rules
from tests.support.sqs import empty
from tests.support.trades import trade_body, uploaded_image

pytestmark = pytest.mark.integration

#: The longest a message can live: 14 days in a source queue, then 14 in a DLQ (SQS's
#: maximum retention, whatever the stack's parameters say).
LONGEST_STAY_DAYS = 28


@pytest.fixture(scope="module")
def parameters():
    return template_parameters()


def large_payload() -> dict:
    return {"blob": "x" * 20_000, "marker": uuid.uuid4().hex}  # claim-checked in tests


def test_a_year_of_the_stacks_rules_keeps_every_payload_and_image(
    client, auth, worker, engine, s3, settings, parameters
):
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    singles = [event_body() for _ in range(3)] + [
        event_body(payload=large_payload()) for _ in range(2)
    ]
    batch = [event_body(), event_body(payload=large_payload())]
    ids = [client.post("/v1/events", json=body).get_json()["event_id"] for body in singles]
    results = client.post("/v1/events/batch", json={"events": batch}).get_json()["results"]
    ids += [item["event_id"] for item in results]
    payloads = {
        event_id: body["payload"] for event_id, body in zip(ids, singles + batch, strict=True)
    }
    wait_for_rows(engine, ids)
    user = f"user-{uuid.uuid4().hex[:8]}"
    trade = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()
    image = uploaded_image(client, auth, user, trade["id"])
    attached = client.patch(
        f"/v1/trades/{trade['id']}", json={"images": [image], "version": 1}, headers=auth(user)
    )
    assert attached.status_code == 200

    for bucket, resource in (
        (settings.payload_bucket, "PayloadBucket"),
        (settings.image_bucket, "ImageBucket"),
    ):
        play_forward(s3, bucket, template_rules(resource, parameters), 365, since=started)

    for event_id, payload in payloads.items():
        event = client.get(f"/v1/events/{event_id}").get_json()
        assert "payload_problem" not in event and event["payload"] == payload, event_id
    for key in client.get(f"/v1/trades/{trade['id']}", headers=auth(user)).get_json()["images"]:
        assert s3.head_object(Bucket=settings.image_bucket, Key=key)


def test_a_dead_letters_claim_outlives_the_longest_stay_and_a_replay_restarts_its_clock(
    client, environ, worker, engine, s3, sqs, queue_url, settings, test_database, parameters
):
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    payload = large_payload()
    claim = claim_key(payload_sha256(payload))
    rules = template_rules("PayloadBucket", parameters)
    test_database.proxy.refuse()
    try:
        event_id = client.post("/v1/events", json=event_body(payload=payload)).get_json()[
            "event_id"
        ]
        wait_for_dead_letter(sqs, dlq, event_id)
    finally:
        test_database.proxy.restore()
    written = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    assert play_forward(s3, settings.payload_bucket, rules, LONGEST_STAY_DAYS, since=written) == []
    replayed_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fluxa(environ, "dlq", "replay", "--queue", "events")
    wait_for_rows(engine, [event_id])
    assert client.get(f"/v1/events/{event_id}").get_json()["payload"] == payload
    # The replay started a new stay: the claim's clock restarted with it.
    assert s3.head_object(Bucket=settings.payload_bucket, Key=claim)["LastModified"] >= replayed_at
    assert claim in play_forward(s3, settings.payload_bucket, rules, 365, since=written)
    assert client.get(f"/v1/events/{event_id}").get_json()["payload"] == payload


def test_a_dead_letter_whose_claim_is_gone_stays_and_is_named(
    client, environ, worker, engine, s3, sqs, queue_url, settings, test_database
):
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    payload = large_payload()
    test_database.proxy.refuse()
    try:
        event_id = client.post("/v1/events", json=event_body(payload=payload)).get_json()[
            "event_id"
        ]
        letter = wait_for_dead_letter(sqs, dlq, event_id)
    finally:
        test_database.proxy.restore()
    s3.delete_object(Bucket=settings.payload_bucket, Key=claim_key(payload_sha256(payload)))

    out = fluxa(environ, "dlq", "replay", "--queue", "events")
    assert "moved: 0" in out and "PayloadMissing" in out
    assert wait_for_dead_letter(sqs, dlq, event_id).task_id == letter.task_id


def test_rows_written_before_claims_were_kept_are_moved_by_keep_claims(
    client, environ, engine, s3, settings, parameters
):
    """An upgraded deployment: its older rows name `claims/` objects. `fluxa events
    keep-claims` moves them before the lifecycle rule can; a claim already gone is named."""
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    kept, lost = large_payload(), large_payload()
    rows = [pre_claims_row(payload) for payload in (kept, lost)]
    s3.put_object(Bucket=settings.payload_bucket, Key=rows[0]["archive_key"],
                  Body=canonical_of(kept))  # fmt: skip
    with transaction(engine) as conn:
        repository.insert_events(conn, rows)

    out = fluxa(environ, "events", "keep-claims")
    assert "moved: 1 " in out and rows[1]["event_id"] in out
    assert "moved: 0 " in fluxa(environ, "events", "keep-claims")  # once is enough
    rules = template_rules("PayloadBucket", parameters)
    play_forward(s3, settings.payload_bucket, rules, 365, since=started)
    assert client.get(f"/v1/events/{rows[0]['event_id']}").get_json()["payload"] == kept
    assert "payload_problem" in client.get(f"/v1/events/{rows[1]['event_id']}").get_json()


def test_under_a_retention_the_archive_outlives_the_rows_and_then_follows_them(
    client, worker, engine, s3, settings
):
    """EventsRetentionDays=30: a row leaves with its day's partition, 30 days after that
    day ends, or up to OVERDUE later before `fluxa alarms` fires. Its payload is still
    there then (inline or claim-checked), and expires LIFECYCLE_GRACE_DAYS after."""
    rules = template_rules("PayloadBucket", template_parameters({"EventsRetentionDays": "30"}))
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    bodies = [event_body(), event_body(payload=large_payload())]
    ids = [client.post("/v1/events", json=body).get_json()["event_id"] for body in bodies]
    keys = {row.archive_key for row in wait_for_rows(engine, ids)}
    assert all(key.startswith("archive/") for key in keys)

    longest_kept = 1 + 30 + OVERDUE.days
    gone = play_forward(s3, settings.payload_bucket, rules, longest_kept, since=started)
    assert not keys & set(gone)  # only the claims in transit (claims/) expired
    for event_id, body in zip(ids, bodies, strict=True):
        assert client.get(f"/v1/events/{event_id}").get_json()["payload"] == body["payload"]
    expired = play_forward(
        s3, settings.payload_bucket, rules, 30 + LIFECYCLE_GRACE_DAYS, since=started
    )
    assert keys <= set(expired)
