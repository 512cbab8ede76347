"""`fluxa dlq inspect` and `fluxa dlq replay` on real dead letters in the emulator."""

from __future__ import annotations

import json
import uuid

import pytest

from broker.app import make_celery
from fluxa.dlq.operations import peek
from fluxa.errors import ErrorCode
from fluxa.messages.tasks import CORRELATION_HEADER, TaskName
from launcher.waiting import wait_until
from tests.integration.helpers import (
    count_rows,
    dead_letters_for,
    dead_tasks_for,
    fluxa,
    wait_for_dead_letter,
    wait_for_rows,
    worker_lines,
)
from tests.support.builders import event_body, event_message
from tests.support.sqs import empty, queue_depth, receive_all, receive_raw
from tests.support.trades import trade_body

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def celery(settings):
    return make_celery(settings)


def send(celery, settings, events):
    celery.send_task(
        TaskName.PROCESS_EVENTS,
        kwargs={"events": events},
        queue=settings.input_queue,
        headers={CORRELATION_HEADER: f"cid-{uuid.uuid4().hex[:8]}"},
    )


@pytest.fixture(scope="module")
def dead_letters(celery, settings, worker_process, sqs, queue_url, test_database):
    """One HashMismatch and one DBConnectionError dead letter of this module's own (the
    DLQ emptied first: other tests' poison must not be replayed by these)."""
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    poison = event_message(sha256="e" * 64)
    send(celery, settings, [poison])
    wait_for_dead_letter(sqs, dlq, poison["event_id"])
    outage = event_message()
    test_database.proxy.refuse()
    try:
        send(celery, settings, [outage])
        wait_for_dead_letter(sqs, dlq, outage["event_id"])
    finally:
        test_database.proxy.restore()
    return poison, outage


def test_inspect_reads_without_consuming(environ, dead_letters, sqs, queue_url, settings):
    poison, outage = dead_letters
    dlq = queue_url(settings.dead_letter_queue)
    report = json.loads(
        fluxa(environ, "dlq", "inspect", "--queue", "events", "--limit", "500", "--json")
    )
    assert report["counts"][ErrorCode.HASH_MISMATCH] >= 1
    assert report["counts"][ErrorCode.DB_CONNECTION_ERROR] >= 1
    mine = {m["subject"]: m for m in report["messages"]}
    sample = mine[f"events {poison['event_id']}"]
    assert sample["error_code"] == "HashMismatch" and "never retry" in sample["action"]
    assert sample["correlation_id"] and sample["attempts"] == 1
    assert "Safe to retry" in mine[f"events {outage['event_id']}"]["action"]
    # Still there, untouched.
    assert len(dead_tasks_for(sqs, dlq, poison["event_id"])) == 1
    assert len(dead_tasks_for(sqs, dlq, outage["event_id"])) == 1


def test_replay_moves_what_is_safe_and_never_poison(
    environ, dead_letters, sqs, queue_url, settings, engine, worker
):
    poison, outage = dead_letters
    dlq = queue_url(settings.dead_letter_queue)
    dry = fluxa(environ, "dlq", "replay", "--queue", "events", "--dry-run")
    assert "would move" in dry
    assert len(dead_tasks_for(sqs, dlq, outage["event_id"])) == 1

    out = fluxa(environ, "dlq", "replay", "--queue", "events")
    assert "HashMismatch" in out.split("left:")[1]
    progress = [line for line in out.splitlines() if line.startswith("messages examined: ")]
    assert progress[0].startswith("messages examined: 0 of ") and len(progress) >= 2, out
    wait_for_rows(engine, [outage["event_id"]])
    assert dead_letters_for(sqs, dlq, outage["event_id"]) == []
    assert len(dead_tasks_for(sqs, dlq, poison["event_id"])) == 1

    # Even asked by name, HashMismatch stays.
    fluxa(environ, "dlq", "replay", "--queue", "events", "--error-code", "HashMismatch")
    assert len(dead_tasks_for(sqs, dlq, poison["event_id"])) == 1
    assert count_rows(engine, poison["event_id"]) == 0


def test_the_tools_read_a_dlq_whole_while_short_polls_come_back_empty(
    celery, environ, settings, sqs, queue_url, worker, strict_sqs
):
    """AWS answers a short poll from a sample of its servers; here every short poll is
    empty. The tools long-poll and read until SQS counts the queue drained."""
    dlq, inbox = queue_url(settings.dead_letter_queue), queue_url(settings.input_queue)
    empty(sqs, dlq)
    poison = [event_message(sha256="e" * 64) for _ in range(30)]
    send(celery, settings, poison)

    def dead_event_ids() -> set[str]:
        return {e["event_id"] for m in receive_all(sqs, dlq) for e in m.kwargs["events"]}

    wait_until(lambda: len(dead_event_ids()) == 30, timeout=60, what="30 dead letters")
    wait_until(lambda: queue_depth(sqs, inbox) == 0, what="the input queue quiet")
    held = len(receive_raw(sqs, dlq))  # 30, or more where SQS delivered the message twice
    with strict_sqs.rates(empty_short_polls=1.0):
        report = json.loads(
            fluxa(environ, "dlq", "inspect", "--queue", "events", "--limit", "500", "--json")
        )
        dry = fluxa(environ, "dlq", "replay", "--queue", "events", "--dry-run")
    assert held >= 30 and report["sampled"] == held
    assert report["counts"] == {"HashMismatch": held}
    assert report["complete"] and report["sqs_counts"]["visible"] == held
    assert f"left:  {held}" in dry
    assert len(receive_raw(sqs, dlq)) == held  # nothing consumed


