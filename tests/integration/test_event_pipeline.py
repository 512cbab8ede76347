"""Ingest → SQS → worker → PostgreSQL + S3, on real parts, including faults."""

from __future__ import annotations

import json
import uuid

import pytest

from broker.app import make_celery
from fluxa.errors import ErrorCode
from fluxa.events.hashing import sha256_hex
from fluxa.messages.tasks import CORRELATION_HEADER, TaskName
from launcher.emulator import RequestRecording
from launcher.waiting import wait_until
from tests.integration.helpers import (
    count_rows,
    wait_for_dead_letter,
    wait_for_rows,
    worker_lines,
)
from tests.support.builders import event_body, event_message, unique_source
from tests.support.emf_spec import emf_problems
from tests.support.sqs import queue_depth

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def celery(settings):
    return make_celery(settings)


def send(celery, settings, events, *, task_id=None, correlation_id=None):
    """Publish a processing message straight to the input queue, as the API would."""
    task_id = task_id or str(uuid.uuid4())
    celery.send_task(
        TaskName.PROCESS_EVENTS,
        kwargs={"events": events},
        queue=settings.input_queue,
        task_id=task_id,
        headers={CORRELATION_HEADER: correlation_id or f"cid-{task_id}"},
    )
    return task_id


def stored_payload(s3, settings, row) -> bytes:
    end = row.archive_offset + row.payload_size - 1
    obj = s3.get_object(
        Bucket=settings.payload_bucket,
        Key=row.archive_key,
        Range=f"bytes={row.archive_offset}-{end}",
    )
    return obj["Body"].read()


def test_single_event_is_persisted_with_its_payload_in_s3(client, worker, engine, s3, settings):
    body = event_body(payload={"price": "101.5", "qty": 2, "note": "ünïcode", "ratio": 2.0})
    response = client.post("/v1/events", json=body)
    assert response.status_code == 202
    accepted = response.get_json()
    assert accepted["status"] == "accepted"
    # RFC 8785 as written out by hand: keys in order, 2.0 as 2, UTF-8 as is.
    jcs = '{"note":"ünïcode","price":"101.5","qty":2,"ratio":2}'.encode()
    assert accepted["payload_sha256"] == sha256_hex(jcs)

    [row] = wait_for_rows(engine, [accepted["event_id"]])
    assert row.status == "processed"
    assert row.correlation_id == accepted["correlation_id"]
    payload = stored_payload(s3, settings, row)
    assert sha256_hex(payload) == accepted["payload_sha256"]
    assert json.loads(payload) == body["payload"]

    detail = client.get(f"/v1/events/{accepted['event_id']}")
    assert detail.status_code == 200
    assert detail.get_json()["payload"] == body["payload"]
    assert detail.get_json()["status"] == "processed"


def test_a_batch_of_non_ascii_payloads_fits_its_messages(client, worker, engine):
    # Each payload stays under the claim-check size (1,500 emoji, 6,000 bytes of UTF-8),
    # but travels as \ud83d\ude00 escapes, escaped once more in kombu's envelope: 14
    # bytes an emoji. Sized as 12, thirteen of them made a 280 KB message that SQS
    # refused, so the same valid batch answered 503 every time.
    source = unique_source()
    batch = [event_body(source=source, payload={"n": i, "text": "😀" * 1500}) for i in range(30)]
    response = client.post("/v1/events/batch", json={"events": batch})
    assert response.status_code == 202, response.get_json()
    ids = [item["event_id"] for item in response.get_json()["results"]]
    assert len(wait_for_rows(engine, ids)) == 30


def test_batch_travels_as_one_message_into_one_archive_object(client, worker, engine):
    source = unique_source()
    batch = [event_body(source=source) for _ in range(40)]
    response = client.post("/v1/events/batch", json={"events": batch})
    assert response.status_code == 202
    result = response.get_json()
    assert result["accepted"] == 40 and result["rejected"] == 0
    ids = [item["event_id"] for item in result["results"]]

    rows = wait_for_rows(engine, ids)
    assert {row.archive_key for row in rows} == {rows[0].archive_key}
    started = wait_until(
        lambda: worker_lines(
            worker, message="task succeeded", correlation_id=result["correlation_id"]
        ),
        what="the batch task to finish",
    )
    assert len(started) == 1  # one task message for the whole batch
    # The message's CloudWatch EMF lines (FLUXA_METRICS_EMF): the alarms' metrics.
    metrics = worker_lines(worker, message="metrics", correlation_id=result["correlation_id"])
    assert all(emf_problems(line) == [] for line in metrics) and metrics
    events = [line for line in metrics if "EventsProcessed" in line]
    assert [(m["EventsProcessed"], m["EventsDeadLettered"]) for m in events] == [(40, 0)]
    task = [line for line in metrics if "TasksSucceeded" in line]
    assert [m["Task"] for m in task] == [TaskName.PROCESS_EVENTS] and task[0]["TaskDuration"] > 0


