"""`fluxa stats rebuild`: queue full rebuilds."""

from __future__ import annotations

import click

from broker.app import make_celery
from broker.publisher import CeleryPublisher
from cli.common import settings_or_exit
from cli.progress import Progress
from fluxa.infra.db import make_engine
from fluxa.stats.relay import StatsRelay


@click.group()
def stats() -> None:
    """Trade statistics."""


@stats.command("rebuild")
@click.option("--user", "user_id", help="Rebuild this user's stats.")
@click.option("--all", "everyone", is_flag=True, help="Rebuild every user's stats, in segments.")
def stats_rebuild(user_id: str | None, everyone: bool) -> None:
    """Queue full stats rebuilds (the workers do them)."""
    if bool(user_id) == everyone:
        raise click.UsageError("give exactly one of --user ID and --all")
    settings = settings_or_exit("database_url", "broker_url")
    engine = make_engine(settings.database_url)
    relay = StatsRelay.from_settings(settings, engine, CeleryPublisher(make_celery(settings)))
    if everyone:
        with Progress("users", relay.user_count()) as progress:
            users = relay.request_all(on_segment=progress.update)
    else:
        users = relay.request([user_id])
    click.echo(f"rebuilds published for {users} user(s) (users already queued are not counted)")
