"""`fluxa users erase`: a journal user's right to erasure."""

from __future__ import annotations

import click

from cli.common import settings_or_exit
from fluxa.infra.aws import s3_client
from fluxa.infra.db import make_engine
from fluxa.trades.images import S3ImageStore
from fluxa.users.erasure import erase_user


@click.group()
def users() -> None:
    """Journal users."""


@users.command("erase")
@click.option("--user", "user_id", required=True, help="The user's id (the token's sub).")
def users_erase(user_id: str) -> None:
    """Remove a user's trades, partial closes, images, stats and trails; say what went.
    Safe to run again: a run that stopped midway is finished by the next."""
    settings = settings_or_exit("database_url")
    images = S3ImageStore(s3_client(settings), settings.image_bucket)
    erased = erase_user(make_engine(settings.database_url), images, user_id)
    click.echo(f"erased user {user_id}")
    for line in erased.lines():
        click.echo(f"  {line}")
