"""The `fluxa` command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click

from broker.app import make_celery
from broker.publisher import CeleryPublisher
from config import Settings, SettingsError, load_settings
from fluxa.auth.dev_issuer import DevIssuer
from fluxa.dlq.letters import DeadLetter
from fluxa.dlq.operations import counts_by_code, peek, replay
from fluxa.dlq.runbook import action_for
from fluxa.events import trail
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.infra.db import make_engine
from fluxa.infra.provisioning import setup_all
from fluxa.infra.queues import queue_urls, topology
from fluxa.migrations import upgrade
from fluxa.ops import alarms as alarm_rules
from fluxa.stats.relay import StatsRelay
from launcher.run import run_standalone


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
    engine = make_engine(settings.database_url)
    relay = StatsRelay.from_settings(settings, engine, CeleryPublisher(make_celery(settings)))
    users = relay.request_all() if everyone else relay.request([user_id])
    click.echo(f"rebuilds published for {users} user(s) (users already queued are not counted)")


DLQ_CHOICES = click.Choice(["events", "stats"])


def _dlq_name(settings: Settings, which: str) -> str:
    return settings.dead_letter_queue if which == "events" else settings.stats_dead_letter_queue


def _letter_summary(letter: DeadLetter) -> dict[str, object]:
    envelope = letter.envelope
    return {
        "message_id": letter.message_id,
        "error_code": letter.error_code,
        "subject": letter.subject,
        "task": letter.task.task if letter.task else None,
        "task_id": letter.task.task_id if letter.task else None,
        "correlation_id": letter.task.correlation_id if letter.task else None,
        "attempts": envelope.attempts if envelope else letter.receive_count,
        "first_failed_at": envelope.first_failed_at if envelope else None,
        "last_failed_at": envelope.last_failed_at if envelope else None,
        "replay_count": envelope.replay_count if envelope else 0,
        "error_message": envelope.error_message if envelope else None,
        "action": action_for(letter.error_code),
    }


@main.group()
def dlq() -> None:
    """Dead-letter queue triage and replay."""


@dlq.command("inspect")
@click.option("--queue", "which", type=DLQ_CHOICES, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def dlq_inspect(which: str, limit: int, as_json: bool) -> None:
    """Counts by error code and samples; the messages stay in the queue."""
    settings = _settings()
    sqs = sqs_client(settings)
    name = _dlq_name(settings, which)
    letters = peek(sqs, queue_urls(settings, sqs)[name], limit)
    report = {
        "queue": name,
        "sampled": len(letters),
        "counts": counts_by_code(letters),
        "messages": [_letter_summary(letter) for letter in letters],
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{name}: {len(letters)} message(s) sampled")
    for code, count in sorted(report["counts"].items()):
        click.echo(f"  {code:<20} {count:>6}   {action_for(code)}")
    for item in report["messages"]:
        click.echo(
            f"- {item['error_code']} {item['subject'] or ''} task={item['task']} "
            f"correlation={item['correlation_id']} attempts={item['attempts']} "
            f"first={item['first_failed_at']} last={item['last_failed_at']}\n"
            f"    {item['error_message'] or ''}"
        )


@dlq.command("replay")
@click.option("--queue", "which", type=DLQ_CHOICES, required=True)
@click.option("--error-code", default=None, help="Only messages with this code.")
@click.option("--max", "max_messages", default=None, type=click.IntRange(1), help="At most N.")
@click.option("--dry-run", is_flag=True, help="Say what would move; move nothing.")
def dlq_replay(which: str, error_code: str | None, max_messages: int | None, dry_run: bool) -> None:
    """Move replayable messages back to their source queue (never HashMismatch or
    SchemaValidation)."""
    settings = _settings()
    sqs = sqs_client(settings)
    urls = queue_urls(settings, sqs)
    name = _dlq_name(settings, which)
    sources = {spec.name for spec in topology(settings) if spec.dead_letter == name}
    default = settings.input_queue if which == "events" else settings.stats_queue

    def source_url(letter: DeadLetter) -> str:
        envelope = letter.envelope
        origin = envelope.source_queue if envelope and envelope.source_queue in sources else None
        return urls[origin or default]

    report = replay(
        sqs, urls[name], source_url,
        error_code=error_code, max_messages=max_messages, dry_run=dry_run,
    )  # fmt: skip
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb}: {sum(report.moved.values())} {dict(report.moved)}")
    click.echo(f"left:  {sum(report.left.values())} {dict(report.left)}")


@main.command()
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def trace(identifier: str, as_json: bool) -> None:
    """Every stage of an event id or a correlation id: accepted → enqueued → persisted,
    or dead-lettered (and replayed), from the event trail and the dead-letter queues."""
    settings = _settings("database_url")
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        stages = trail.read(conn, identifier)
    sqs = sqs_client(settings)
    urls = queue_urls(settings, sqs)
    waiting = [
        {"event_id": letter.subject, "stage": "in_dead_letter_queue", "at": None,
         "error_code": letter.error_code, "queue": name, "task_id": letter.task.task_id}
        for name in (settings.dead_letter_queue, settings.stats_dead_letter_queue)
        for letter in peek(sqs, urls[name])
        if letter.task and identifier in (letter.body or "")
    ]  # fmt: skip
    rows = [*stages, *waiting]
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    if not rows:
        raise click.ClickException(f"nothing recorded for {identifier}")
    for row in rows:
        at = row["at"].isoformat() if row.get("at") else "(now)"
        code = f" {row['error_code']}" if row.get("error_code") else ""
        click.echo(f"{at}  {row['event_id']}  {row['stage']}{code}  task={row.get('task_id')}")


@main.command()
@click.option("--window-seconds", default=300, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True)
def alarms(window_seconds: int, as_json: bool) -> None:
    """Evaluate the runbook's alarms now; exit status 1 when any fires."""
    settings = _settings("database_url")
    engine = make_engine(settings.database_url)
    sqs = sqs_client(settings)
    urls = queue_urls(settings, sqs)
    with engine.connect() as conn:
        results = [
            alarm_rules.processor_error_rate(
                *alarm_rules.read_outcomes(conn, dt.timedelta(seconds=window_seconds))
            ),
            alarm_rules.database_load(*alarm_rules.read_database_load(conn)),
        ]
    for name in (settings.dead_letter_queue, settings.stats_dead_letter_queue):
        results.append(alarm_rules.dlq_depth(name, alarm_rules.read_queue_depth(sqs, urls[name])))
    results.append(_api_alarm(settings))
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in results], indent=2))
    else:
        for a in results:
            click.echo(f"{a.state:<8}{a.name:<28}{a.value:<40}{a.threshold:<24}{a.action}")
    if any(a.state == alarm_rules.ALARM for a in results):
        sys.exit(1)


