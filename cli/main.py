"""The `fluxa` command line: one module per command group, gathered here."""

from __future__ import annotations

import click
from botocore.exceptions import BotoCoreError, ClientError

from cli.dlq import dlq
from cli.events import events
from cli.operations import alarms_now, trace, worker_ready
from cli.serve import serve
from cli.setup import db, setup
from cli.standalone import standalone, token
from cli.stats import stats
from cli.trades import trades
from cli.users import users
from fluxa.errors import FluxaError


class OneLineErrors(click.Group):
    """A failure every operator can meet (no AWS credentials, an unreachable queue or
    database) ends the command with one line naming it, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (BotoCoreError, ClientError, FluxaError) as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@click.group(cls=OneLineErrors)
def main() -> None:
    """Fluxa: event pipeline and trading-journal backend."""


for command in (
    setup, db, serve, standalone, token, stats, events, dlq, trace, alarms_now, worker_ready,
    users, trades,
):  # fmt: skip
    main.add_command(command)
