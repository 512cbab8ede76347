"""`fluxa users erase`: a journal user's trades, partial closes, images, stats and trails
go, another user's stay, a run cut off by an S3 outage is finished by the next, and a
stats rebuild queued before the erasure does not bring the user's stats back."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli.main import main
from fluxa.stats.models import trade_stats
from fluxa.stats.rebuild import rebuild_user
from fluxa.trades.images import S3ImageStore, user_prefix
from fluxa.trades.models import trades
from fluxa.trades.trail import work_trail
from launcher.waiting import wait_until
from tests.support.trades import closed_body, trade_body, uploaded_image

pytestmark = pytest.mark.integration

CLOSE = {"quantity": "4", "price": "110", "closed_at": "2026-03-02T15:00:00Z"}


def journal(client, auth, user: str) -> list[str]:
    """Two trades (one with a partial close), an attached image and an orphan one."""
    headers = auth(user)
    first = client.post("/v1/trades", json=trade_body(partial_closes=[CLOSE]), headers=headers)
    second = client.post("/v1/trades", json=closed_body("120"), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201), first.get_json()
    trade = second.get_json()
    attached = uploaded_image(client, auth, user, trade["id"])
    patched = client.patch(f"/v1/trades/{trade['id']}", json={"images": [attached], "version": 1},
                           headers=headers)  # fmt: skip
    assert patched.status_code == 200, patched.get_json()
    orphan = uploaded_image(client, auth, user, trade["id"])
    return [attached, orphan]


def count(engine, table, where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()


def erase(environ, user: str, s3_proxy=None):
    """The command, its S3 reached through `s3_proxy` when given (to cut it)."""
    env = dict(environ)
    if s3_proxy is not None:
        env["FLUXA_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{s3_proxy.port}"
    return CliRunner(env=env).invoke(main, ["users", "erase", "--user", user])


def test_erasure_removes_one_user_and_finishes_after_an_outage(
    client, auth, engine, s3, settings, environ, s3_proxy, worker
):
    user, other = (f"erase-{uuid.uuid4().hex[:8]}" for _ in range(2))
    images = S3ImageStore(s3, settings.image_bucket)
    keys = journal(client, auth, user)
    kept = journal(client, auth, other)
    wait_until(lambda: count(engine, trade_stats, trade_stats.c.user_id == user), timeout=60,
               what="the user's stats")  # fmt: skip

    s3_proxy.refuse()  # the rows go, then the objects cannot: the run stops, says why
    try:
        cut = erase(environ, user, s3_proxy)
    finally:
        s3_proxy.restore()
    assert cut.exit_code == 1 and "StorageUnavailable" in cut.output, cut.output
    assert count(engine, trades, trades.c.user_id == user) == 0
    assert all(images.stored(key) is not None for key in keys)

    finished = erase(environ, user, s3_proxy)
    assert finished.exit_code == 0, finished.output
    assert "trades: 0" in finished.output and "images: 2" in finished.output
    assert list(images.pages_under(user_prefix(user))) == []
    again = erase(environ, user)
    assert all(line.endswith(": 0") for line in again.output.splitlines()[1:]), again.output

    rebuild_user(engine, user)  # one queued before the erasure, run after it
    assert count(engine, trade_stats, trade_stats.c.user_id == user) == 0
    assert count(engine, work_trail, work_trail.c.subject == user) == 0
    listed = client.get("/v1/trades", headers=auth(user)).get_json()
    assert listed["items"] == []
    assert count(engine, trades, trades.c.user_id == other) == 2  # the other user keeps all
    assert all(images.stored(key) is not None for key in kept)


def test_the_first_run_says_what_it_removed(client, auth, environ):
    user = f"erase-{uuid.uuid4().hex[:8]}"
    journal(client, auth, user)
    result = erase(environ, user)
    assert result.exit_code == 0, result.output
    said = dict(line.strip().split(": ") for line in result.output.splitlines()[1:])
    assert said["trades"] == "2" and said["partial closes"] == "1" and said["images"] == "2"
    assert said["trail rows"] != "0"
