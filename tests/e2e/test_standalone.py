"""`fluxa standalone` as a user runs it: events over HTTP, listed within seconds, restart."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import psutil
import pytest
import requests

from launcher.environment import child_environment
from launcher.ports import free_port
from launcher.waiting import wait_until
from tests.support.builders import event_body
from tests.support.hostile_messages import events_body
from tests.support.trades import post_upload

pytestmark = pytest.mark.e2e


def start(data_dir: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`fluxa standalone`, its SQS as strict as AWS (docs/reliability.md); `env`: settings
    given to it (and so to its children) on top of this process's environment."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "standalone",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--strict-sqs",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=child_environment(env),
    )


def ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output.decode(errors="replace")


def listed(base: str, source: str, headers: dict[str, str]) -> list[dict]:
    response = requests.get(
        f"{base}/v1/events", params={"source": source}, headers=headers, timeout=5
    )
    return response.json()["items"]


def other_shell(data_dir: Path) -> dict[str, str]:
    """The environment another shell gets from `standalone.env`."""
    lines = (data_dir / "standalone.env").read_text().splitlines()
    return child_environment(dict(line.split("=", 1) for line in lines))


def token(env: dict[str, str], user: str, *scopes: str) -> dict[str, str]:
    """Bearer headers for `user`, minted by `fluxa token` from another shell."""
    argv = [sys.executable, "-m", "cli", "token", "--user", user]
    for scope in scopes:
        argv += ["--scope", scope]
    minted = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=True)
    return {"Authorization": f"Bearer {minted.stdout.decode().strip()}"}


def test_standalone_runs_the_whole_pipeline_and_keeps_its_data(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    source = f"e2e-{uuid.uuid4().hex[:8]}"
    process = start(tmp_path, port)
    try:
        wait_until(lambda: ready(base), timeout=120, interval=0.5, what="standalone to be ready")
        env = other_shell(tmp_path)
        machine = token(env, "e2e-client", "fluxa/events.write", "fluxa/events.read")
        single = requests.post(
            f"{base}/v1/events", json=event_body(source=source), headers=machine, timeout=10
        )
        batch = requests.post(
            f"{base}/v1/events/batch",
            json={"events": [event_body(source=source) for _ in range(5)]},
            headers=machine,
            timeout=10,
        )
        assert single.status_code == batch.status_code == 202
        assert single.headers["X-Correlation-ID"] == single.json()["correlation_id"]
        items = wait_until(
            lambda: len(listed(base, source, machine)) == 6 and listed(base, source, machine),
            timeout=30,
            what="six events listed",
        )
        detail = requests.get(
            f"{base}/v1/events/{single.json()['event_id']}", headers=machine, timeout=5
        ).json()
        assert detail["status"] == "processed" and "marker" in detail["payload"]

        setup = subprocess.run(
            [sys.executable, "-m", "cli", "setup"], env=env, capture_output=True, timeout=60
        )
        assert setup.returncode == 0, setup.stderr.decode()
        journal_round_trip(base, token(env, "e2e-trader"))
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert not ready(base)
    assert len(items) == 6

    restarted = start(tmp_path, port)
    try:
        wait_until(lambda: ready(base), timeout=120, interval=0.5, what="the restart")
        ids = {i["event_id"] for i in listed(base, source, machine)}
        assert ids == {i["event_id"] for i in items}
    finally:
        stop(restarted)


def journal_round_trip(base: str, headers: dict[str, str]) -> None:
    """A user's journal on the standalone system: trade, partial close, image, stats."""
    created = requests.post(
        f"{base}/v1/trades",
        headers=headers,
        timeout=10,
        json={
            "symbol": "AAPL",
            "side": "long",
            "quantity": "10",
            "entry_price": "100",
            "entered_at": "2026-11-20T14:30:00Z",
            "fees": "1",
        },
    )
    assert created.status_code == 201, created.text
    trade = created.json()
    closed = requests.patch(
        f"{base}/v1/trades/{trade['id']}",
        timeout=10,
        headers={**headers, "If-Match": created.headers["ETag"]},
        json={
            "partial_closes": [
                {"quantity": "4", "price": "110", "closed_at": "2026-11-20T15:00:00Z"}
            ],
            "exit_price": "105",
            "exited_at": "2026-11-20T16:00:00Z",
        },
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["realized_pnl"] == "69"  # 40 + 30 − 1

    grant = requests.post(
        f"{base}/v1/trades/{trade['id']}/images",
        headers=headers,
        timeout=10,
        json={"content_type": "image/png", "size": 8},
    ).json()
    put = post_upload(grant, b"\x89PNG\r\n\x1a\n")
    assert put.status_code in (200, 204), put.text
    attached = requests.patch(
        f"{base}/v1/trades/{trade['id']}",
        headers=headers,
        timeout=10,
        json={"images": [grant["key"]], "version": 2},
    )
    assert attached.status_code == 200 and attached.json()["images"] == [grant["key"]]

    listed_trades = requests.get(f"{base}/v1/trades", headers=headers, timeout=10).json()
    assert [t["id"] for t in listed_trades["items"]] == [trade["id"]]
    stats = wait_until(
        lambda: (
            (s := requests.get(f"{base}/v1/stats", headers=headers, timeout=10).json())
            and s["computed_at"]
            and not s["stale"]
            and s
        ),
        timeout=30,
        what="stats of the e2e trader",
    )
    assert (stats["closed_trades"], stats["wins"], stats["net_pnl"]) == (1, 1, "69")


def worker_of(standalone: subprocess.Popen[bytes]) -> psutil.Process | None:
    """The standalone's Celery worker (main process), if one runs."""
    for child in psutil.Process(standalone.pid).children():
        with contextlib.suppress(psutil.Error):
            if "worker" in child.cmdline() and "celery" in " ".join(child.cmdline()):
                return child
    return None


def test_standalone_keeps_serving_after_a_hostile_message_and_a_killed_worker(tmp_path):
    """A raw hostile body on the queue, then the worker's whole process tree SIGKILLed:
    the supervisor restarts it, /readyz shows it, and events are processed again."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(tmp_path, port)
    try:
        wait_until(lambda: ready(base), timeout=120, interval=0.5, what="standalone to be ready")
        env = other_shell(tmp_path)
        machine = token(env, "e2e-hostile", "fluxa/events.write", "fluxa/events.read")
        sqs = boto3.client(
            "sqs", endpoint_url=env["FLUXA_AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"]
        )
        inbox = f"{env['FLUXA_SQS_QUEUE_URL_PREFIX']}/Fluxa-InputQueue"
        deep = '{"a":' * 300 + "1" + "}" * 300
        sqs.send_message(QueueUrl=inbox, MessageBody=events_body([{"payload": "@"}]).replace(
            '\\"@\\"', deep.replace('"', '\\"')
        ))  # fmt: skip
        first = wait_until(lambda: worker_of(process), timeout=30, what="the worker")
        assert_processes(base, machine, f"after-hostile-{uuid.uuid4().hex[:6]}")
        assert worker_of(process).pid == first.pid, "the hostile message killed the worker"

        os.killpg(first.pid, signal.SIGKILL)  # the whole tree: main process and pool
        killed_at = time.monotonic()
        second = wait_until(
            lambda: (w := worker_of(process)) and w.pid != first.pid and w,
            timeout=30,
            what="the worker restarted",
        )

        def beating_since_the_kill() -> bool:
            # A heartbeat touched well after the kill is the new worker's (and the dead
            # one's last long poll, which SQS may still answer, has ended by then).
            worker = requests.get(f"{base}/readyz", timeout=5).json()["worker"]
            since_kill = time.monotonic() - killed_at
            return worker["status"] == "ok" and worker["last_seen_seconds"] < since_kill - 3

        wait_until(beating_since_the_kill, timeout=60, what="the new worker's heartbeat")
        assert second.is_running()
        assert_processes(base, machine, f"after-kill-{uuid.uuid4().hex[:6]}")
    finally:
        output = stop(process)
    assert "worker exited with" in output and "worker restarted" in output, output


def assert_processes(base: str, headers: dict[str, str], source: str) -> None:
    accepted = requests.post(
        f"{base}/v1/events", json=event_body(source=source), headers=headers, timeout=10
    )
    assert accepted.status_code == 202, accepted.text
    wait_until(lambda: listed(base, source, headers), timeout=90, what=f"{source} processed")
