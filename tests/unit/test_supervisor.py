"""The standalone supervisor restarts a child that dies, with backoff (real processes)."""

from __future__ import annotations

import socket
import sys
import time

from launcher.run import run_standalone
from launcher.supervisor import STABLE_SECONDS, Supervisor, restart_delay
from launcher.waiting import wait_until


def test_restart_delay_doubles_and_is_capped():
    assert [restart_delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_child_that_exits_is_restarted_after_its_backoff(tmp_path):
    supervisor = Supervisor(tmp_path)
    child = supervisor.start("short", [sys.executable, "-c", "pass"], {})
    first = child.process
    wait_until(lambda: first.poll() is not None, timeout=10, what="the child to exit")
    now = time.monotonic()
    assert supervisor.tend(now) == ["short exited with 0; restarting in 1 s"]
    assert supervisor.tend(now + 0.5) == []  # still backing off
    lines = supervisor.tend(now + 1.0)
    assert lines == [f"short restarted (pid {child.process.pid})"]
    assert child.process is not first and child.backoff.recent_restarts == 1
    wait_until(lambda: child.process.poll() is not None, timeout=10, what="the second exit")
    assert supervisor.tend(now + 1.5) == ["short exited with 0; restarting in 2 s"]
    supervisor.stop_all(grace=1)


def test_a_child_that_ran_long_starts_its_backoff_again(tmp_path):
    supervisor = Supervisor(tmp_path)
    child = supervisor.start("steady", [sys.executable, "-c", "pass"], {})
    child.backoff.recent_restarts = 4
    wait_until(lambda: child.process.poll() is not None, timeout=10, what="the child to exit")
    later = child.backoff.started_at + STABLE_SECONDS + 1
    assert supervisor.tend(later) == ["steady exited with 0; restarting in 1 s"]
    supervisor.stop_all(grace=1)


def test_standalone_refuses_a_port_in_use_at_once(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        assert run_standalone("127.0.0.1", port, tmp_path) == 2
    assert time.monotonic() - started < 5
    assert "already in use" in capsys.readouterr().err.lower()
    assert not (tmp_path / "postgres").exists()  # nothing was started
