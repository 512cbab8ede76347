"""Start child processes, restart those that die (with backoff), stop them all together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: A child that ran this long before dying starts its backoff again from the first step.
STABLE_SECONDS = 60.0
MAX_RESTART_DELAY_SECONDS = 30.0


def restart_delay(recent_restarts: int) -> float:
    """Seconds to wait before the next restart: 1, 2, 4 … capped at 30."""
    return min(MAX_RESTART_DELAY_SECONDS, 2.0 ** min(recent_restarts, 10))


@dataclass
class Backoff:
    """When something that died is started again: 1, 2, 4 … 30 s after each death, from
    the first step again once it had run for `STABLE_SECONDS`."""

    started_at: float = field(default_factory=time.monotonic)
    recent_restarts: int = 0
    restart_at: float | None = None  # set while it waits out its backoff

    def died(self, now: float) -> float:
        """Schedule the next start after a death (or a failed start); its delay."""
        if now - self.started_at >= STABLE_SECONDS:
            self.recent_restarts = 0
        delay = restart_delay(self.recent_restarts)
        self.restart_at = now + delay
        return delay

    def due(self, now: float) -> bool:
        """Whether a scheduled start is due."""
        return self.restart_at is not None and now >= self.restart_at

    def restarted(self, now: float) -> None:
        self.started_at, self.restart_at = now, None
        self.recent_restarts += 1


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    backoff: Backoff = field(default_factory=Backoff)


class Supervisor:
    """Runs named children in their own process groups.

    `tend` restarts a child that exited (a worker killed by a hostile message, the
    OOM killer), after a backoff; `stop_all` ends every one.
    """

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self.children: list[Child] = []

    def _spawn(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen:
        log = open(self._log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        return subprocess.Popen(
            list(argv), env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        child = Child(name, list(argv), dict(env), self._spawn(name, argv, env))
        self.children.append(child)
        return child

    def tend(self, now: float | None = None) -> list[str]:
        """Restart children whose backoff has passed; one line per event to report."""
        now = time.monotonic() if now is None else now
        lines: list[str] = []
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if child.backoff.restart_at is None:
                delay = child.backoff.died(now)
                lines.append(f"{child.name} exited with {code}; restarting in {delay:g} s")
            elif child.backoff.due(now):
                child.process = self._spawn(child.name, child.argv, child.env)
                child.backoff.restarted(now)
                lines.append(f"{child.name} restarted (pid {child.process.pid})")
        return lines

    def stop(self, *names: str, grace: float = 15.0) -> None:
        """Stop the named children for good (SIGTERM, then SIGKILL after `grace`)."""
        chosen = [child for child in self.children if child.name in names]
        self.children = [child for child in self.children if child.name not in names]
        _stop_children(chosen, grace)

    def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM every child's process group, then SIGKILL what is left after `grace`."""
        _stop_children(list(reversed(self.children)), grace)


def _stop_children(children: list[Child], grace: float) -> None:
    for child in children:
        _signal_group(child.process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(child.process, signal.SIGKILL)
            child.process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
