"""Hostile SQS message bodies, as an operator's mistake or a compromised producer sends them.

Each `HostileMessage` says how its dead letter is recognised: by the body itself
(`raw`: the transport dead-letters it unread), by an event id (one event of a valid
message dead-lettered alone) or by the task id (the whole message dead-lettered).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from fluxa.messages.tasks import TaskName
from tests.support.builders import event_message

EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


@dataclass(frozen=True)
class HostileMessage:
    kind: str
    body: str
    match: str  # "raw", "event_id" or "task_id"
    key: str  # the body, event id or task id its dead letter carries


def envelope(task: str, args: Any, kwargs: Any, *, task_id: str | None = None) -> dict:
    """A Celery protocol 2 message as kombu's SQS transport writes it (body as JSON text)."""
    task_id = task_id or str(uuid.uuid4())
    return {
        "body": json.dumps([args, kwargs, EMBED]),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task,
            "id": task_id,
            "root_id": task_id,
            "parent_id": None,
            "retries": 0,
            "timelimit": [None, None],
            "ignore_result": True,
        },
        "properties": {
            "correlation_id": task_id,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": "Fluxa-InputQueue"},
            "priority": 0,
            "delivery_tag": str(uuid.uuid4()),
        },
    }


def events_body(events: list[Any], *, task_id: str | None = None) -> str:
    return json.dumps(envelope(TaskName.PROCESS_EVENTS, [], {"events": events}, task_id=task_id))


def _deep(depth: int, leaf: str = "1", opener: str = '{"a":', closer: str = "}") -> str:
    return opener * depth + leaf + closer * depth


def _raw(kind: str, body: str) -> HostileMessage:
    return HostileMessage(kind, body, "raw", body)


def _structural(rng: random.Random, i: int) -> HostileMessage:
    """Bodies the transport must refuse before kombu or Celery read them."""
    good = events_body([event_message()])
    deep_payload = _deep(rng.randint(60, 600))
    choices = [
        (
            "deep payload in body text",
            lambda: json.dumps(
                envelope(TaskName.PROCESS_EVENTS, [], {"events": [{"payload": "@"}]})
            ).replace('\\"@\\"', deep_payload.replace('"', '\\"')),
        ),
        ("deep envelope", lambda: _deep(rng.randint(60, 3000))),
        ("deep arrays", lambda: "[" * rng.randint(60, 5000) + "]" * rng.randint(0, 5000)),
        ("not json", lambda: "".join(rng.choice('{}[]":,ab\\ 1\t') for _ in range(50))),
        ("truncated", lambda: good[: rng.randint(1, len(good) - 1)]),
        ("scalar", lambda: rng.choice(["42", '"text"', "null", "true", "[]", "{}"])),
        ("no headers", lambda: json.dumps({"body": "[]", "marker": i})),
        (
            "foreign task",
            lambda: json.dumps(envelope(f"evil.task.{i}", [], {"events": []})),
        ),
        (
            "body not a list",
            lambda: json.dumps({**envelope(TaskName.PROCESS_EVENTS, [], {}), "body": '{"x":1}'}),
        ),
        (
            "kwargs a list",
            lambda: json.dumps({**envelope(TaskName.PROCESS_EVENTS, [], {}), "body": "[[],[],{}]"}),
        ),
        ("huge integer", lambda: good.replace("[[]", "[[" + "9" * rng.randint(101, 6000), 1)),
        (
            "lone surrogate in body text",
            lambda: good.replace("trade.executed", "trade\\\\ud800", 1),
        ),
        (
            "base64 garbage",
            lambda: json.dumps(
                {
                    **envelope(TaskName.PROCESS_EVENTS, [], {}),
                    "properties": {"body_encoding": "base64"},
                }
            ),
        ),
        ("wide array", lambda: good.replace("[[]", "[[" + ",".join(["0"] * 10_001) + "]", 1)),
    ]
    kind, make = choices[i % len(choices)]
    body = make()
    marker = f" {i}" if body.startswith(("{", "[")) else f"#{i}"
    # Every raw body distinct, so that each dead letter names one message (JSON allows
    # trailing white space; garbage stays garbage with a suffix).
    return _raw(kind, body + (" " * (i + 1) if body.startswith(("{", "[")) else marker))


def _bad_event(i: int) -> HostileMessage:
    """Valid messages whose one event is hostile: that event alone goes to the DLQ."""
    event_id = f"fuzz-{uuid.uuid4().hex}"
    mutations = [
        {"payload": {"x": float("nan")}},
        {"payload": json.loads(_deep(34))},  # inside the message's limit, past the payload's
        {"payload": {"n": 10**80}},  # a long integer under a false hash
        {"payload_sha256": "0" * 64},
        {"occurred_at": "0001-01-01T00:00:00+01:00"},
        {"occurred_at": "9999-12-31T23:00:00-05:00"},
        {"accepted_at": 12},
        {"type": ["not", "a", "string"]},
        {"source": "src\n"},
        {"payload": "not an object"},
        {"payload": None, "payload_ref": {"key": 5, "size": "big"}},
        {"correlation_id": {"nested": True}},
        {"payload_sha256": None},
    ]
    mutation = dict(mutations[i % len(mutations)])
    if "payload" in mutation:  # no true hash to compute: any declared one will do
        mutation.setdefault("sha256", "a" * 64)
    event = event_message(event_id=event_id, **mutation)
    return HostileMessage("bad event", events_body([event]), "event_id", event_id)


def _bad_call(i: int) -> HostileMessage:
    """Well-formed messages whose arguments do not fit the task: dead-lettered whole."""
    task_id = str(uuid.uuid4())
    shapes = [
        ([1, 2, 3], {"events": []}),
        ([], {"events": "not a list"}),
        ([], {"events": []}),
        ([], {}),
    ]
    args, kwargs = shapes[i % len(shapes)]
    body = json.dumps(envelope(TaskName.PROCESS_EVENTS, args, kwargs, task_id=task_id))
    return HostileMessage("bad call", body, "task_id", task_id)


def hostile_messages(count: int, *, seed: int) -> list[HostileMessage]:
    """`count` hostile messages: mostly structural, some bad events and bad calls."""
    rng = random.Random(seed)
    made: list[HostileMessage] = []
    for i in range(count):
        roll = i % 10
        if roll < 7:
            made.append(_structural(rng, i))
        elif roll < 9:
            made.append(_bad_event(i))
        else:
            made.append(_bad_call(i))
    return made
