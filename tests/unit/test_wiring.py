"""Every task name, beat entry and queue is one the code knows."""

from __future__ import annotations

from broker.app import make_celery
from config import Settings
from fluxa.infra.queues import source_queues, topology
from fluxa.messages.tasks import TaskName
from workers.celery_app import make_worker_celery
from workers.schedule import beat_schedule

SETTINGS = Settings(broker_url="memory://")


def test_every_task_name_is_registered_in_the_worker_app():
    app = make_worker_celery(SETTINGS)
    app.loader.import_default_modules()
    names = {v for k, v in vars(TaskName).items() if not k.startswith("_")}
    assert names <= set(app.tasks)


def test_beat_entries_name_registered_tasks_on_known_queues():
    app = make_worker_celery(SETTINGS)
    app.loader.import_default_modules()
    schedule = beat_schedule(SETTINGS)
    assert set(schedule) == {
        "rebuild-all-stats",
        "sweep-stats-outbox",
        "cleanup-orphan-images",
        "purge-expired-idempotency-keys",
        "purge-old-trails",
        "maintain-event-partitions",
        "sweep-stale-imports",
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks
        assert entry["options"]["queue"] in source_queues(SETTINGS)


def test_routes_point_at_known_queues_and_dlqs_are_not_consumed():
    app = make_celery(SETTINGS)
    for route in app.conf.task_routes.values():
        assert route["queue"] in source_queues(SETTINGS)
    dead = {spec.name for spec in topology(SETTINGS) if spec.is_dead_letter}
    assert dead == {"Fluxa-DLQ", "StatsDLQ"}
    assert not dead & set(source_queues(SETTINGS))


def test_celery_is_configured_for_sqs_semantics():
    conf = make_celery(SETTINGS).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == SETTINGS.worker_prefetch_multiplier
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_on_failure_or_timeout is False
    assert conf.result_backend is None


def test_schedules_fire_when_the_runbooks_say():
    schedule = beat_schedule(SETTINGS)
    every_six_hours = schedule["rebuild-all-stats"]["schedule"]
    assert every_six_hours.hour == {0, 6, 12, 18} and every_six_hours.minute == {0}
    daily = schedule["cleanup-orphan-images"]["schedule"]
    assert len(daily.hour) == 1 and len(daily.minute) == 1
    assert (
        schedule["sweep-stats-outbox"]["schedule"].total_seconds() == SETTINGS.stats_sweep_seconds
    )


def test_worker_app_uses_the_leader_elected_beat_scheduler():
    conf = make_worker_celery(SETTINGS).conf
    assert conf.beat_scheduler == "workers.beat:LeaderElectedScheduler"
    assert set(conf.beat_schedule) == set(beat_schedule(SETTINGS))
