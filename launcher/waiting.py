"""Awaiting conditions instead of sleeping: a server that answers, anything that comes
true (the standalone's start-up, the benchmarks and the tests alike)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Poll `condition` until it returns something truthy; return it, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


def answers(url: str, *, below: int = 500) -> bool:
    """Whether `url` answers with a status below `below` (refused or silent: not yet)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < below
    except urllib.error.HTTPError as exc:
        return exc.code < below
    except OSError:
        return False
