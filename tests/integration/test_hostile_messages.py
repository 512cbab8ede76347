"""Hostile message bodies sent straight to the input queue with boto3 (issue 13).

Hundreds of generated bodies — deep and wide structures, huge numbers, lone
surrogates, truncated and non-JSON text, foreign task names, wrong types at every
level — reach a real worker over the SQS emulator. Its main process survives, each
message ends in the DLQ exactly once with a code, and a healthy event sent after them
is processed.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from bench.waiting import wait_until
from fluxa.dlq.envelope import ATTRIBUTE_ERROR_CODE
from fluxa.messages.taskmessage import UndecodableMessage, decode_sqs_body
from tests.faults.figures import report
from tests.integration.helpers import wait_for_rows
from tests.support.builders import event_message
from tests.support.hostile_messages import HostileMessage, events_body, hostile_messages

pytestmark = pytest.mark.integration

SEED = 13
COUNT = 300


def send_raw(sqs: Any, url: str, bodies: list[str]) -> None:
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])
        ]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        assert not failed, failed


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Take every visible message out of `url` (the test owns what it reads)."""
    taken: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        VisibilityTimeout=60,
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        taken.extend(batch)
    for message in taken:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken


def key_of(message: dict[str, Any], match: str) -> str:
    if match == "raw":
        return message["Body"]
    try:
        task = decode_sqs_body(message["Body"])
    except UndecodableMessage:
        return ""
    if match == "task_id":
        return task.task_id
    events = task.kwargs.get("events")
    first = events[0] if isinstance(events, list) and events else None
    return first.get("event_id", "") if isinstance(first, dict) else ""


def code_of(message: dict[str, Any]) -> str | None:
    attribute = message.get("MessageAttributes", {}).get(ATTRIBUTE_ERROR_CODE)
    return attribute["StringValue"] if attribute else None


def test_hostile_bodies_each_end_in_the_dlq_once_and_the_worker_survives(
    worker, settings, sqs, queue_url, engine
):
    dlq, inbox = queue_url(settings.dead_letter_queue), queue_url(settings.input_queue)
    drain(sqs, dlq)  # earlier tests' dead letters are theirs, not ours to count
    main_pid = worker.process.pid
    hostile = hostile_messages(COUNT, seed=SEED)
    send_raw(sqs, inbox, [m.body for m in hostile])

    expected = {(m.match, m.key): m for m in hostile}
    seen: Counter[tuple[str, str]] = Counter()
    codes: dict[tuple[str, str], str | None] = {}

    def all_dead_lettered() -> bool:
        for message in drain(sqs, dlq):
            for match in ("raw", "task_id", "event_id"):
                key = (match, key_of(message, match))
                if key in expected:
                    seen[key] += 1
                    codes[key] = code_of(message)
                    break
        return len(seen) == len(expected)

    wait_until(all_dead_lettered, timeout=240, interval=1, what="every hostile message dead")

    main_survived = worker.running and worker.process.pid == main_pid
    recursion_lines = [line for line in worker.log_lines() if "RecursionError" in json.dumps(line)]
    report(
        "hostile SQS bodies sent with boto3 to a real worker",
        sent=len(hostile),
        by_kind=dict(Counter(m.kind for m in hostile)),
        dead_lettered=sum(seen.values()),
        dead_lettered_twice=sum(1 for n in seen.values() if n > 1),
        codes=dict(Counter(codes.values())),
        worker_main_process_deaths=0 if main_survived else 1,
        recursion_errors_logged=len(recursion_lines),
    )
    doubles = {k: n for k, n in seen.items() if n != 1}
    assert not doubles, f"dead-lettered more than once: {doubles}"
    assert all(codes.values()), [expected[k].kind for k, c in codes.items() if not c]
    by_code = Counter(codes.values())
    assert set(by_code) <= {"MalformedMessage", "SchemaValidation", "HashMismatch"}, by_code
    assert main_survived, "the worker's main process died"
    assert not recursion_lines

    healthy = event_message()
    send_raw(sqs, inbox, [events_body([healthy])])
    wait_for_rows(engine, [healthy["event_id"]], timeout=60)


def test_one_deep_event_does_not_stop_the_worker(worker, settings, sqs, queue_url, engine):
    """The original finding: a payload ~300 levels deep killed the main process."""
    dlq, inbox = queue_url(settings.dead_letter_queue), queue_url(settings.input_queue)
    deep = '{"a":' * 300 + "1" + "}" * 300
    body = events_body([{"payload": "@"}]).replace('\\"@\\"', deep.replace('"', '\\"'))
    killer = HostileMessage("deep payload", body, "raw", body)
    main_pid = worker.process.pid
    send_raw(sqs, inbox, [killer.body])
    healthy = event_message()
    send_raw(sqs, inbox, [events_body([healthy])])
    wait_for_rows(engine, [healthy["event_id"]], timeout=60)
    assert worker.running and worker.process.pid == main_pid
    letters = wait_until(
        lambda: [m for m in drain(sqs, dlq) if m["Body"] == killer.body],
        timeout=60,
        what="the deep message in the DLQ",
    )
    assert [code_of(m) for m in letters] == ["MalformedMessage"]
