"""Beat leadership, the scheduled jobs' effects, and orphan-image clean-up, on real parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from sqlalchemy import text, update

from broker.app import make_celery
from fluxa.infra import leases
from fluxa.infra.db import make_engine, transaction
from fluxa.messages.tasks import TaskName
from fluxa.stats.models import trade_stats
from fluxa.stats.relay import StatsRelay
from fluxa.trades import repository as trades_repository
from fluxa.trades.images import S3ImageStore, delete_orphans
from launcher.waiting import wait_until
from tests.integration.helpers import worker_lines
from tests.support.trades import trade_body, uploaded_image
from workers.beat import LeaderElectedScheduler

pytestmark = pytest.mark.integration


def test_only_one_lease_holder_until_it_expires(engine):
    name = f"lease-{uuid.uuid4().hex[:8]}"
    ttl = dt.timedelta(seconds=30)
    assert leases.acquire(engine, name, "a", ttl)
    assert not leases.acquire(engine, name, "b", ttl)
    assert leases.acquire(engine, name, "a", ttl)  # renewal
    assert leases.acquire(engine, name, "a", dt.timedelta(seconds=-1))  # lapse it
    assert leases.acquire(engine, name, "b", ttl)
    leases.release(engine, name, "b")
    assert leases.acquire(engine, name, "c", ttl)


def test_two_beats_elect_one_leader_and_the_follower_never_sends(settings, tmp_path):
    sent: list[str] = []

    class Recording(LeaderElectedScheduler):
        def apply_async(self, entry, producer=None, advance=True, **kwargs):
            sent.append(f"{self.holder}:{entry.name}")
            return None

    app = make_celery(dataclasses.replace(settings, broker_url="memory://"))
    app.conf.beat_schedule = {
        "every-second": {"task": "fluxa.stats.sweep_outbox", "schedule": dt.timedelta(seconds=1)}
    }
    leases.release(make_engine(settings.database_url), "celery-beat", "")  # no-op if none
    first = Recording(app=app, schedule_filename=str(tmp_path / "a"))
    second = Recording(app=app, schedule_filename=str(tmp_path / "b"))
    try:
        wait_until(
            lambda: (first.tick(), second.tick()) and (first.is_leader != second.is_leader),
            timeout=40,
            interval=0.5,
            what="one leader",
        )
        leader, follower = (first, second) if first.is_leader else (second, first)
        wait_until(
            lambda: (leader.tick(), follower.tick(), len(sent) >= 2)[-1],
            timeout=10,
            interval=0.5,
            what="the leader to send twice",
        )
        assert sent and all(s.startswith(leader.holder) for s in sent)
    finally:
        first.close()
        second.close()


def test_rebuild_all_repairs_stats_only_it_can_reach(settings, client, auth, engine, worker):
    """Stats wrong without an outbox mark: no trade write, throttle or sweep would touch
    them. Only the scheduled rebuild-all, run by the real worker, brings them back."""
    users = [f"user-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for user in users:
        assert client.post("/v1/trades", json=trade_body(), headers=auth(user)).status_code == 201
    for user in users:
        wait_until(lambda u=user: current(client, auth, u), what=f"{user}'s first rebuild")
    truth = {u: current(client, auth, u) for u in users}
    with transaction(engine) as conn:  # corrupt them behind the outbox's back
        conn.execute(
            update(trade_stats)
            .where(trade_stats.c.user_id.in_(users))
            .values(stats=trade_stats.c.stats.op("||")(text("""'{"total_trades": 999}'::jsonb""")))
        )
    assert all(current(client, auth, u)["total_trades"] == 999 for u in users)

    make_celery(settings).send_task(TaskName.REBUILD_ALL_STATS, queue=settings.maintenance_queue)
    for user in users:
        wait_until(
            lambda u=user: (s := current(client, auth, u)) and s["total_trades"] == 1 and s,
            timeout=60,
            what=f"{user} repaired by rebuild-all",
        )
        assert without_meta(current(client, auth, user)) == without_meta(truth[user])
    assert worker_lines(worker, message="rebuild-all fanned out")


def test_request_counts_the_users_it_published(settings, engine):
    published: list[dict] = []

    class Recording:
        def publish(self, name, kwargs, **options):
            published.append(kwargs)

    users = [f"user-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    relay = StatsRelay(engine, Recording(), queue=settings.stats_queue)
    assert relay.request(users) == 3 and len(published) == 1
    # A rebuild is already on its way for each of them: nothing more is sent or counted.
    assert relay.request(users) == 0 and len(published) == 1


def current(client, auth, user) -> dict | None:
    stats = client.get("/v1/stats", headers=auth(user)).get_json()
    return stats if stats["computed_at"] and not stats["stale"] else None


def without_meta(stats: dict) -> dict:
    return {k: v for k, v in stats.items() if k not in {"computed_at", "watermark", "stale"}}


def test_orphaned_images_are_deleted_after_the_grace_period(client, auth, engine, s3, settings):
    user = f"user-{uuid.uuid4().hex[:8]}"
    trade_id = client.post("/v1/trades", json=trade_body(), headers=auth(user)).get_json()["id"]
    kept, dropped, never_attached = (uploaded_image(client, auth, user, trade_id) for _ in range(3))
    client.patch(
        f"/v1/trades/{trade_id}", json={"images": [kept, dropped], "version": 1}, headers=auth(user)
    )
    client.patch(
        f"/v1/trades/{trade_id}", json={"images": [kept], "version": 2}, headers=auth(user)
    )
    store = S3ImageStore(s3, settings.image_bucket)

    def referenced(keys):
        with engine.connect() as conn:
            return trades_repository.referenced_images(conn, keys)

    delete_orphans(store, referenced, grace=dt.timedelta(hours=1))
    assert all(
        (store.stored(k) is not None) for k in (kept, dropped, never_attached)
    )  # within grace

    delete_orphans(
        store,
        referenced,
        grace=dt.timedelta(0),
        now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
    )
    assert store.stored(kept) is not None
    assert not (store.stored(dropped) is not None) and not (
        store.stored(never_attached) is not None
    )
