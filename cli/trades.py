"""`fluxa trades export`: a user's trades, for an operator (runbook §5)."""

from __future__ import annotations

import click

from api.schemas.trades import dump_trade
from cli.common import settings_or_exit
from fluxa.infra.db import make_engine
from fluxa.trades.export import csv_chunks, json_chunks
from fluxa.trades.service import every_trade


@click.group()
def trades() -> None:
    """Journal trades."""


@trades.command("export")
@click.option("--user", "user_id", required=True, help="The user's id (the token's sub).")
@click.option(
    "--format",
    "form",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv: the fills in the fluxa-csv import format; json: the trades as the API shows them",
)
def trades_export(user_id: str, form: str) -> None:
    """Write every trade of a user to standard output, as `GET /v1/trades/export` does."""
    settings = settings_or_exit("database_url")
    trades_of_user = every_trade(make_engine(settings.database_url, pool_size=1), user_id)
    chunks = (
        json_chunks(trades_of_user, dump_trade) if form == "json" else csv_chunks(trades_of_user)
    )
    for chunk in chunks:
        click.echo(chunk, nl=False)
