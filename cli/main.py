"""The `fluxa` command line: one module per command group, gathered here."""

from __future__ import annotations

import click

from cli.dlq import dlq
from cli.operations import alarms_now, trace, worker_ready
from cli.setup import db, setup
from cli.standalone import standalone, token
from cli.stats import stats


@click.group()
def main() -> None:
    """Fluxa: event pipeline and trading-journal backend."""


for command in (setup, db, standalone, token, stats, dlq, trace, alarms_now, worker_ready):
    main.add_command(command)
