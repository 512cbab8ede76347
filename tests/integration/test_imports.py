"""Broker imports end to end: the API keeps the file in S3 and queues it, the suite's real
worker reads it and writes trades, stats follow. Expected figures come from the sample
files' cash flows worked out by hand (tests/unit/test_broker_files.py shows the sums)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker.app import make_celery
from fluxa.imports import repository as imports_repository
from fluxa.imports.files import import_key
from fluxa.imports.models import import_fills, imports
from fluxa.imports.service import MAX_IMPORT_BYTES
from fluxa.infra.db import transaction
from fluxa.messages.tasks import TaskName
from launcher.waiting import wait_until
from tests.integration.helpers import fluxa
from tests.integration.test_stats_pipeline import new_user, wait_current

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).parents[1] / "data" / "imports"


def post_import(client, headers, data: bytes, fmt: str, name: str = "fills.csv", **form: str):
    return client.post(
        "/v1/imports",
        data={"file": (io.BytesIO(data), name), "format": fmt, **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def finished(client, headers, location: str, timeout: float = 60) -> dict:
    def done():
        body = client.get(location, headers=headers).get_json()
        return body if body["status"] in ("done", "failed") else None

    return wait_until(done, timeout=timeout, interval=0.2, what=f"import {location} to finish")


def import_file(client, headers, name: str, fmt: str, **form: str) -> dict:
    response = post_import(client, headers, (SAMPLES / name).read_bytes(), fmt, name, **form)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    return finished(client, headers, response.headers["Location"])


def trades_of(client, headers, **query: str) -> list[dict]:
    response = client.get("/v1/trades", query_string={"limit": 200, **query}, headers=headers)
    assert response.status_code == 200
    return response.get_json()["items"]


@pytest.mark.parametrize(
    ("name", "fmt", "fills", "rejected_lines", "account", "net"),
    [
        ("ibkr-flex.xml", "ibkr-flex", 7, [13, 14], "U1234567", "1298"),  # 282 + 1016
        # 35.88 + 295
        ("tradovate-fills.csv", "tradovate-fills", 5, [7, 8], "APEX-55120", "330.88"),
        ("fluxa.csv", "fluxa-csv", 3, [5], "U7654321", "127"),  # 97.5 + 29.5
    ],
)  # fmt: skip
def test_a_brokers_file_becomes_trades_and_stats(
    worker, client, auth, name, fmt, fills, rejected_lines, account, net
):
    user = new_user()
    headers = auth(user)
    result = import_file(client, headers, name, fmt)
    assert result["status"] == "done", result
    assert result["fills"] == fills and result["duplicates_skipped"] == 0
    assert [row["line"] for row in result["rejected"]] == rejected_lines
    assert result["rejected_rows"] == len(rejected_lines)
    trades = trades_of(client, headers, account=account)
    assert len(trades) == result["trades_created"] > 0
    stats = wait_current(client, auth, user)
    assert Decimal(stats["net_pnl"]) == Decimal(net)

    again = import_file(client, headers, name, fmt)
    assert (again["status"], again["duplicates_skipped"], again["trades_created"]) == (
        "done", fills, 0)  # fmt: skip
    assert trades_of(client, headers, account=account) == trades


def test_overlapping_imports_at_once_make_each_fill_once(worker, client, auth, engine):
    """Two pieces of one file that share rows, sent together, make what the whole file
    makes; the fills table holds each execution once."""
    lines = ["executed_at,account,symbol,side,quantity,price,fees,execution_id"]
    t0 = dt.datetime(2026, 4, 1, 14, tzinfo=dt.UTC)
    for i in range(40):
        side = "buy" if i % 4 < 2 else "sell"
        at = (t0 + dt.timedelta(minutes=i)).isoformat()
        lines.append(f"{at},ACC-1,SPY,{side},{1 + i % 3},{500 + i},0.1,x-{i}")
    whole = "\n".join(lines).encode()
    first = "\n".join(lines[:1] + lines[1:28]).encode()
    second = "\n".join(lines[:1] + lines[14:]).encode()
    one, two = new_user(), new_user()
    with ThreadPoolExecutor(2) as pool:
        sent = list(pool.map(
            lambda part: post_import(client, auth(one), part, "fluxa-csv"), (first, second)
        ))  # fmt: skip
    results = [finished(client, auth(one), r.headers["Location"]) for r in sent]
    assert [r["status"] for r in results] == ["done", "done"]
    assert sum(r["fills"] - r["duplicates_skipped"] for r in results) == 40
    import_file_data = post_import(client, auth(two), whole, "fluxa-csv")
    assert finished(client, auth(two), import_file_data.headers["Location"])["status"] == "done"

    def shape(user):
        return sorted(
            (t["entered_at"], t["side"], t["quantity"], t["entry_price"], t["exit_price"],
             t["fees"], tuple((c["quantity"], c["price"]) for c in t["partial_closes"]))
            for t in trades_of(client, auth(user))
        )  # fmt: skip

    assert shape(one) == shape(two)
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(import_fills).where(import_fills.c.user_id == one)
        ).scalar_one()
    assert stored == 40


def test_a_file_not_of_its_format_fails_with_a_reason(worker, client, auth):
    headers = auth(new_user())
    result = import_file(client, headers, "ibkr-flex.xml", "tradovate-fills")
    assert result["status"] == "failed"
    assert "not UTF-8" not in result["reason"] and "Tradovate" in result["reason"]
    assert trades_of(client, headers) == []


@pytest.mark.parametrize(
    ("data", "form", "status", "field"),
    [
        (b"x" * (MAX_IMPORT_BYTES + 1), {"format": "fluxa-csv"}, 413, "file"),
        (b"a,b\n", {"format": "metatrader"}, 400, "format"),
        (b"a,b\n", {"format": "fluxa-csv", "timezone": "Mars/Olympus"}, 400, "timezone"),
        (b"a,b\n", {"format": "fluxa-csv", "account": "no spaces allowed"}, 400, "account"),
        (b"a,b\n", {"format": "fluxa-csv", "colour": "red"}, 400, "colour"),
    ],
)
def test_a_bad_upload_is_a_problem_naming_its_field(
    client, auth, engine, data, form, status, field
):
    user = new_user()
    response = client.post(
        "/v1/imports", data={"file": (io.BytesIO(data), "f.csv"), **form},
        headers=auth(user), content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert field in response.get_json().get("errors", response.get_json().get("detail", {}))
    with engine.connect() as conn:
        assert conn.execute(select(imports.c.id).where(imports.c.user_id == user)).all() == []


def test_an_upload_without_a_file_part_or_as_json_is_refused(client, auth):
    headers = auth(new_user())
    no_file = client.post("/v1/imports", data={"format": "fluxa-csv"}, headers=headers,
                          content_type="multipart/form-data")  # fmt: skip
    assert no_file.status_code == 400 and "file" in no_file.get_json()["errors"]
    as_text = client.post("/v1/imports", data={"file": "a,b", "format": "fluxa-csv"},
                          headers=headers, content_type="multipart/form-data")  # fmt: skip
    assert as_text.status_code == 400 and "file" in as_text.get_json()["errors"]
    as_json = client.post("/v1/imports", json={"format": "fluxa-csv"}, headers=headers)
    assert as_json.status_code == 415


def test_an_idempotency_key_makes_one_import(worker, client, auth):
    headers = {**auth(new_user()), "Idempotency-Key": uuid.uuid4().hex}
    data = (SAMPLES / "fluxa.csv").read_bytes()
    first = post_import(client, headers, data, "fluxa-csv")
    again = post_import(client, headers, data, "fluxa-csv")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.get_json()["import_id"] == again.get_json()["import_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post_import(client, headers, data + b"\n", "fluxa-csv")
    assert other.status_code == 422
    listed = client.get("/v1/imports", headers=headers).get_json()["items"]
    assert [i["import_id"] for i in listed] == [first.get_json()["import_id"]]


def test_imports_are_listed_newest_first_and_seen_only_by_their_user(worker, client, auth):
    user = new_user()
    ids = []
    for _ in range(3):
        response = post_import(
            client, auth(user), (SAMPLES / "fluxa.csv").read_bytes(), "fluxa-csv"
        )
        ids.append(response.get_json()["import_id"])
    page = client.get("/v1/imports?limit=2", headers=auth(user)).get_json()
    rest = client.get(f"/v1/imports?cursor={page['next_cursor']}", headers=auth(user)).get_json()
    assert [i["import_id"] for i in page["items"] + rest["items"]] == ids[::-1]
    assert client.get(f"/v1/imports/{ids[0]}", headers=auth(new_user())).status_code == 404
    assert client.get("/v1/imports/not-an-id", headers=auth(user)).status_code == 404


def queued_row(engine, user: str, key: str, age: dt.timedelta, **state: object) -> str:
    """An import row as the API commits it, untouched for `age` (and in `state`)."""
    import_id = str(uuid.uuid4())
    with transaction(engine) as conn:
        imports_repository.insert_import(conn, {
            "id": import_id, "user_id": user, "format": "fluxa-csv", "account": "",
            "timezone": None, "object_key": key, "size": 1,
        })  # fmt: skip
        conn.execute(
            imports.update().where(imports.c.id == import_id)
            .values(updated_at=dt.datetime.now(dt.UTC) - age, **state)
        )  # fmt: skip
    return import_id


def test_a_file_gone_before_its_import_ran_fails_the_import(worker, settings, engine, client, auth):
    user = new_user()
    import_id = queued_row(engine, user, import_key(user, "never-stored", "csv"), dt.timedelta(0))
    make_celery(settings).send_task(
        TaskName.RUN_IMPORT, kwargs={"import_id": import_id}, queue=settings.stats_queue
    )
    result = finished(client, auth(user), f"/v1/imports/{import_id}")
    assert (result["status"], result["reason"]) == ("failed", "The uploaded file is gone.")


def test_the_sweep_sends_an_import_whose_message_never_left(
    worker, settings, engine, s3, client, auth
):
    """The API committed the import and the broker refused the message: beat's sweep
    sends it once it has waited longer than a message could."""
    user = new_user()
    key = import_key(user, "late", "csv")
    s3.put_object(Bucket=settings.image_bucket, Key=key, Body=(SAMPLES / "fluxa.csv").read_bytes())
    import_id = queued_row(engine, user, key, dt.timedelta(hours=2))
    make_celery(settings).send_task(TaskName.SWEEP_IMPORTS, queue=settings.maintenance_queue)
    result = finished(client, auth(user), f"/v1/imports/{import_id}")
    assert (result["status"], result["trades_created"]) == ("done", 2)


def test_the_sweep_runs_an_import_left_running_and_fails_one_that_ran_too_often(
    worker, settings, engine, s3, client, auth
):
    """An import whose message was dead-lettered (or lost) mid-run is not left `running`:
    the sweep sends it again; one that began three messages' worth of runs fails with why."""
    user = new_user()
    age, body = dt.timedelta(hours=2), (SAMPLES / "fluxa.csv").read_bytes()
    keys = [import_key(user, name, "csv") for name in ("dead-lettered", "kills-workers")]
    for key in keys:
        s3.put_object(Bucket=settings.image_bucket, Key=key, Body=body)
    most = 3 * (settings.retry_max_retries + 1)
    left = queued_row(engine, user, keys[0], age, status="running", attempts=most - 1)
    spent = queued_row(engine, user, keys[1], age, status="running", attempts=most)
    make_celery(settings).send_task(TaskName.SWEEP_IMPORTS, queue=settings.maintenance_queue)
    result = finished(client, auth(user), f"/v1/imports/{left}")
    assert (result["status"], result["trades_created"]) == ("done", 2)
    given_up = finished(client, auth(user), f"/v1/imports/{spent}")
    assert given_up["status"] == "failed" and given_up["fills"] == 0
    assert given_up["reason"] == f"The import did not complete in {most} attempts."


