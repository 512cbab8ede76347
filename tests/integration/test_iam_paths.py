"""Each process's real AWS calls, judged against its role as deploy/aws/fluxa.yaml writes it.

Every process runs here with its own access key id (the name of its task role), against
the suite's emulator; the emulator records every request with its signature, and each
request is turned into the permissions AWS documents for it (tests/support/aws_iam.py)
and checked against that role's policy, its references resolved to the suite's queues and
buckets. A path the template forgot fails here, naming the action and the resource.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.app import create_app
from broker.app import make_celery
from cli.main import main
from fluxa.errors import NotFoundError
from fluxa.events import repository
from fluxa.events.hashing import canonical_of
from fluxa.events.models import events
from fluxa.imports import repository as imports_repository
from fluxa.imports.files import import_key
from fluxa.infra import leases
from fluxa.infra.db import transaction
from fluxa.messages.tasks import TaskName
from launcher.emulator import RecordedRequest, RequestRecording
from launcher.environment import child_environment
from launcher.waiting import wait_until
from tests.integration.helpers import wait_for_dead_letter, wait_for_rows, worker_lines
from tests.integration.test_scheduled_jobs import BeatProcess
from tests.support.aws_iam import access_key, denials, role_statements
from tests.support.builders import event_body, event_message, pre_claims_row
from tests.support.cfn_yaml import load_template
from tests.support.sqs import empty
from tests.support.trades import post_upload, trade_body, uploaded_image
from tests.support.worker import WorkerProcess
from workers.beat import LEASE_NAME
from workers.schedule import beat_schedule

pytestmark = pytest.mark.integration

#: A one-fill fluxa-csv file.
FILLS = (
    b"executed_at,account,symbol,side,quantity,price,fees,execution_id\n"
    b"2026-03-02T15:00:00+00:00,IAM-1,SPY,buy,1,500,0,iam-1\n"
)
TEMPLATE = load_template(Path(__file__).parents[2] / "deploy" / "aws" / "fluxa.yaml")


@pytest.fixture(scope="module")
def names(settings) -> dict[str, str]:
    """The template's queues and buckets by logical id → the suite's names for them."""
    return {
        "InputQueue": settings.input_queue,
        "StatsQueue": settings.stats_queue,
        "MaintenanceQueue": settings.maintenance_queue,
        "DeadLetterQueue": settings.dead_letter_queue,
        "StatsDeadLetterQueue": settings.stats_dead_letter_queue,
        "PayloadBucket": settings.payload_bucket,
        "ImageBucket": settings.image_bucket,
    }


@pytest.fixture
def recording(emulator) -> Iterator[RequestRecording]:
    with RequestRecording(emulator) as recorded:
        yield recorded


def signed_by(recording: RequestRecording, role: str) -> list[RecordedRequest]:
    return [r for r in recording.requests() if access_key(r) == role]


def assert_granted(recording, role: str, names, s3) -> None:
    requests = signed_by(recording, role)
    assert requests, f"nothing was sent as {role}"

    def missing(bucket: str, key: str) -> bool:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
        return not any(item["Key"] == key for item in listed)

    refused = denials(requests, role_statements(TEMPLATE, role, names), missing)
    assert refused == [], "\n".join(f"{n.action} on {n.resource} ({n.why})" for n in refused)


def as_role(monkeypatch, role: str) -> None:
    """This process's AWS clients, made from now on, sign as `role` (boto3's default
    session keeps the credentials it first found: a new one finds these)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", role)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture
