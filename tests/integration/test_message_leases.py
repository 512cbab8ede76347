"""A worker's lease on what it holds (broker/message_leases.py), on a real worker and SQS.

The worker here receives with a 2 s lease, on queues whose own visibility timeout is the
suite's 10 s (raised to 10 minutes where a test shows what a crash costs). A task that runs
for many leases must run once; a worker killed mid-task must see its message delivered
again within about a lease, not the queue's visibility timeout.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from broker.app import make_celery
from launcher.waiting import wait_until
from tests.integration.helpers import worker_lines
from tests.support.poison_tasks import TAKES_ITS_TIME
from tests.support.sqs import queue_visibility
from tests.support.worker import WorkerProcess

pytestmark = pytest.mark.integration

LEASE_SECONDS = 2


@pytest.fixture
def leased_worker(worker_process: WorkerProcess, tmp_path) -> Iterator[WorkerProcess]:
    """A worker of short leases and long tasks, alone on the queues."""
    worker_process.stop()
    env = {
        **worker_process.env,
        "FLUXA_SQS_LEASE_SECONDS": str(LEASE_SECONDS),
        "FLUXA_TASK_TIME_LIMIT": "60",
        # For the settings check only: this worker's receives are leased, so the queue's
        # own visibility timeout never applies to what it holds.
        "FLUXA_SQS_VISIBILITY_TIMEOUT": "120",
    }
    leased = WorkerProcess(env, tmp_path / "worker.log", worker_process.queues,
                           include=worker_process.include)  # fmt: skip
    leased.start()
    yield leased
    leased.stop()


def send_long_task(settings, seconds: float) -> str:
    task_id = str(uuid.uuid4())
    make_celery(settings).send_task(
        TAKES_ITS_TIME, kwargs={"seconds": seconds}, queue=settings.input_queue, task_id=task_id
    )
    return task_id


def test_a_task_running_for_many_leases_runs_once(leased_worker, settings, strict_sqs):
    # 12 s: six leases, and longer than the queue's own 10 s visibility timeout. Sent with
    # no 5xx: one after the effect, retried, would send a second copy that runs on its own.
    with strict_sqs.rates(server_errors=0.0):
        task_id = send_long_task(settings, 12)
    wait_until(
        lambda: worker_lines(leased_worker, task_id=task_id, status="succeeded"),
        timeout=60,
        what="the long task to succeed",
    )
    # Unrenewed, the message would be delivered again after 2 s to the idle pool child.
    assert len(worker_lines(leased_worker, task_id=task_id, status="started")) == 1
    assert not worker_lines(leased_worker, logger="broker.message_leases")


def test_a_killed_workers_message_comes_back_within_a_lease(
    leased_worker, settings, sqs, queue_url
):
    with queue_visibility(sqs, queue_url(settings.input_queue), 600):
        task_id = send_long_task(settings, 1)
        wait_until(
            lambda: worker_lines(leased_worker, task_id=task_id, status="started"),
            what="the task to start",
        )
        leased_worker.kill()  # the whole process group, mid-task: nothing acknowledged
        killed = time.monotonic()
        leased_worker.start()
        wait_until(
            lambda: worker_lines(leased_worker, task_id=task_id, status="succeeded"),
            timeout=120,
            what="the task delivered again and run",
        )
        came_back = time.monotonic() - killed
    # Not the queue's 10 minutes: the lease's 2 s, plus the new worker's start and a poll.
    assert came_back < 60, came_back
    print(f"LEASE-FIGURES killed worker's message run again {came_back:.1f} s after the kill")
