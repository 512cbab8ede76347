"""How far a long command is: a bar on a terminal, a plain line per tenth otherwise.

Progress goes to stderr, so what a command prints on stdout stays its result.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import click


class Progress:
    """`with Progress("replay", total) as progress: progress.update(done)`."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 0)
        self._done = 0
        self._tenth = 0
        self._printed: int | None = None
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            self._bar = click.progressbar(
                length=self.total or 1, label=self.label, file=sys.stderr, show_pos=True
            ).__enter__()
        else:
            self._line(0)
        return self

    def _line(self, done: int) -> None:
        click.echo(f"{self.label}: {done} of {self.total}", err=True)
        self._printed = done

    def update(self, done: int) -> None:
        """`done` items so far (it may pass `total`: a queue grows while it is read)."""
        step, self._done = done - self._done, done
        if self._bar is not None:
            self._bar.update(step)
            return
        tenth = done * 10 // self.total if self.total else 10
        if tenth > self._tenth:
            self._tenth = tenth
            self._line(done)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, tb)
        elif self._printed != self._done:
            self._line(self._done)
