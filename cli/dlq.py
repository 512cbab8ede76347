"""`fluxa dlq inspect` and `fluxa dlq replay`: triage and safe replay."""

from __future__ import annotations

import json

import click

from cli.common import settings_or_exit
from cli.progress import Progress
from fluxa.dlq.operations import peek, replay
from fluxa.dlq.report import dlq_name, inspection, source_router
from fluxa.dlq.runbook import action_for
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.queue_reader import QueueRead
from fluxa.infra.queues import queue_urls, visible_count
from fluxa.infra.storage import S3ObjectStore

DLQ_CHOICES = click.Choice(["events", "stats"])


@click.group()
def dlq() -> None:
    """Dead-letter queue triage and replay."""


@dlq.command("inspect")
@click.option("--queue", "which", type=DLQ_CHOICES, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def dlq_inspect(which: str, limit: int, as_json: bool) -> None:
    """Counts by error code and samples; the messages stay in the queue."""
    settings = settings_or_exit()
    sqs = sqs_client(settings)
    name = dlq_name(settings, which)
    seen = peek(sqs, queue_urls(settings, sqs)[name], limit)
    report = inspection(name, seen)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        _exit_if_short(seen.read, warn=False)  # the document carries the warning
        return
    counted = report["sqs_counts"]
    click.echo(
        f"{name}: {report['sampled']} message(s) sampled; SQS counted {counted['visible']} "
        f"visible and {counted['in_flight']} in flight"
    )
    for code, count in sorted(report["counts"].items()):
        click.echo(f"  {code:<20} {count:>6}   {action_for(code)}")
    for item in report["messages"]:
        click.echo(
            f"- {item['error_code']} {item['subject'] or ''} task={item['task']} "
            f"correlation={item['correlation_id']} attempts={item['attempts']} "
            f"first={item['first_failed_at']} last={item['last_failed_at']}\n"
            f"    {item['error_message'] or ''}"
        )
    _exit_if_short(seen.read)


@dlq.command("replay")
@click.option("--queue", "which", type=DLQ_CHOICES, required=True)
@click.option("--error-code", default=None, help="Only messages with this code.")
@click.option("--max", "max_messages", default=None, type=click.IntRange(1), help="At most N.")
@click.option("--dry-run", is_flag=True, help="Say what would move; move nothing.")
def dlq_replay(which: str, error_code: str | None, max_messages: int | None, dry_run: bool) -> None:
    """Move replayable messages back to their source queue (never HashMismatch,
    SchemaValidation or MalformedMessage)."""
    settings = settings_or_exit()
    sqs = sqs_client(settings)
    urls = queue_urls(settings, sqs)
    dlq_url = urls[dlq_name(settings, which)]
    claims = S3ObjectStore(s3_client(settings), settings.payload_bucket)
    with Progress("messages examined", visible_count(sqs, dlq_url)) as progress:
        report = replay(
            sqs, dlq_url, source_router(settings, urls, which),
            error_code=error_code, max_messages=max_messages, dry_run=dry_run, claims=claims,
            on_progress=lambda so_far: progress.update(so_far.examined),
        )  # fmt: skip
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb}: {sum(report.moved.values())} {dict(report.moved)}")
    click.echo(f"left:  {sum(report.left.values())} {dict(report.left)}")
    if report.copies:
        click.echo(f"copies of a task sent back, deleted: {report.copies}")
    if report.payload_missing:
        click.echo(
            f"left because a claim-checked payload is gone (PayloadMissing: the producer "
            f"must resend): {', '.join(report.payload_missing)}"
        )
    if report.read is not None:
        _exit_if_short(report.read)


def _exit_if_short(read: QueueRead, *, warn: bool = True) -> None:
    """Say so on stderr when what was read and SQS's counts differ; exit 1 when the read
    stopped before SQS counted the queue drained (a script must not take it for done)."""
    if warn and read.shortfall:
        click.echo(f"warning: {read.shortfall}", err=True)
    if read.drained is False:
        raise SystemExit(1)
