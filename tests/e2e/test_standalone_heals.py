"""The standalone heals everything it started: PostgreSQL's postmaster, the emulator and the
worker's process group are each SIGKILLed while events stream in; each comes back with
nobody acting, every event answered 202 is processed once, and no DLQ holds anything."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import boto3
import psutil
import pytest
import requests

from launcher.ports import free_port
from launcher.waiting import wait_until
from tests.e2e.test_standalone import other_shell, ready, start, stop, token, worker_of
from tests.e2e.test_standalone_durability import Sender, kill_everything, worker_log_lines
from tests.faults.figures import report
from tests.support.sqs import receive_raw

pytestmark = pytest.mark.e2e

#: The worker's lease, shorter than the default 60 s so that what the killed worker held
#: comes back within the test's patience (tests/integration/test_message_leases.py shows
#: the mechanism; the default only sets how long).
LEASE_SECONDS = "10"
STEP = 100  # events accepted between two faults, and after the last


def postmaster(data_dir: Path) -> psutil.Process | None:
    """The embedded PostgreSQL's postmaster, if one runs."""
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        if process.status() != psutil.STATUS_ZOMBIE:
            return process
    return None


def emulator_of(standalone: subprocess.Popen[bytes]) -> psutil.Process | None:
    """The standalone's SQS/S3 emulator, if one runs."""
    for child in psutil.Process(standalone.pid).children():
        with contextlib.suppress(psutil.Error):
            if "launcher.durable_emulator" in child.cmdline():
                return child
    return None


def kill_and_await_successor(
    what: str, find: Callable[[], psutil.Process | None], *, group: bool = False
) -> float:
    """SIGKILL the process `find` returns (its process group with `group`); wait for
    another to run; the seconds that took."""
    victim = wait_until(find, timeout=30, what=what)
    if group:
        os.killpg(victim.pid, signal.SIGKILL)
    else:
        victim.kill()
    killed = time.monotonic()
    wait_until(
        lambda: (p := find()) is not None and p.pid != victim.pid,
        timeout=90,
        interval=0.2,
        what=f"{what} restarted",
    )
    return time.monotonic() - killed


def await_more(sender: Sender, count: int, what: str) -> None:
    goal = len(sender.accepted) + count
    wait_until(lambda: len(sender.accepted) >= goal, timeout=120, interval=0.2, what=what)


def test_postgres_the_emulator_and_the_worker_killed_come_back_on_their_own(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    source = f"heals-{uuid.uuid4().hex[:8]}"
    process = start(tmp_path, port, {"FLUXA_SQS_LEASE_SECONDS": LEASE_SECONDS})
    restarts: dict[str, float] = {}
    try:
        wait_until(lambda: ready(base), timeout=120, interval=0.5, what="standalone to be ready")
        env = other_shell(tmp_path)
        headers = token(env, "heals", "fluxa/events.write", "fluxa/events.read")
        sender = Sender(base, headers, source, limit=100_000, keep_going=True)
        sender.start()
        await_more(sender, STEP, "events accepted before the faults")
        restarts["postgres"] = kill_and_await_successor("PostgreSQL", lambda: postmaster(tmp_path))
        await_more(sender, STEP, "events accepted after PostgreSQL came back")
        restarts["emulator"] = kill_and_await_successor(
            "the emulator", lambda: emulator_of(process)
        )
        await_more(sender, STEP, "events accepted after the emulator came back")
        restarts["worker"] = kill_and_await_successor(
            "the worker", lambda: worker_of(process), group=True
        )
        await_more(sender, STEP, "events accepted after the worker came back")
        sender.stopped.set()
        sender.join(timeout=30)
        started = time.monotonic()
        readable = wait_until(
            lambda: all_readable(base, headers, source, sender.accepted),
            timeout=180,
            interval=1,
            what="every accepted event processed",
        )
        caught_up = time.monotonic() - started
        dead = [
            raw
            for name in ("Fluxa-DLQ", "StatsDLQ")
            for raw in receive_raw(sqs_of(env), f"{env['FLUXA_SQS_QUEUE_URL_PREFIX']}/{name}")
        ]
        successes = Counter(
            line["event_id"]
            for line in worker_log_lines(tmp_path)
            if line.get("message") == "Successfully processed event"
        )
    except BaseException:
        kill_everything(psutil.Process(process.pid), tmp_path)
        raise
    output = stop(process)
    report(
        "standalone: PostgreSQL, the emulator and the worker SIGKILLed during a stream",
        accepted=len(sender.accepted),
        refused_or_cut=sender.refused,
        readable=readable,
        dead_lettered=len(dead),
        processed_twice=sum(1 for n in successes.values() if n > 1),
        **{f"seconds_to_restart_{name}": round(s, 1) for name, s in restarts.items()},
        seconds_to_catch_up_after_the_stream=round(caught_up, 1),
    )
    assert dead == [], [raw.get("MessageAttributes") for raw in dead]
    assert max(successes.values()) == 1
    for line in ("PostgreSQL died", "PostgreSQL restarted", "emulator died",
                 "emulator restarted", "worker exited with", "worker restarted"):  # fmt: skip
        assert line in output, output


def sqs_of(env: dict[str, str]):
    return boto3.client(
        "sqs", endpoint_url=env["FLUXA_AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"]
    )


def all_readable(base: str, headers: dict[str, str], source: str, accepted: list[str]) -> int:
    """How many events of `source` the API lists, if every accepted one is among them."""
    listed: set[str] = set()
    cursor = None
    while True:
        params = {"source": source, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{base}/v1/events", params=params, headers=headers, timeout=10)
        if page.status_code != 200:
            return 0
        body = page.json()
        listed.update(item["event_id"] for item in body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return len(listed) if set(accepted) <= listed else 0