def test_large_payload_travels_by_claim_check(client, worker, engine, s3, settings):
    payload = {"blob": "x" * 20_000, "marker": uuid.uuid4().hex}  # above the 8 KiB test threshold
    response = client.post("/v1/events", json=event_body(payload=payload))
    assert response.status_code == 202
    event_id = response.get_json()["event_id"]

    [row] = wait_for_rows(engine, [event_id])
    assert row.archive_key.startswith("archive/")  # kept: claims/ expires
    assert json.loads(stored_payload(s3, settings, row)) == payload
    assert client.get(f"/v1/events/{event_id}").get_json()["payload"] == payload


def test_same_message_delivered_three_times_gives_one_row_and_one_object(
    celery, settings, worker, engine, s3, sqs, queue_url
):
    # A day of its own, so that its archive prefix holds only this test's objects.
    day = f"2031-0{uuid.uuid4().int % 9 + 1}-1{uuid.uuid4().int % 9}"
    event = event_message(accepted_at=f"{day}T08:00:00+00:00")
    task_id = str(uuid.uuid4())
    for _ in range(3):
        send(celery, settings, [event], task_id=task_id)

    # At least three: a SendMessage answered 500 after its effect and retried makes a fourth.
    wait_until(
        lambda: (
            len(worker_lines(worker, message="task succeeded", task_id=task_id)) >= 3
            and queue_depth(sqs, queue_url(settings.input_queue)) == 0
        ),
        what="three deliveries processed",
    )
    assert count_rows(engine, event["event_id"]) == 1
    prefix = "archive/" + day.replace("-", "/") + "/"
    listing = s3.list_objects_v2(Bucket=settings.payload_bucket, Prefix=prefix)
    assert listing["KeyCount"] == 1
    persisted = worker_lines(
        worker, message="Successfully processed event", event_id=event["event_id"]
    )
    assert len(persisted) == 1


def test_tampered_hash_is_dead_lettered_at_once(celery, settings, worker, engine, sqs, queue_url):
    event = event_message(sha256="0" * 64)
    task_id = send(celery, settings, [event], correlation_id="cid-tampered")

    dead = wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), event["event_id"])
    assert dead.envelope.error_code == ErrorCode.HASH_MISMATCH
    assert dead.envelope.attempts == 1
    assert dead.envelope.retryable is False
    assert dead.envelope.source_queue == settings.input_queue
    assert dead.envelope.correlation_id == "cid-tampered"
    assert dead.correlation_id == "cid-tampered"  # the original headers travel with it
    assert dead.kwargs["events"] == [event]  # the original event, whole
    assert worker_lines(worker, task_id=task_id, status="retrying") == []
    assert count_rows(engine, event["event_id"]) == 0


def test_schema_invalid_event_is_dead_lettered(celery, settings, worker, engine, sqs, queue_url):
    event = event_message(type="bad type with spaces")
    send(celery, settings, [event])

    dead = wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), event["event_id"])
    assert dead.envelope.error_code == ErrorCode.SCHEMA_VALIDATION
    assert dead.envelope.attempts == 1
    assert count_rows(engine, event["event_id"]) == 0


def test_one_bad_event_in_a_batch_goes_to_the_dlq_alone(
    celery, settings, worker, engine, sqs, queue_url
):
    good = [event_message(), event_message()]
    bad = event_message(sha256="f" * 64)
    send(celery, settings, [good[0], bad, good[1]])

    wait_for_rows(engine, [e["event_id"] for e in good])
    dead = wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), bad["event_id"])
    assert dead.kwargs["events"] == [bad]
    assert dead.envelope.error_code == ErrorCode.HASH_MISMATCH
    assert count_rows(engine, bad["event_id"]) == 0


def test_database_refusing_connections_for_a_while_is_retried(
    celery, settings, worker, engine, test_database
):
    event = event_message()
    test_database.proxy.refuse()
    try:
        task_id = send(celery, settings, [event])
        wait_until(
            lambda: worker_lines(
                worker,
                task_id=task_id,
                status="retrying",
                error_code=ErrorCode.DB_CONNECTION_ERROR.value,
            ),
            what="a DBConnectionError retry",
        )
    finally:
        test_database.proxy.restore()
    wait_for_rows(engine, [event["event_id"]])
    assert count_rows(engine, event["event_id"]) == 1


