"""`fluxa setup` and `fluxa db upgrade`: migrations, queues, buckets."""

from __future__ import annotations

import datetime as dt
import json

import click

from cli.common import settings_or_exit
from fluxa.events.retention import make_days_ahead
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.provisioning import setup_all
from fluxa.infra.provisioning_check import check_all
from fluxa.migrations import upgrade


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="Verify the schema, queues and buckets and report; create and change nothing.",
)
def setup(check: bool) -> None:
    """Run migrations, make the week ahead's partitions of `events`, create queues (with
    redrive policies) and buckets. Idempotent.

    With --check (for infrastructure created by deploy/aws): exit 1 unless everything is
    as the settings expect.
    """
    settings = settings_or_exit("database_url")
    if not check:
        result = setup_all(settings, sqs_client(settings), s3_client(settings))
        made = make_days_ahead(settings.database_url, dt.datetime.now(dt.UTC))
        result["event_partitions_made"] = [partition.name for partition in made]
        click.echo(json.dumps(result, indent=2))
        return
    findings = check_all(settings, sqs_client(settings), s3_client(settings))
    click.echo(json.dumps([finding.as_dict() for finding in findings], indent=2))
    if not all(finding.ok for finding in findings):
        raise SystemExit(1)


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations."""
    settings = settings_or_exit("database_url")
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")
