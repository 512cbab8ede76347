"""`fluxa events keep-claims`: the upgrade step for rows that name a claim in transit."""

from __future__ import annotations

import datetime as dt
import json

import click

from cli.common import settings_or_exit
from fluxa.events.kept_claims import keep_claims
from fluxa.events.partition_repository import make_partitions_now
from fluxa.events.retention import maintain
from fluxa.infra.aws import s3_client
from fluxa.infra.db import make_engine
from fluxa.infra.storage import S3ObjectStore


@click.group()
def events() -> None:
    """Stored events."""


@events.command("keep-claims")
@click.option("--dry-run", is_flag=True, help="Count the rows; copy and change nothing.")
def events_keep_claims(dry_run: bool) -> None:
    """Move payloads that rows still name under claims/ (expired by the stack's lifecycle
    rule) to archive/, where payloads are kept. Run once after upgrading; safe to re-run."""
    settings = settings_or_exit("database_url")
    store = S3ObjectStore(s3_client(settings), settings.payload_bucket)
    report = keep_claims(make_engine(settings.database_url), store, dry_run=dry_run)
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb}: {report.moved} payload(s) from claims/ to archive/")
    if report.missing:
        click.echo(f"already gone (PayloadMissing when read): {', '.join(report.missing)}")


@events.command("retention")
@click.option("--dry-run", is_flag=True, help="Say what would go; make and drop nothing.")
@click.option(
    "--keep-tables",
    is_flag=True,
    help="Detach partitions past retention but keep them as tables (to archive, then drop).",
)
def events_retention(dry_run: bool, keep_tables: bool) -> None:
    """Make the partitions of the week ahead and remove those past
    FLUXA_EVENTS_RETENTION_DAYS (beat does this hourly). Prints what it did as JSON."""
    settings = settings_or_exit("database_url")
    report = maintain(
        make_engine(settings.database_url),
        settings.events_retention_days,
        now=dt.datetime.now(dt.UTC),
        dry_run=dry_run,
        keep_tables=keep_tables,
    )
    click.echo(json.dumps(report.as_dict(), indent=2))


@events.command("make-partitions")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
def events_make_partitions(first: dt.datetime, last: dt.datetime) -> None:
    """Make the day partitions from --from to --to (UTC days, both included) that do not
    exist yet: to bring rows of past days back (runbook §14). Prints the ones made."""
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    settings = settings_or_exit("database_url")
    days = [(first + dt.timedelta(days=n)).date() for n in range((last - first).days + 1)]
    made = make_partitions_now(make_engine(settings.database_url), days)
    click.echo(json.dumps([partition.name for partition in made]))
