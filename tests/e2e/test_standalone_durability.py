"""The standalone keeps what it accepted: a SIGKILL of every process, or a clean stop, while
events are queued, then a restart on the same data directory; every event answered 202 is
persisted, processed once and readable with its payload."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from pathlib import Path

import boto3
import psutil
import pytest
import requests

from launcher.ports import free_port
from launcher.waiting import wait_until
from tests.e2e.test_standalone import other_shell, ready, start, stop, token
from tests.faults.ledger import archive_counts, success_counts
from tests.support.builders import event_body

pytestmark = pytest.mark.e2e

BATCH = 10


class Sender(threading.Thread):
    """Posts batches of events until told to stop or the API goes away; keeps the ids
    answered 202 (and nothing else: a request cut by the kill was never accepted).
    With `keep_going`, a refusal or a cut connection is counted and the next batch sent,
    as a client that retries does."""

    def __init__(
        self, base: str, headers: dict[str, str], source: str, limit: int, keep_going: bool = False
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.headers, self.source, self.limit = base, headers, source, limit
        self.keep_going = keep_going
        self.accepted: list[str] = []
        self.refused = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set() and len(self.accepted) < self.limit:
            events = [event_body(source=self.source) for _ in range(BATCH)]
            try:
                response = requests.post(
                    f"{self.base}/v1/events/batch",
                    json={"events": events},
                    headers=self.headers,
                    timeout=10,
                )
            except requests.RequestException:
                response = None
            if response is None or response.status_code != 202:
                if not self.keep_going:
                    return
                self.refused += 1
                self.stopped.wait(0.2)  # a client's pause before it sends again
                continue
            results = response.json()["results"]
            self.accepted += [item["event_id"] for item in results if item["status"] == "accepted"]


def kill_everything(process: psutil.Process, data_dir: Path) -> None:
    """SIGKILL the standalone, every descendant, and the PostgreSQL server it daemonized."""
    doomed = [process, *process.children(recursive=True)]
    for candidate in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(candidate.info["cmdline"] or []):
            doomed.append(candidate)
    for victim in doomed:
        with contextlib.suppress(psutil.Error):
            victim.kill()
    psutil.wait_procs(doomed, timeout=30)


def worker_log_lines(data_dir: Path) -> list[dict]:
    """Every JSON line the standalone's workers logged, across every lifetime."""
    lines = []
    for raw in (data_dir / "logs" / "worker.log").read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            if raw.startswith("{"):
                lines.append(json.loads(raw))
    return lines


def paced_get(url: str, headers: dict[str, str]) -> requests.Response:
    """GET as a client that honours the per-client limits: after a 429, wait Retry-After."""
    while (response := requests.get(url, headers=headers, timeout=10)).status_code == 429:
        time.sleep(int(response.headers["Retry-After"]))  # what the server asks, not a guess
    return response


def assert_kept(data_dir: Path, base: str, headers: dict[str, str], accepted: list[str]) -> None:
    """Every accepted event processed exactly once, and readable with its payload."""
    ids = set(accepted)
    assert len(ids) == len(accepted)

    # A SIGKILL can land between a message's commit and its log lines: its redelivery then
    # finds the events persisted and says so. Processed means either line; twice, never.
    def seen() -> set[str]:
        lines = worker_log_lines(data_dir)
        later = {line.get("event_id") for line in lines
                 if line.get("message") == "event already persisted"}  # fmt: skip
        return set(success_counts(lines, ids)) | (later & ids)

    wait_until(lambda: seen() == ids, timeout=180, interval=1,
               what=f"all {len(ids)} accepted events processed")  # fmt: skip
    counts = success_counts(worker_log_lines(data_dir), ids)
    assert {id_: n for id_, n in counts.items() if n > 1} == {}
    sha256s = set()
    for event_id in accepted:
        detail = paced_get(f"{base}/v1/events/{event_id}", headers)
        assert detail.status_code == 200, detail.text
        body = detail.json()
        assert body["payload"] is not None and "payload_problem" not in body, body
        sha256s.add(body["payload_sha256"])
    env = other_shell(data_dir)
    s3 = boto3.client(
        "s3", endpoint_url=env["FLUXA_AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"]
    )
    archived = archive_counts(s3, env.get("FLUXA_PAYLOAD_BUCKET", "fluxa-payloads"), sha256s)
    assert {sha: n for sha, n in archived.items() if n != 1} == {}
    assert set(archived) == sha256s


def accept_then(stop_how, data_dir: Path) -> str:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    source = f"durable-{uuid.uuid4().hex[:8]}"
    process = start(data_dir, port)
    try:
        wait_until(lambda: ready(base), timeout=120, interval=0.5, what="standalone to be ready")
        headers = token(other_shell(data_dir), "durable", "fluxa/events.write", "fluxa/events.read")
        sender = Sender(base, headers, source, limit=400)
        sender.start()
        wait_until(lambda: len(sender.accepted) >= 200, timeout=60, what="200 events accepted")
        output = stop_how(process)  # mid-stream: the sender is still posting
        sender.stopped.set()
        sender.join(timeout=30)
    except BaseException:
        kill_everything(psutil.Process(process.pid), data_dir)
        raise
    assert len(sender.accepted) >= 200

    restarted = start(data_dir, port)
    try:
        wait_until(lambda: ready(base), timeout=120, interval=0.5, what="the restart")
        assert_kept(data_dir, base, headers, sender.accepted)
    finally:
        stop(restarted)
    return output


def test_a_sigkill_of_every_process_loses_no_accepted_event(tmp_path):
    def crash(process):
        kill_everything(psutil.Process(process.pid), tmp_path)
        process.wait(timeout=30)
        return ""

    accept_then(crash, tmp_path)


def test_a_clean_stop_drains_and_keeps_the_rest(tmp_path):
    def clean_stop(process):
        output = stop(process)
        assert process.returncode == 0, output
        return output

    output = accept_then(clean_stop, tmp_path)
    assert "draining the queues" in output, output
    assert "queues drained" in output or "messages kept for the next start" in output, output
