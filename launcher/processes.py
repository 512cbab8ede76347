"""A running process's memory, seen from outside (the benchmarks and the soak test)."""

from __future__ import annotations

import psutil


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its children (a worker and its pool)."""
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
