"""`fluxa trace`, `fluxa alarms` and `fluxa worker-ready`: what an operator looks at."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

import click

from cli.common import settings_or_exit
from fluxa.infra.aws import sqs_client
from fluxa.infra.db import make_engine
from fluxa.infra.queues import queue_urls
from fluxa.ops import alarms
from fluxa.ops.alarm_rules import Alarm
from fluxa.ops.trace import trace as trace_of


@click.command()
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def trace(identifier: str, as_json: bool) -> None:
    """Every stage of an event id or a correlation id: accepted → enqueued → persisted,
    or dead-lettered (and replayed), from the event trail and the dead-letter queues."""
    settings = settings_or_exit("database_url")
    sqs = sqs_client(settings)
    rows = trace_of(
        settings, make_engine(settings.database_url), sqs, queue_urls(settings, sqs), identifier
    )
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    if not rows:
        raise click.ClickException(f"nothing recorded for {identifier}")
    for row in rows:
        click.echo(trace_line(row, identifier))


def trace_line(row: dict, identifier: str) -> str:
    """One stage: when, of what (event or trade/user), what, and what else is known."""
    at = row["at"].isoformat() if row.get("at") else "(now)"
    notes = [row["error_code"]] if row.get("error_code") else []
    notes += [f"{key}={value}" for key, value in sorted((row.get("detail") or {}).items())]
    if row.get("subject") and row.get("correlation_id") not in (None, identifier):
        notes.append(f"by correlation {row['correlation_id']}")
    if row.get("task_id"):
        notes.append(f"task={row['task_id']}")
    subject = row.get("event_id") or row.get("subject")
    return "  ".join([at, subject, row["stage"], *notes])


@click.command("alarms")
@click.option("--window-seconds", default=300, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True)
def alarms_now(window_seconds: int, as_json: bool) -> None:
    """Evaluate the runbook's alarms now; exit status 1 when any fires."""
    settings = settings_or_exit("database_url")
    sqs = sqs_client(settings)
    results = alarms.evaluate(
        settings, make_engine(settings.database_url), sqs, queue_urls(settings, sqs),
        dt.timedelta(seconds=window_seconds),
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in results], indent=2))
    else:
        click.echo(alarm_table(results, shutil.get_terminal_size().columns))
    if alarms.firing(results):
        sys.exit(1)


def alarm_table(results: list[Alarm], width: int) -> str:
    """The alarms as aligned columns; each action on its own indented line when the row
    would not fit `width`."""
    header = Alarm("STATE", "ALARM", "VALUE", "THRESHOLD", "ACTION")
    rows = [header, *results]
    widths = [
        max(len(getattr(a, f)) for a in rows) for f in ("state", "name", "value", "threshold")
    ]
    lines = []
    for a in rows:
        cells = [a.state, a.name, a.value, a.threshold]
        head = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        if len(head) + 2 + len(a.action) <= width:
            lines.append(f"{head}  {a.action}".rstrip())
        else:
            lines.append(head.rstrip())
            lines.append(f"    {a.action}" if a is not header else "")
    return "\n".join(line for line in lines if line)


@click.command("worker-ready")
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
    settings = settings_or_exit("worker_heartbeat_file")
    path = Path(settings.worker_heartbeat_file)
    age = time.time() - path.stat().st_mtime if path.exists() else None
    if age is None or age > max_age:
        click.echo(f"not ready: last heartbeat {'never' if age is None else f'{age:.0f}s ago'}")
        sys.exit(1)
    click.echo(f"ready: last heartbeat {age:.0f}s ago")
