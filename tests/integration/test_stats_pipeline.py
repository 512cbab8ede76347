"""Trade writes → outbox → relay → worker → trade_stats, on real parts and under faults."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import threading
import time
import uuid
from fractions import Fraction

import pytest

from api.app import create_app
from broker.app import make_celery
from fluxa.errors import ErrorCode
from fluxa.infra.db import transaction
from fluxa.messages.tasks import TaskName
from fluxa.stats import outbox
from fluxa.stats import repository as stats_repository
from fluxa.stats.calculator import calculate
from fluxa.stats.rebuild import rebuild_user, rebuild_users
from fluxa.trades import repository as trades_repository
from launcher.waiting import wait_until
from tests.integration.helpers import fluxa, worker_lines
from tests.support.sqs import receive_all
from tests.support.trades import closed_body, trade_body

pytestmark = pytest.mark.integration


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def stats_of(client, auth, user):
    response = client.get("/v1/stats", headers=auth(user))
    assert response.status_code == 200
    return response.get_json()


def expected_stats(engine, user):
    with engine.connect() as conn:
        return calculate(trades_repository.stream_for_user(conn, user))


def wait_current(client, auth, user, timeout=30):
    return wait_until(
        lambda: (s := stats_of(client, auth, user)) and s["computed_at"] and not s["stale"] and s,
        timeout=timeout,
        what=f"current stats for {user}",
    )


def without_meta(stats):
    return {k: v for k, v in stats.items() if k not in {"computed_at", "watermark", "stale"}}


def test_a_trade_write_updates_the_stats(client, auth, worker, engine):
    user = new_user()
    client.post("/v1/trades", json=closed_body("112"), headers=auth(user))
    client.post("/v1/trades", json=closed_body("97", symbol="MSFT"), headers=auth(user))
    stats = wait_current(client, auth, user)
    assert stats["closed_trades"] == 2 and stats["wins"] == 1 and stats["losses"] == 1
    assert stats["net_pnl"] == "87.5"  # (12 − 3) × 10 − 2 × 1.25
    assert without_meta(stats) == expected_stats(engine, user)


def test_stats_of_two_users_never_mix(client, auth, worker):
    alice, bob = new_user(), new_user()
    client.post("/v1/trades", json=closed_body("150"), headers=auth(alice))
    client.post("/v1/trades", json=closed_body("50"), headers=auth(bob))
    a, b = wait_current(client, auth, alice), wait_current(client, auth, bob)
    assert (a["total_trades"], a["wins"], a["net_pnl"]) == (1, 1, "498.75")
    assert (b["total_trades"], b["losses"], b["net_pnl"]) == (1, 1, "-501.25")


def test_amounts_at_the_storage_limits_give_exact_stats(client, auth, worker, engine):
    # The largest amounts a trade may hold make a 57-digit P&L: once a rebuild rounded it
    # to 28 digits and then failed on its ratios (InvalidOperation), every time.
    user, most = new_user(), "999999999999999999.9999999999"
    body = closed_body(most, quantity=most, entry_price="0.0000000001", fees=most)
    created = client.post("/v1/trades", json=body, headers=auth(user))
    assert created.status_code == 201, created.get_json()
    net = (Fraction(most) - Fraction("0.0000000001")) * Fraction(most) - Fraction(most)
    assert Fraction(created.get_json()["realized_pnl"]) == net
    stats = wait_current(client, auth, user)
    assert Fraction(stats["net_pnl"]) == net and Fraction(stats["avg_win"]) == round(net, 6)
    assert without_meta(stats) == expected_stats(engine, user)


def test_a_burst_of_writes_coalesces_into_few_rebuilds(client, auth, worker, engine, settings):
    user = new_user()
    trade_id = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()["id"]
    burst_started = time.monotonic()
    for version in range(1, 41):
        response = client.patch(
            f"/v1/trades/{trade_id}",
            json={"notes": f"n{version}", "version": version},
            headers=auth(user),
        )
        assert response.status_code == 200
    burst = time.monotonic() - burst_started
    stats = wait_current(client, auth, user)
    assert stats["watermark"] == 41  # one create + 40 updates
    rebuilds = worker_lines(worker, message="stats rebuilt", user_id=user)
    # Throttled: at most about one rebuild per throttle period of the burst, whatever the
    # machine's speed; and far fewer than the 41 writes.
    bound = math.ceil(burst / settings.stats_throttle_seconds) + 2
    assert 1 <= len(rebuilds) <= min(bound, 20), (len(rebuilds), round(burst, 2))
    assert without_meta(stats) == expected_stats(engine, user)


def test_trace_follows_trade_writes_through_the_throttle_to_their_rebuilds(
    settings, auth, worker, environ
):
    """A create after a quiet spell is published at once; an update right after its rebuild
    waits out the throttle; a second update meanwhile is coalesced into that rebuild. Each
    correlation id's trace shows it, the coalesced one naming the covering rebuild's id.
    The API here throttles for 3 s: with the suite's 1 s, a slow moment between the
    rebuild and the update (SQS through the strict layer) let the period pass."""
    period = 3.0  # the most the suite's visibility timeout allows (settings check)
    client = create_app(dataclasses.replace(settings, stats_throttle_seconds=period)).test_client()
    user = new_user()
    created = client.post("/v1/trades", json=trade_body(), headers=auth(user))
    wait_current(client, auth, user)
    trade_url = f"/v1/trades/{created.get_json()['id']}"
    first = client.patch(trade_url, json={"notes": "a", "version": 1}, headers=auth(user))
    second = client.patch(trade_url, json={"notes": "b", "version": 2}, headers=auth(user))
    assert wait_current(client, auth, user)["watermark"] == 3
    ids = [r.headers["X-Correlation-ID"] for r in (created, first, second)]

    def trace(correlation_id):
        rows = json.loads(fluxa(environ, "trace", correlation_id, "--json"))
        return [(r["stage"], r["correlation_id"], r["detail"]) for r in rows]

    assert trace(ids[0]) == [
        ("trade_written", ids[0], {"user_id": user, "action": "created", "version": 1}),
        ("stats_marked_stale", ids[0], {"version": 1}),
        ("stats_rebuild_published", ids[0], {"delay_seconds": 0.0}),
        ("stats_rebuilt", ids[0], {"watermark": 1}),
    ]
    throttled = trace(ids[1])
    assert [stage for stage, _, _ in throttled] == [
        "trade_written", "stats_marked_stale", "stats_rebuild_published", "stats_rebuilt"
    ]  # fmt: skip
    assert 0 < throttled[2][2]["delay_seconds"] <= period  # the rest of the period
    assert throttled[3] == ("stats_rebuilt", ids[1], {"watermark": 3})
    assert trace(ids[2]) == [
        ("trade_written", ids[2], {"user_id": user, "action": "updated", "version": 3}),
        ("stats_marked_stale", ids[2], {"version": 3}),
        ("stats_rebuild_coalesced", ids[2], None),
        ("stats_rebuilt", ids[1], {"watermark": 3}),
    ]
    text = fluxa(environ, "trace", ids[2])
    assert f"by correlation {ids[1]}" in text and "watermark=3" in text


def test_rebuild_all_from_the_cli_reports_its_progress(client, auth, worker, environ, engine):
    user = new_user()
    client.post("/v1/trades", json=closed_body("120"), headers=auth(user))
    wait_current(client, auth, user)
    with engine.connect() as conn:
        users = outbox.user_count(conn)
    out = fluxa(environ, "stats", "rebuild", "--all")
    lines = out.splitlines()
    assert lines[0] == f"users: 0 of {users}" and f"users: {users} of {users}" in lines, out
    assert "rebuilds published for" in lines[-1]
    assert wait_current(client, auth, user)["watermark"] == 2  # rebuilt again, on request


def test_broker_down_during_a_write_still_catches_up(settings, auth, worker, engine, client):
    broken = dataclasses.replace(settings, sqs_endpoint_override="http://127.0.0.1:9")
    offline_api = create_app(broken).test_client()
    user = new_user()
    response = offline_api.post("/v1/trades", json=closed_body("130"), headers=auth(user))
    assert response.status_code == 201  # the write commits even though nothing was published
    assert stats_of(client, auth, user)["stale"] is True

    make_celery(settings).send_task(TaskName.SWEEP_STATS_OUTBOX, queue=settings.maintenance_queue)
    stats = wait_current(client, auth, user)
    assert stats["net_pnl"] == "298.75"


def test_on_demand_rebuild_and_admin_rebuild(client, auth, worker):
    user, other = new_user(), new_user()
    client.post("/v1/trades", json=closed_body("101"), headers=auth(other))
    first = wait_current(client, auth, other)

    own = client.post("/v1/stats/rebuild", json={}, headers=auth(user))
    assert own.status_code == 202 and own.get_json()["user_id"] == user
    forbidden = client.post("/v1/stats/rebuild", json={"user_id": other}, headers=auth(user))
    assert forbidden.status_code == 403
    admin = client.post(
        "/v1/stats/rebuild", json={"user_id": other}, headers=auth("ops", groups=("admin",))
    )
    assert admin.status_code == 202
    rebuilt = wait_until(
        lambda: (
            (s := stats_of(client, auth, other))["watermark"] > first["watermark"]
            and not s["stale"]
            and s
        ),
        what="the admin's rebuild",
    )
    assert without_meta(rebuilt) == without_meta(first)


def test_a_poison_stats_message_ends_in_the_stats_dlq(settings, worker, sqs, queue_url):
    task_id = str(uuid.uuid4())
    make_celery(settings).send_task(
        TaskName.REBUILD_USER_STATS,
        kwargs={"not_a_user": 1},
        queue=settings.stats_queue,
        task_id=task_id,
    )
    dlq = queue_url(settings.stats_dead_letter_queue)
    [dead] = wait_until(
        lambda: [m for m in receive_all(sqs, dlq) if m.task_id == task_id],
        timeout=40,
        interval=0.5,
        what="the poison message in StatsDLQ",
    )
    # Arguments that do not fit the task: malformed, dead-lettered at once (no retries).
    assert dead.envelope.error_code == ErrorCode.MALFORMED_MESSAGE
    assert dead.envelope.source_queue == settings.stats_queue
    assert dead.envelope.attempts == 1
    assert dead.kwargs == {"not_a_user": 1}


def test_concurrent_rebuilds_never_leave_an_older_result(client, auth, engine):
    user = new_user()
    trade_id = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()["id"]
    errors: list[BaseException] = []

    def rebuild_many():
        try:
            for _ in range(5):
                rebuild_user(engine, user)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=rebuild_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for version in range(1, 11):
        client.patch(
            f"/v1/trades/{trade_id}",
            json={"quantity": str(10 + version), "version": version},
            headers=auth(user),
        )
    for thread in threads:
        thread.join()
    assert not errors
    rebuild_user(engine, user)
    with engine.connect() as conn:
        stored = stats_repository.get(conn, user)
        assert stored.watermark == outbox.current_version(conn, user)
    assert stored.stats == expected_stats(engine, user)
    with transaction(engine) as conn:
        older = stats_repository.save_if_newer(
            conn, user, {"stale": 1}, stored.watermark - 1, dt.datetime.now(dt.UTC)
        )
    assert older is False


def test_overlapping_segments_rebuilt_at_once_end_exact_and_never_deadlock(client, auth, engine):
    users = sorted(new_user() for _ in range(6))
    for user in users:
        client.post("/v1/trades", json=trade_body(), headers=auth(user))
    segments = [users[:4], users[2:], [users[5], users[0]]]  # each shares users with another
    errors: list[BaseException] = []

    def rebuild_segment(segment: list[str]) -> None:
        try:
            for _ in range(5):
                rebuild_users(engine, segment)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=rebuild_segment, args=(s,)) for s in segments]
    for thread in threads:
        thread.start()
    for user in users:  # writes while the segments rebuild
        client.post(
            "/v1/trades",
            json=trade_body(exit_price="120", exited_at="2026-03-02T16:00:00Z"),
            headers=auth(user),
        )
    for thread in threads:
        thread.join()
    assert not errors
    outcomes = rebuild_users(engine, users)
    assert [o.user_id for o in outcomes] == users
    with engine.connect() as conn:
        for user in users:
            stored = stats_repository.get(conn, user)
            assert stored.watermark == outbox.current_version(conn, user)
            assert stored.stats == expected_stats(engine, user)
    assert not any(o.rebuilt for o in rebuild_users(engine, users))  # all current: skipped
