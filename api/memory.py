"""The API process's memory after large requests (glibc's allocator; elsewhere a no-op).

A burst of large bodies (parsed JSON is several times its bytes) leaves glibc's heaps
grown: freed, but held by the process, so the API's memory stayed near its peak after the
burst (376 MB to 1.5 GB, and 869 MB held afterwards, under gunicorn). Two things help,
measured in docs/reliability.md: the app's 32 threads share two heaps (`limit_arenas`)
instead of one each, and `release_freed_memory` (`malloc_trim`) returns the free pages of
every heap when a burst ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

#: glibc's mallopt parameter for the number of malloc arenas.
M_ARENA_MAX = -8


def _glibc(function: str) -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), function) if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return None


_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")


def limit_arenas(arenas: int = 2) -> bool:
    """Let the app's threads share `arenas` heaps instead of one each (glibc makes up to
    8 per core): fewer heaps hold less freed memory. Call before the threads start."""
    if _MALLOPT is None:
        return False
    return bool(_MALLOPT(M_ARENA_MAX, arenas))


def release_freed_memory() -> bool:
    """Return freed heap memory to the system; whether it could be asked to."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