def role_worker(worker_process: WorkerProcess, tmp_path):
    """Start a worker signing as a role on some queues (the suite's worker stopped)."""
    worker_process.stop()
    started: list[WorkerProcess] = []

    def start(role: str, queues: list[str]) -> WorkerProcess:
        env = {**worker_process.env, "AWS_ACCESS_KEY_ID": role}
        process = WorkerProcess(
            env, tmp_path / f"{role}.log", queues, include=worker_process.include
        )
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def test_the_api_role_grants_what_the_api_does(
    monkeypatch, settings, names, recording, dev_issuer, s3, machine_token
):
    as_role(monkeypatch, "ApiTaskRole")
    client = create_app(settings).test_client()
    machine = {"Authorization": f"Bearer {machine_token}"}
    user = {"Authorization": f"Bearer {dev_issuer.mint(f'iam-{uuid.uuid4().hex[:8]}')}"}
    assert client.get("/readyz").status_code == 200
    small = client.post("/v1/events", json=event_body(), headers=machine)
    large = client.post(
        "/v1/events", json=event_body(payload={"blob": "x" * 20_000}), headers=machine
    )
    assert (small.status_code, large.status_code) == (202, 202)
    # Reading an event whose archive object is gone: PayloadMissing, not a 403 (ListBucket).
    missing_archive = f"archive/iam-probe-{uuid.uuid4().hex}"
    assert (
        s3.list_objects_v2(Bucket=settings.payload_bucket, Prefix=missing_archive)["KeyCount"] == 0
    )
    store = client.application.extensions["fluxa"].payload_store
    with pytest.raises(NotFoundError):
        store.get(missing_archive, offset=0, length=10)
    trade = client.post("/v1/trades", json=trade_body(), headers=user).get_json()
    images = f"/v1/trades/{trade['id']}/images"
    grant = client.post(images, json={"content_type": "image/png", "size": 20}, headers=user)
    grant = grant.get_json()
    never_uploaded = client.patch(
        f"/v1/trades/{trade['id']}", json={"images": [grant["key"]], "version": 1}, headers=user
    )
    assert never_uploaded.status_code == 400
    assert post_upload(grant, b"\x89PNG\r\n\x1a\n" + b"0" * 12).status_code in (200, 204)
    imported = client.post(
        "/v1/imports", data={"file": (io.BytesIO(FILLS), "fills.csv"), "format": "fluxa-csv"},
        headers=user, content_type="multipart/form-data",
    )  # fmt: skip
    assert imported.status_code == 202
    assert_granted(recording, "ApiTaskRole", names, s3)


def test_the_event_worker_role_grants_what_the_event_worker_does(
    role_worker, settings, names, recording, engine, sqs, queue_url, s3
):
    worker = role_worker("EventWorkerTaskRole", [settings.input_queue, settings.maintenance_queue])
    celery = make_celery(settings)
    fine = [event_message(), event_message(payload={"blob": "y" * 20_000})]
    poison = event_message(sha256="e" * 64)
    celery.send_task(TaskName.PROCESS_EVENTS, kwargs={"events": fine}, queue=settings.input_queue)
    celery.send_task(
        TaskName.PROCESS_EVENTS, kwargs={"events": [poison]}, queue=settings.input_queue
    )
    wait_for_rows(engine, [e["event_id"] for e in fine])
    wait_for_dead_letter(sqs, queue_url(settings.dead_letter_queue), poison["event_id"])
    for name, entry in beat_schedule(settings).items():  # every maintenance job, once
        task_id = str(uuid.uuid4())
        celery.send_task(entry["task"], queue=settings.maintenance_queue, task_id=task_id)
        wait_until(lambda t=task_id: worker_lines(worker, task_id=t, status="succeeded"),
                   timeout=60, what=f"{name} to run")  # fmt: skip
    assert_granted(recording, "EventWorkerTaskRole", names, s3)


def test_the_stats_worker_role_grants_what_the_stats_worker_does(
    role_worker, settings, names, recording, s3, client, auth, engine
):
    worker = role_worker("StatsWorkerTaskRole", [settings.stats_queue])
    user = f"iam-stats-{uuid.uuid4().hex[:8]}"
    assert client.post("/v1/trades", json=trade_body(), headers=auth(user)).status_code == 201
    wait_until(lambda: worker_lines(worker, status="succeeded"), timeout=60,
               what="a stats rebuild")  # fmt: skip
    # An import, and one whose file was erased before it ran (a 404, not a 403).
    imported = client.post(
        "/v1/imports", data={"file": (io.BytesIO(FILLS), "fills.csv"), "format": "fluxa-csv"},
        headers=auth(user), content_type="multipart/form-data",
    ).get_json()  # fmt: skip
    gone = str(uuid.uuid4())
    with transaction(engine) as conn:
        imports_repository.insert_import(conn, {
            "id": gone, "user_id": user, "format": "fluxa-csv", "account": "",
            "object_key": import_key(user, gone, "csv"), "size": 1,
        })  # fmt: skip
    make_celery(settings).send_task(
        TaskName.RUN_IMPORT, kwargs={"import_id": gone}, queue=settings.stats_queue
    )
    for import_id, status in ((imported["import_id"], "done"), (gone, "failed")):
        wait_until(
            lambda i=import_id, s=status: client.get(f"/v1/imports/{i}", headers=auth(user))
            .get_json()["status"] == s,
            timeout=60, what=f"import {import_id} {status}",
        )  # fmt: skip
    assert_granted(recording, "StatsWorkerTaskRole", names, s3)


