"""Looking at running processes from outside: memory, and whether a server answers (used
by the benchmarks and the tests alike)."""

from __future__ import annotations

import psutil
import requests


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its children (a worker and its pool)."""
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def answers(url: str) -> bool:
    """Whether `url` answers below 500 (connection refused: not yet)."""
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.ConnectionError:
        return False
