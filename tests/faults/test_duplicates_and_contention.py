"""One message delivered 50 times; 50 concurrent requests with one Idempotency-Key."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server

from broker.app import make_celery
from fluxa.messages.tasks import CORRELATION_HEADER, TaskName
from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.faults.ledger import success_counts
from tests.integration.helpers import count_rows, rows_for, worker_lines
from tests.support.builders import event_body, event_message, unique_source
from tests.support.sqs import queue_depth

pytestmark = [pytest.mark.integration, pytest.mark.faults]

COPIES = 50


def test_one_message_delivered_fifty_times(settings, worker, engine, s3, sqs, queue_url):
    day = f"2032-0{uuid.uuid4().int % 9 + 1}-1{uuid.uuid4().int % 9}"
    batch = [event_message(accepted_at=f"{day}T08:00:00+00:00") for _ in range(5)]
    task_id = str(uuid.uuid4())
    celery = make_celery(settings)
    for _ in range(COPIES):
        celery.send_task(
            TaskName.PROCESS_EVENTS,
            kwargs={"events": batch},
            task_id=task_id,
            queue=settings.input_queue,
            headers={CORRELATION_HEADER: task_id},
        )

    # SendMessage is not idempotent: a 500 after the effect, retried by botocore, makes a
    # 51st copy (AWS may; so does the suite's strict layer, for 0.15% of requests). So: every
    # copy sent was processed and none is left, rather than exactly 50 "succeeded" lines.
    def processed() -> list[dict]:
        return worker_lines(worker, message="task succeeded", task_id=task_id)

    wait_until(
        lambda: (
            len(processed()) >= COPIES and queue_depth(sqs, queue_url(settings.input_queue)) == 0
        ),
        timeout=120,
        interval=0.5,
        what="every copy processed",
    )
    rows = [count_rows(engine, e["event_id"]) for e in batch]
    prefix = "archive/" + day.replace("-", "/") + "/"
    objects = s3.list_objects_v2(Bucket=settings.payload_bucket, Prefix=prefix)["KeyCount"]
    # Processed twice: an event logged "Successfully processed event" more than once.
    successes = success_counts(worker.log_lines(), {e["event_id"] for e in batch})
    report(
        "one message delivered 50 times",
        sent=COPIES,
        deliveries=len(processed()),
        events=len(batch),
        rows=sum(rows),
        objects=objects,
        duplicates=sum(1 for n in successes.values() if n > 1),
    )
    assert rows == [1] * len(batch) and objects == 1
    assert successes == {e["event_id"]: 1 for e in batch}


@pytest.fixture(scope="module")
def live_api(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_fifty_concurrent_requests_with_one_key_enqueue_once(
    live_api, machine_token, worker, engine, sqs, queue_url, settings
):
    source = unique_source()
    body = event_body(source=source)
    headers = {"Authorization": f"Bearer {machine_token}", "Idempotency-Key": uuid.uuid4().hex}
    barrier = threading.Barrier(COPIES)

    def post(_: int):
        barrier.wait()
        response = requests.post(f"{live_api}/v1/events", json=body, headers=headers, timeout=30)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        results = list(pool.map(post, range(COPIES)))
    statuses = [status for status, _ in results]
    first_ids = {b["event_id"] for s, b in results if s == 202}
    wait_until(lambda: rows_for(engine, source=source), what="the event persisted")
    wait_until(
        lambda: queue_depth(sqs, queue_url(settings.input_queue)) == 0,
        what="the input queue to drain",
    )
    writes = len(rows_for(engine, source=source))
    report(
        "50 concurrent requests, one Idempotency-Key",
        requests=COPIES,
        accepted_or_replayed=statuses.count(202),
        conflicts=statuses.count(409),
        writes=writes,
    )
    assert set(statuses) <= {202, 409} and len(first_ids) == 1 and writes == 1