def test_replaying_twice_or_after_persisting_changes_nothing(
    celery, environ, settings, sqs, queue_url, engine, worker, test_database
):
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    event = event_message()
    test_database.proxy.refuse()
    try:
        send(celery, settings, [event])
        wait_for_dead_letter(sqs, dlq, event["event_id"])
    finally:
        test_database.proxy.restore()
    letters = peek(sqs, dlq).letters
    [copy] = [letter for letter in letters if event["event_id"] in (letter.subject or "")]

    fluxa(environ, "dlq", "replay", "--queue", "events")
    wait_for_rows(engine, [event["event_id"]])
    # A crash between send and delete leaves the message in the DLQ too: replay it again.
    sqs.send_message(QueueUrl=dlq, MessageBody=copy.body)
    fluxa(environ, "dlq", "replay", "--queue", "events")
    wait_until(
        lambda: (
            len(worker_lines(worker, message="event already persisted", event_id=event["event_id"]))
            == 1
        ),
        what="the second replay to be processed",
    )
    assert count_rows(engine, event["event_id"]) == 1
    replayed = [
        line
        for line in worker_lines(worker, message="task started")
        if line.get("task_id") == copy.task.task_id
    ]
    assert len(replayed) == settings.retry_max_retries + 1 + 2  # the outage's attempts, 2 replays


def test_trace_shows_every_stage_of_a_failed_dead_lettered_and_replayed_event(
    celery, environ, settings, sqs, queue_url, engine, worker, test_database, client
):
    empty(sqs, queue_url(settings.dead_letter_queue))
    test_database.proxy.refuse()
    try:
        accepted = client.post("/v1/events", json=event_body()).get_json()
        wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), accepted["event_id"])
        waiting = json.loads(fluxa(environ, "trace", accepted["event_id"], "--json"))
        assert [r["stage"] for r in waiting] == ["in_dead_letter_queue"]
    finally:
        test_database.proxy.restore()
    fluxa(environ, "dlq", "replay", "--queue", "events", "--error-code", "DBConnectionError")
    wait_for_rows(engine, [accepted["event_id"]])

    stages = json.loads(fluxa(environ, "trace", accepted["correlation_id"], "--json"))
    assert [r["stage"] for r in stages] == [
        "accepted",
        "enqueued",
        "dead_lettered",
        "replayed",
        "persisted",
    ]
    dead = stages[2]
    assert dead["error_code"] == "DBConnectionError"
    assert all(r["event_id"] == accepted["event_id"] for r in stages)
    text = fluxa(environ, "trace", accepted["event_id"])
    assert "persisted" in text and "DBConnectionError" in text


def test_a_replayed_message_that_fails_again_retries_on_its_source_queue(
    celery, environ, settings, sqs, queue_url, engine, worker, test_database
):
    """The dead letter's body named the DLQ as its queue; a retry must not go there."""
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    event = event_message()

    def retries(task_id: str) -> int:
        lines = worker_lines(worker, message="task failed, will retry", task_id=task_id)
        return len(lines)

    test_database.proxy.refuse()
    try:
        send(celery, settings, [event])
        task_id = wait_for_dead_letter(sqs, dlq, event["event_id"]).task_id
        before = retries(task_id)
        fluxa(environ, "dlq", "replay", "--queue", "events", "--error-code", "DBConnectionError")
        wait_until(lambda: retries(task_id) > before, what="the replayed message to retry")
    finally:
        test_database.proxy.restore()
    wait_for_rows(engine, [event["event_id"]])
    assert dead_letters_for(sqs, dlq, event["event_id"]) == []


def test_replay_max_moves_at_most_n(
    celery, environ, settings, sqs, queue_url, engine, worker, test_database
):
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    events = [event_message() for _ in range(3)]
    test_database.proxy.refuse()
    try:
        for event in events:
            send(celery, settings, [event])
        for event in events:
            wait_for_dead_letter(sqs, dlq, event["event_id"])
    finally:
        test_database.proxy.restore()
    out = fluxa(environ, "dlq", "replay", "--queue", "events", "--max", "2")
    assert "DBConnectionError" in out
    moved = wait_until(
        lambda: (n := sum(count_rows(engine, e["event_id"]) for e in events)) >= 2 and n,
        what="two replayed events persisted",
    )
    left = [e for e in events if dead_letters_for(sqs, dlq, e["event_id"])]
    assert moved == 2 and len(left) == 1
    assert count_rows(engine, left[0]["event_id"]) == 0


def test_replay_of_the_stats_dlq_rebuilds_the_user(
    celery, environ, settings, sqs, queue_url, engine, worker, test_database, client, auth
):
    stats_dlq = queue_url(settings.stats_dead_letter_queue)
    empty(sqs, stats_dlq)
    user = f"user-{uuid.uuid4().hex[:8]}"
    test_database.proxy.refuse()  # the worker's path only: the API still writes
    try:
        assert client.post("/v1/trades", json=trade_body(), headers=auth(user)).status_code == 201
        wait_until(
            lambda: [m for m in receive_all(sqs, stats_dlq) if m.kwargs.get("user_id") == user],
            timeout=60,
            interval=0.5,
            what="the rebuild in StatsDLQ with DBConnectionError",
        )
    finally:
        test_database.proxy.restore()
    assert client.get("/v1/stats", headers=auth(user)).get_json()["computed_at"] is None
    out = fluxa(environ, "dlq", "replay", "--queue", "stats")
    assert "DBConnectionError" in out
    wait_until(
        lambda: client.get("/v1/stats", headers=auth(user)).get_json()["total_trades"] == 1,
        timeout=30,
        what="the replayed rebuild",
    )
    assert not [m for m in receive_all(sqs, stats_dlq) if m.kwargs.get("user_id") == user]
