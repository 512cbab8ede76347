"""Poison messages, an unreachable broker, and racing updates."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest

from api.app import create_app
from fluxa.messaging import CORRELATION_HEADER
from tests.faults.figures import report
from tests.integration.helpers import rows_for, wait_for_rows
from tests.support.builders import event_body, unique_source
from tests.support.trades import trade_body
from tests.support.waiting import wait_until
from workers.celery_app import make_celery

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_poison_messages_end_in_the_dlq_and_the_worker_keeps_serving(
    settings, sqs, queue_url, client, worker, engine
):
    source_queue = queue_url(settings.input_queue)
    dlq = queue_url(settings.dead_letter_queue)
    marker = uuid.uuid4().hex
    started = time.monotonic()
    sqs.send_message(QueueUrl=source_queue, MessageBody=f"not a message {marker}")
    make_celery(settings).send_task(
        "fluxa.no_such_task",
        kwargs={"marker": marker},
        queue=settings.input_queue,
        headers={CORRELATION_HEADER: marker},
    )
    healthy = client.post("/v1/events", json=event_body()).get_json()["event_id"]
    wait_for_rows(engine, [healthy])  # the worker serves others meanwhile

    def arrived():
        raw = sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        ).get("Messages", [])
        return [m for m in raw if marker in m["Body"]]

    found = {}
    wait_until(
        lambda: found.update({m["MessageId"]: m for m in arrived()}) or len(found) >= 2,
        timeout=settings.sqs_visibility_timeout * (settings.sqs_max_receive_count + 2),
        interval=0.5,
        what="both poison messages in the DLQ",
    )
    report(
        "poison messages (undecodable, unknown task)",
        sent=2,
        dead_lettered=len(found),
        seconds_to_dlq=round(time.monotonic() - started, 1),
    )
    assert len(found) == 2


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