def _api_alarm(settings: Settings) -> alarm_rules.Alarm:
    action = "Set FLUXA_API_URL to the API's base URL"
    if not settings.api_url:
        return alarm_rules.Alarm("APIGateway5xx", alarm_rules.UNKNOWN, "-", "> 1%", action)
    try:
        return alarm_rules.api_5xx_rate(
            *alarm_rules.read_api_responses(f"{settings.api_url}/metrics")
        )
    except OSError as exc:
        return alarm_rules.Alarm("APIGateway5xx", alarm_rules.UNKNOWN, str(exc), "> 1%", action)


@main.command("worker-ready")
@click.option(
    "--max-age",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds since the worker's last heartbeat.",
)
def worker_ready(max_age: int) -> None:
    """Exit 0 when this machine's worker is connected to the broker and alive (its
    heartbeat file, FLUXA_WORKER_HEARTBEAT_FILE, is fresh); 1 otherwise."""
    settings = _settings("worker_heartbeat_file")
    path = Path(settings.worker_heartbeat_file)
    age = time.time() - path.stat().st_mtime if path.exists() else None
    if age is None or age > max_age:
        click.echo(f"not ready: last heartbeat {'never' if age is None else f'{age:.0f}s ago'}")
        sys.exit(1)
    click.echo(f"ready: last heartbeat {age:.0f}s ago")