def test_the_beat_role_grants_what_beat_sends(environ, engine, names, recording, s3, tmp_path):
    """A real beat, signing as its role: every job goes out the same way (the outbox sweep,
    every 2 s here, is the first to be due)."""
    leases.release(engine, LEASE_NAME, "")
    beat = BeatProcess(child_environment({**environ, "AWS_ACCESS_KEY_ID": "BeatTaskRole"}),
                       tmp_path, "beat")  # fmt: skip
    try:
        wait_until(
            lambda: any(r.name == "SQS SendMessage" for r in signed_by(recording, "BeatTaskRole")),
            timeout=60,
            what="beat to send a due job",
        )
    finally:
        beat.kill()
    assert_granted(recording, "BeatTaskRole", names, s3)


def test_the_setup_role_grants_what_setup_check_does(monkeypatch, environ, names, recording, s3):
    as_role(monkeypatch, "SetupTaskRole")
    result = CliRunner(env=environ).invoke(main, ["setup", "--check"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_granted(recording, "SetupTaskRole", names, s3)


@pytest.fixture
def replayable_dead_letter(client, worker, settings, sqs, queue_url, test_database) -> str:
    """A large event (claim-checked by the API) dead-lettered by a database outage: the
    DLQ emptied first, so that the replay below moves this letter only."""
    dlq = queue_url(settings.dead_letter_queue)
    empty(sqs, dlq)
    test_database.proxy.refuse()
    try:
        body = event_body(payload={"blob": "z" * 20_000})
        event_id = client.post("/v1/events", json=body).get_json()["event_id"]
        (dead,) = wait_for_dead_letter(sqs, dlq, event_id).kwargs["events"]
        assert dead["payload_ref"]["key"].startswith("claims/")  # replay refreshes it
    finally:
        test_database.proxy.restore()
    return event_id


@pytest.fixture
def pre_claims_event(engine, s3, settings) -> str:
    """A row of a release before claims were kept, for `fluxa events keep-claims`."""
    payload = {"blob": "k" * 20_000, "marker": uuid.uuid4().hex}
    row = pre_claims_row(payload)
    s3.put_object(Bucket=settings.payload_bucket, Key=row["archive_key"],
                  Body=canonical_of(payload))  # fmt: skip
    with transaction(engine) as conn:
        repository.insert_events(conn, [row])
    return row["event_id"]


@pytest.fixture
def journal_user(client, auth) -> str:
    """A user with a trade and an image, for `fluxa users erase`."""
    user = f"iam-erase-{uuid.uuid4().hex[:8]}"
    trade = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()
    uploaded_image(client, auth, user, trade["id"])
    return user


def test_the_operator_role_grants_the_runbooks_commands(
    monkeypatch,
    environ,
    names,
    recording,
    s3,
    engine,
    replayable_dead_letter,
    pre_claims_event,
    journal_user,
):
    """The runbook's commands and the upgrade's `events keep-claims`, as the operator task
    runs them: inspect, replay (for real: the letter goes back with its claim refreshed and
    is processed), trace, alarms, a stats rebuild, a user's erasure (images included)."""
    as_role(monkeypatch, "OperatorTaskRole")
    event_id = replayable_dead_letter
    for command in (
        ["dlq", "inspect", "--queue", "events", "--json"],
        ["dlq", "inspect", "--queue", "stats", "--json"],
        ["dlq", "replay", "--queue", "events", "--dry-run"],
        ["dlq", "replay", "--queue", "events"],
        ["trace", event_id],
        ["alarms", "--json"],
        ["stats", "rebuild", "--user", f"iam-operator-{uuid.uuid4().hex[:6]}"],
        ["events", "keep-claims", "--dry-run"],
        ["events", "keep-claims"],
        ["users", "erase", "--user", journal_user],
    ):
        result = CliRunner(env=environ).invoke(main, command, catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output  # 1: a DLQ not drained, an alarm
    wait_for_rows(engine, [event_id])  # the replayed letter was processed
    with engine.connect() as conn:  # keep-claims moved the old row's payload to archive/
        moved = conn.execute(select(events.c.archive_key).where(
            events.c.event_id == pre_claims_event)).scalar_one()  # fmt: skip
    assert moved.startswith("archive/")
    assert_granted(recording, "OperatorTaskRole", names, s3)
