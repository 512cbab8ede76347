"""Poison messages, an unreachable broker, and racing updates."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest

from api.app import create_app
from broker.app import make_celery
from fluxa.dlq.letters import DeadLetter, from_sqs
from fluxa.dlq.operations import task_key
from fluxa.dlq.report import copies
from fluxa.messages.tasks import CORRELATION_HEADER
from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.integration.helpers import rows_for, wait_for_rows
from tests.support.builders import event_body, unique_source
from tests.support.poison_tasks import CRASHES_PROCESS, RAISES_FOREVER
from tests.support.sqs import queue_depth, receive_raw
from tests.support.trades import trade_body

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_poison_messages_end_in_the_dlq_and_the_worker_keeps_serving(
    settings, sqs, queue_url, client, worker, engine
):
    """Four kinds of poison, each once in the DLQ with its code; the worker serves on."""
    source_queue = queue_url(settings.input_queue)
    dlq = queue_url(settings.dead_letter_queue)
    marker = uuid.uuid4().hex
    started = time.monotonic()
    sqs.send_message(QueueUrl=source_queue, MessageBody=f"not a message {marker}")
    sender = make_celery(settings)
    for task in ("fluxa.no_such_task", RAISES_FOREVER, CRASHES_PROCESS):
        sender.send_task(
            task,
            kwargs={"marker": marker},
            queue=settings.input_queue,
            headers={CORRELATION_HEADER: marker},
        )
    healthy = client.post("/v1/events", json=event_body()).get_json()["event_id"]
    wait_for_rows(engine, [healthy])  # served while poison circulates

    poisons = {None, "fluxa.no_such_task", RAISES_FOREVER, CRASHES_PROCESS}
    letters: dict[str, DeadLetter] = {}  # by SQS message id

    def every_poison_arrived() -> bool:
        letters.update({m.message_id: m for m in _letters_with(sqs, dlq, marker)})
        return {_task_name(m) for m in letters.values()} >= poisons

    wait_until(
        every_poison_arrived,
        timeout=settings.sqs_visibility_timeout * (settings.sqs_max_receive_count + 3),
        interval=0.5,
        what="the four poison messages in the DLQ",
    )
    seconds_to_dlq = round(time.monotonic() - started, 1)
    # A crash must not leave copies behind that circulate (and crash) again.
    wait_until(lambda: queue_depth(sqs, source_queue) == 0, timeout=30, what="input queue empty")
    assert worker.running, "the worker's main process survived its child's crash"
    after = client.post("/v1/events", json=event_body()).get_json()["event_id"]
    wait_for_rows(engine, [after])

    by_task = {_task_name(m): m for m in letters.values()}
    codes = {task: letter.error_code for task, letter in by_task.items()}
    report(
        "poison messages (undecodable, unknown task, raises forever, crashes its process)",
        sent=4,
        dead_lettered=len(letters),
        copies=copies(list(letters.values())),
        codes=codes,
        seconds_to_dlq=seconds_to_dlq,
        worker_kept_serving=True,
    )
    assert {m.message_id for m in _letters_with(sqs, dlq, marker)} == set(letters)
    # SendMessage is not idempotent: a 500 after the effect, retried, leaves a second copy
    # of a letter (AWS may, and so does the suite's strict SQS layer). A copy is the same task
    # with the same code, which `fluxa dlq replay` sends back once; anything else is a fault.
    assert len({task_key(m) or m.body for m in letters.values()}) == len(poisons)
    assert codes == {
        None: "MalformedMessage",  # refused unread by the worker's transport
        "fluxa.no_such_task": "MalformedMessage",
        RAISES_FOREVER: "Unhandled",
        CRASHES_PROCESS: "MaxReceiveExceeded",
    }
    envelope = by_task[RAISES_FOREVER].envelope
    assert envelope is not None and envelope.attempts == settings.retry_max_retries + 1


def _task_name(letter: DeadLetter) -> str | None:
    return letter.task.task if letter.task else None


def _letters_with(sqs, dlq: str, marker: str) -> list[DeadLetter]:
    """The DLQ's messages that carry `marker`, each once, left in the queue."""
    return [from_sqs(raw) for raw in receive_raw(sqs, dlq) if marker in raw["Body"]]


def test_broker_unreachable_during_ingest_is_503_and_nothing_is_accepted(
    settings, machine_token, engine
):
    broken = create_app(dataclasses.replace(settings, sqs_endpoint_override="http://127.0.0.1:9"))
    source = unique_source()
    response = broken.test_client().post(
        "/v1/events",
        json=event_body(source=source),
        headers={"Authorization": f"Bearer {machine_token}"},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["code"] == "BrokerUnavailable"
    assert rows_for(engine, source=source) == []


def test_racing_updates_one_wins_the_other_gets_412(client, auth, worker):
    user = f"user-{uuid.uuid4().hex[:8]}"
    trade_id = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()["id"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def update(price: str) -> None:
        barrier.wait()
        response = client.application.test_client().patch(
            f"/v1/trades/{trade_id}",
            json={"entry_price": price},
            headers={**auth(user), "If-Match": '"1"'},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=update, args=(p,)) for p in ("101", "99")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    final = client.get(f"/v1/trades/{trade_id}", headers=auth(user)).get_json()
    assert final["version"] == 2
    stats = wait_until(
        lambda: (
            (s := client.get("/v1/stats", headers=auth(user)).get_json())
            and not s["stale"]
            and s["computed_at"]
            and s
        ),
        what="stats to settle",
    )
    assert stats["total_trades"] == 1 and stats["open_trades"] == 1
