"""Alarms from real sources, metrics, and readiness under a database outage."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from broker.app import make_celery
from cli.main import main
from fluxa.infra.db import libpq_url
from fluxa.messages.tasks import CORRELATION_HEADER, TaskName
from launcher.waiting import wait_until
from tests.integration.helpers import wait_for_dead_letter, wait_for_rows
from tests.support.builders import event_body, event_message
from tests.support.sqs import empty, receive_raw
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


def alarms(environ, *args):
    result = CliRunner(env=environ).invoke(main, ["alarms", "--json", *args])
    return result.exit_code, {a["name"]: a for a in json.loads(result.output)}


def drain(sqs, url):
    """Delete every message (PurgeQueue may run once a minute only), read until SQS counts
    none visible: one empty short poll proves nothing on AWS."""
    empty(sqs, url)


def test_alarms_fire_and_clear_on_real_conditions(environ, settings, sqs, queue_url, worker):
    stats_dlq = queue_url(settings.stats_dead_letter_queue)
    drain(sqs, stats_dlq)
    wait_until(
        lambda: alarms(environ)[1]["DLQDepth[StatsDLQ]"]["state"] == "OK", what="an empty StatsDLQ"
    )
    sqs.send_message(QueueUrl=stats_dlq, MessageBody="a dead letter")
    code, fired = alarms(environ)
    assert code == 1 and fired["DLQDepth[StatsDLQ]"]["state"] == "ALARM"
    drain(sqs, stats_dlq)
    wait_until(
        lambda: alarms(environ)[1]["DLQDepth[StatsDLQ]"]["state"] == "OK",
        what="the DLQ alarm to clear",
    )

    started = time.monotonic()
    celery = make_celery(settings)
    poison = [event_message(sha256="d" * 64) for _ in range(3)]
    for event in poison:
        celery.send_task(
            TaskName.PROCESS_EVENTS,
            kwargs={"events": [event]},
            queue=settings.input_queue,
            headers={CORRELATION_HEADER: "burst"},
        )
    for event in poison:
        wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), event["event_id"])
    window = str(int(time.monotonic() - started) + 1)
    _, burst = alarms(environ, "--window-seconds", window)
    assert burst["ProcessorErrorRate"]["state"] == "ALARM"
    wait_until(
        lambda: alarms(environ, "--window-seconds", "1")[1]["ProcessorErrorRate"]["state"] == "OK",
        timeout=20,
        what="the error-rate window to pass",
    )


def test_database_load_alarm_fires_on_a_lock_wait_and_clears(environ, test_database):
    """A session waiting on a lock another holds: the alarm reads it from pg_stat_activity."""
    key = int(uuid.uuid4().int % 2**31)
    url = libpq_url(test_database.url)
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        waiter = threading.Thread(target=_wait_for_lock, args=(url, key), daemon=True)
        waiter.start()
        fired = wait_until(
            lambda: (a := alarms(environ)[1]["DatabaseLoad"])["state"] == "ALARM" and a,
            timeout=20,
            what="the lock wait seen",
        )
        assert "waiting=" in fired["value"] and "waiting=0" not in fired["value"]
        holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
    waiter.join(timeout=10)
    wait_until(
        lambda: alarms(environ)[1]["DatabaseLoad"]["state"] == "OK",
        timeout=20,
        what="the alarm to clear",
    )


def _wait_for_lock(url: str, key: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/v1/events/missing-one")
    text = client.get("/metrics").get_data(as_text=True)
    samples = [
        s
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "fluxa_http_requests_total"
    ]
    assert any(
        s.labels["route"] == "/v1/events/<event_id:event_id>" and s.labels["status"] == "404"
        for s in samples
    )
    assert "fluxa_http_request_duration_seconds_bucket" in text


def test_ingest_answers_202_while_postgres_hangs_and_readyz_names_it(
    settings, test_database, machine_token, engine, worker
):
    """The database blackholed for the API only: ingest goes on (sign-outs answered from
    memory), the trades API says 503, /readyz says `degraded` within its bound and stays
    200, and every event accepted meanwhile is persisted by the worker."""
    proxy = TcpProxy(test_database.proxy.upstream)
    url = test_database.proxied_url.replace(f":{test_database.proxy.port}/", f":{proxy.port}/")
    client = create_app(dataclasses.replace(settings, database_url=url)).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {machine_token}"
    try:
        assert client.get("/readyz").get_json()["status"] == "ready"
        assert client.post("/v1/events", json=event_body()).status_code == 202
        proxy.blackhole()
        started = time.monotonic()
        ready = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
        assert ready.get_json()["checks"]["database"] != "ok"
        assert ready.get_json()["checks"]["broker"] == "ok"
        assert elapsed < 5  # bounded even though the database never answers
        bodies = [event_body(event_id=f"evt-{uuid.uuid4().hex}") for _ in range(5)]
        answers = [client.post("/v1/events", json=body) for body in bodies]
        assert [a.status_code for a in answers] == [202] * 5, answers[0].get_json()
        assert client.get("/v1/trades").status_code == 503
    finally:
        proxy.close()
    wait_for_rows(engine, [body["event_id"] for body in bodies], timeout=60)


def test_the_first_request_of_a_process_that_never_read_sign_outs_fails_closed(
    settings, test_database, machine_token
):
    proxy = TcpProxy(test_database.proxy.upstream)
    url = test_database.proxied_url.replace(f":{test_database.proxy.port}/", f":{proxy.port}/")
    client = create_app(dataclasses.replace(settings, database_url=url)).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {machine_token}"
    try:
        proxy.refuse()
        refused = client.post("/v1/events", json=event_body())
        assert refused.status_code == 503 and refused.get_json()["code"] == "DBConnectionError"
        proxy.restore()
        assert client.post("/v1/events", json=event_body()).status_code == 202
    finally:
        proxy.close()


def test_worker_readiness_follows_its_heartbeat(worker, environ):
    env = {**environ, "FLUXA_WORKER_HEARTBEAT_FILE": worker.env["FLUXA_WORKER_HEARTBEAT_FILE"]}

    def ready(max_age: str) -> int:
        return CliRunner(env=env).invoke(main, ["worker-ready", "--max-age", max_age]).exit_code

    wait_until(lambda: ready("30") == 0, what="a fresh heartbeat")
    worker.kill()
    wait_until(lambda: ready("2") == 1, timeout=20, what="the heartbeat to go stale")
    worker.start()
    wait_until(lambda: ready("2") == 0, timeout=30, what="the restarted worker's heartbeat")


def test_metrics_carry_every_queues_depth_for_prometheus_alerts(settings, sqs, queue_url):
    """`fluxa_queue_messages` (the DLQDepth alert of deploy/prometheus) as SQS counts it."""
    dlq = queue_url(settings.stats_dead_letter_queue)
    probe = json.dumps({"probe": uuid.uuid4().hex})
    sqs.send_message(QueueUrl=dlq, MessageBody=probe)
    expected = int(
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    body = create_app(settings).test_client().get("/metrics").get_data(as_text=True)
    samples = {
        (s.labels["queue"], s.labels["state"], s.labels["dead_letter"]): s.value
        for family in text_string_to_metric_families(body)
        if family.name == "fluxa_queue_messages"
        for s in family.samples
    }
    assert samples[(settings.stats_dead_letter_queue, "visible", "true")] == expected >= 1
    assert (settings.input_queue, "in_flight", "false") in samples
    assert len(samples) == 2 * 5
    remove(sqs, dlq, probe)


def remove(sqs, url, body):
    """Delete the message with `body`; leave every other one as it was (visible)."""
    receive_raw(sqs, url, delete=lambda message: message["Body"] == body)
