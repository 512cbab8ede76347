"""Tasks that only the test worker registers (`--include`): poison a real worker can meet,
and a task that takes its time.

They use Fluxa's base task, so they get exactly the production failure policy.
"""

from __future__ import annotations

import os
import signal
import time

from celery import shared_task

from workers.base import FluxaTask

RAISES_FOREVER = "fluxa.test.raises_forever"
CRASHES_PROCESS = "fluxa.test.crashes_process"
TAKES_ITS_TIME = "fluxa.test.takes_its_time"


@shared_task(name=RAISES_FOREVER, base=FluxaTask, bind=True)
def raises_forever(self: FluxaTask, marker: str) -> None:
    """A bug: fails the same way on every attempt."""
    raise RuntimeError(f"this task always fails ({marker})")


@shared_task(name=CRASHES_PROCESS, base=FluxaTask, bind=True)
def crashes_process(self: FluxaTask, marker: str) -> None:
    """A crash no handler sees (a segfault in a C extension, the OOM killer)."""
    os.kill(os.getpid(), signal.SIGKILL)


@shared_task(name=TAKES_ITS_TIME, base=FluxaTask, bind=True)
def takes_its_time(self: FluxaTask, seconds: float) -> None:
    """A long task (a big rebuild, a slow dependency): holds its message for `seconds`."""
    time.sleep(seconds)
