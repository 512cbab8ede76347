"""Giving freed memory back to the system after large requests.

A burst of large bodies (parsed JSON is several times its bytes) leaves glibc's heaps
grown: freed, but held by the process, so the API's memory stayed at its peak after the
burst (376 MB to 1.5 GB, and 869 MB held afterwards, under gunicorn). `malloc_trim`
returns the free pages at the top of each heap and the free ones inside them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim with
        return None


_TRIM = _malloc_trim()


def release_freed_memory() -> bool:
    """Return freed heap memory to the system; whether it could be asked to."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
