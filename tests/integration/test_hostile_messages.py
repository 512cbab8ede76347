"""Hostile message bodies sent straight to the input queue with boto3 (issue 13).

Hundreds of generated bodies — deep and wide structures, huge numbers, lone
surrogates, truncated and non-JSON text, foreign task names, wrong types at every
level — reach a real worker over the SQS emulator. Its main process survives, each
message ends in the DLQ with a code, once (a second copy only where SQS itself delivered
twice, as the strict layer counts), and a healthy event sent after them is processed.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest

from fluxa.dlq.envelope import ATTRIBUTE_ERROR_CODE
from fluxa.errors import MalformedMessageError
from fluxa.messages.taskmessage import decode_sqs_body
from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.integration.helpers import wait_for_rows
from tests.support.builders import event_message
from tests.support.hostile_messages import HostileMessage, events_body, hostile_messages
from tests.support.sqs import queue_depth, receive_raw

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
    """Take every visible message out of `url` (the test owns what it reads). Through the
    strict layer a delete can be lost and the message read again: callers dedupe by id."""
    return receive_raw(sqs, url, delete=True)


def key_of(message: dict[str, Any], match: str) -> str:
    if match == "raw":
        return message["Body"]
    try:
        task = decode_sqs_body(message["Body"])
    except MalformedMessageError:
        return ""
    if match == "task_id":
        return task.task_id
    events = task.kwargs.get("events")
    first = events[0] if isinstance(events, list) and events else None
    return first.get("event_id", "") if isinstance(first, dict) else ""


def code_of(message: dict[str, Any]) -> str | None:
    attribute = message.get("MessageAttributes", {}).get(ATTRIBUTE_ERROR_CODE)
    return attribute["StringValue"] if attribute else None


@pytest.fixture
def redelivering(strict_sqs):
    """SQS delivers some messages a second time while the test runs (2% of deletes lost)."""
    with strict_sqs.rates(lost_deletes=0.02):
        yield strict_sqs


def test_hostile_bodies_each_end_in_the_dlq_once_and_the_worker_survives(
    worker, settings, sqs, queue_url, engine, redelivering
):
    dlq, inbox = queue_url(settings.dead_letter_queue), queue_url(settings.input_queue)
    drain(sqs, dlq)  # earlier tests' dead letters are theirs, not ours to count
    main_pid = worker.process.pid
    redeliveries_before = redeliveries(redelivering)
    hostile = hostile_messages(COUNT, seed=SEED)
    send_raw(sqs, inbox, [m.body for m in hostile])

    expected = {(m.match, m.key): m for m in hostile}
    copies: dict[tuple[str, str], set[str]] = defaultdict(set)  # key → DLQ message ids
    codes: dict[tuple[str, str], str | None] = {}

    def take_dead_letters() -> None:
        for message in drain(sqs, dlq):
            for match in ("raw", "task_id", "event_id"):
                key = (match, key_of(message, match))
                if key in expected:
                    copies[key].add(message["MessageId"])
                    codes[key] = code_of(message)
                    break

    def all_dead_lettered() -> bool:
        take_dead_letters()
        return len(copies) == len(expected)

    wait_until(all_dead_lettered, timeout=240, interval=1, what="every hostile message dead")
    # Not the first sighting: a second copy may still be on its way. A healthy event sent
    # now is processed after them; once it is, and the input queue holds nothing, every
    # copy there will be is in the DLQ.
    healthy = event_message()
    send_raw(sqs, inbox, [events_body([healthy])])
    wait_for_rows(engine, [healthy["event_id"]], timeout=60)
    wait_until(lambda: queue_depth(sqs, inbox) == 0, timeout=60, what="the input queue empty")
    take_dead_letters()
    seen = Counter({key: len(ids) for key, ids in copies.items()})
    # SQS is at-least-once: a copy beyond the first is allowed only where SQS redelivered
    # (a lost delete) or a send's answer was lost and retried (the strict layer's count).
    extra_copies = sum(n - 1 for n in seen.values())
    explained = redeliveries(redelivering) - redeliveries_before

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
    doubles = {expected[k].kind: n for k, n in seen.items() if n != 1}
    assert extra_copies <= explained, f"dead-lettered more than once: {doubles}"
    assert all(codes.values()), [expected[k].kind for k, c in codes.items() if not c]
    by_code = Counter(codes.values())
    assert set(by_code) <= {"MalformedMessage", "SchemaValidation", "HashMismatch"}, by_code
    assert main_survived, "the worker's main process died"
    assert not recursion_lines


def redeliveries(strict_sqs: Any) -> int:
    """Messages the strict layer made SQS deliver or store twice, so far."""
    return strict_sqs.played["lost_delete"] + strict_sqs.played["server_error_after_effect"]


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