def test_erasure_removes_imports_their_fills_and_files(
    worker, client, auth, engine, s3, settings, environ
):
    user = new_user()
    assert import_file(client, auth(user), "fluxa.csv", "fluxa-csv")["status"] == "done"
    prefix = f"users/{user}/imports/"
    assert s3.list_objects_v2(Bucket=settings.image_bucket, Prefix=prefix)["KeyCount"] == 1
    output = fluxa(environ, "users", "erase", "--user", user)
    assert "imports: 1" in output and "imported fills: 3" in output
    with engine.connect() as conn:
        for table in (imports, import_fills):
            count = select(func.count()).select_from(table).where(table.c.user_id == user)
            assert conn.execute(count).scalar_one() == 0
    assert s3.list_objects_v2(Bucket=settings.image_bucket, Prefix=prefix)["KeyCount"] == 0


def test_an_export_imported_into_a_new_user_gives_the_same_stats(worker, client, auth):
    """The round trip runbook §5 relies on: GET /v1/trades/export, then POST /v1/imports."""
    one, two = new_user(), new_user()
    for name, fmt in (("ibkr-flex.xml", "ibkr-flex"), ("tradovate-fills.csv", "tradovate-fills")):
        assert import_file(client, auth(one), name, fmt)["status"] == "done"
    exported = client.get("/v1/trades/export?format=csv", headers=auth(one))
    assert exported.status_code == 200
    response = post_import(client, auth(two), exported.get_data(), "fluxa-csv", "export.csv")
    result = finished(client, auth(two), response.headers["Location"])
    assert (result["status"], result["rejected_rows"]) == ("done", 0)

    def figures(user):
        stats = wait_current(client, auth, user)
        return {k: v for k, v in stats.items() if k not in {"computed_at", "watermark", "stale"}}

    assert figures(two) == figures(one)