def test_database_down_past_the_retry_budget_is_dead_lettered(
    celery, settings, worker, engine, sqs, queue_url, test_database
):
    event = event_message()
    test_database.proxy.refuse()
    try:
        send(celery, settings, [event])
        dead = wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), event["event_id"])
    finally:
        test_database.proxy.restore()
    assert dead.envelope.error_code == ErrorCode.DB_CONNECTION_ERROR
    assert dead.envelope.attempts == settings.retry_max_retries + 1
    assert dead.envelope.retryable is True
    assert dead.envelope.first_failed_at < dead.envelope.last_failed_at
    assert count_rows(engine, event["event_id"]) == 0


def test_storage_unavailable_for_a_while_is_retried(celery, settings, worker, engine, s3_proxy):
    event = event_message()
    s3_proxy.refuse()
    try:
        task_id = send(celery, settings, [event])
        wait_until(
            lambda: worker_lines(
                worker,
                task_id=task_id,
                status="retrying",
                error_code=ErrorCode.STORAGE_UNAVAILABLE.value,
            ),
            what="a StorageUnavailableError retry",
        )
        assert count_rows(engine, event["event_id"]) == 0  # no row without its object
    finally:
        s3_proxy.restore()
    wait_for_rows(engine, [event["event_id"]])


def test_a_retry_waits_in_the_queue_not_in_the_worker(
    celery, settings, worker, engine, s3_proxy, emulator
):
    """SQS delays the retried message (DelaySeconds); no ETA is held against its visibility."""
    event = event_message()

    def own_delayed_retry() -> list[dict]:
        """This event's retry, sent to the input queue with SQS's own DelaySeconds."""
        return [
            body
            for r in recording.requests()
            if r.name == "SQS SendMessage"
            and (body := r.json())["QueueUrl"].endswith("/" + settings.input_queue)
            and event["event_id"] in body["MessageBody"]
            and body.get("DelaySeconds", 0) > 0
        ]

    with RequestRecording(emulator) as recording:
        s3_proxy.refuse()
        try:
            send(celery, settings, [event])
            wait_until(own_delayed_retry, interval=0.1, what="the retry delayed by SQS itself")
        finally:
            s3_proxy.restore()
    wait_for_rows(engine, [event["event_id"]])


def test_acknowledged_messages_are_deleted_in_batches(celery, settings, worker, engine, emulator):
    """Twelve messages processed: their deletes go out as DeleteMessageBatch requests."""
    events = [event_message() for _ in range(12)]

    def on_input_queue(name: str) -> list[dict]:
        bodies = [r.json() for r in recording.requests() if r.name == f"SQS {name}"]
        return [b for b in bodies if b["QueueUrl"].endswith("/" + settings.input_queue)]

    with RequestRecording(emulator) as recording:
        for event in events:
            send(celery, settings, [event])
        wait_for_rows(engine, [event["event_id"] for event in events])
        wait_until(
            lambda: sum(len(b["Entries"]) for b in on_input_queue("DeleteMessageBatch")) >= 12,
            interval=0.1,
            what="the twelve messages deleted",
        )
    assert on_input_queue("DeleteMessage") == []
    assert len(on_input_queue("DeleteMessageBatch")) < 12


def test_worker_killed_mid_task_is_redelivered_within_its_lease(
    celery, settings, worker, engine, test_database
):
    event = event_message()
    test_database.proxy.blackhole()  # the task hangs on the database: surely mid-task
    try:
        task_id = send(celery, settings, [event])
        wait_until(
            lambda: worker_lines(worker, task_id=task_id, status="started"),
            what="the task to start",
        )
        worker.kill()
    finally:
        test_database.proxy.restore()
    assert count_rows(engine, event["event_id"]) == 0

    worker.start()
    wait_for_rows(engine, [event["event_id"]], timeout=settings.sqs_lease_seconds + 30)
    assert worker_lines(worker, task_id=task_id, status="started")  # redelivered to the new one
    assert count_rows(engine, event["event_id"]) == 1


def test_correlation_id_reaches_the_response_the_task_headers_and_the_worker_log(
    client, worker, engine
):
    correlation_id = f"corr-{uuid.uuid4().hex}"
    response = client.post(
        "/v1/events", json=event_body(), headers={"X-Correlation-ID": correlation_id}
    )
    assert response.headers["X-Correlation-ID"] == correlation_id
    event_id = response.get_json()["event_id"]
    wait_for_rows(engine, [event_id])

    # `task started` binds the id read from the message headers, before the body is read.
    [started] = worker_lines(worker, message="task started", correlation_id=correlation_id)
    [persisted] = worker_lines(worker, message="Successfully processed event", event_id=event_id)
    assert persisted["correlation_id"] == correlation_id
    assert persisted["service"] == "processor" and persisted["stage"] == "persist"
    assert started["task_id"] == persisted["task_id"]
