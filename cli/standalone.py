"""`fluxa standalone` and `fluxa token`: everything on one machine, and its tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import settings_or_exit
from fluxa.auth.dev_issuer import DevIssuer
from launcher.run import run_standalone


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--data-dir",
    default=".fluxa",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--log-level", default="INFO", show_default=True)
@click.option(
    "--drain-seconds",
    default=60.0,
    show_default=True,
    help="On Ctrl-C, how long the workers may take to empty the queues (the rest is kept).",
)
@click.option(
    "--strict-sqs",
    is_flag=True,
    help="SQS as AWS answers it: empty short polls, lost deletes, throttles, 5xx "
    "(for testing what you build on Fluxa; docs/reliability.md).",
)
def standalone(
    host: str, port: int, data_dir: Path, log_level: str, drain_seconds: float, strict_sqs: bool
) -> None:
    """Run PostgreSQL, the SQS/S3 emulator, the API, a worker and beat on this machine.

    All state lives under --data-dir and survives a stop or a crash.
    """
    sys.exit(run_standalone(host, port, data_dir, log_level.upper(), drain_seconds, strict_sqs))


@click.command()
@click.option("--user", "user_id", required=True, help="The token's subject (sub).")
@click.option("--scope", "scopes", multiple=True, help="A scope, e.g. fluxa/events.write.")
@click.option("--admin", is_flag=True, help="Member of the admin group.")
@click.option("--ttl", default=3600, show_default=True, help="Lifetime in seconds.")
def token(user_id: str, scopes: tuple[str, ...], admin: bool, ttl: int) -> None:
    """Mint a token from the local development issuer (refused unless it is configured)."""
    settings = settings_or_exit("auth_dev_key_path", "auth_issuer", "auth_client_ids")
    issuer = DevIssuer.from_key_file(
        Path(settings.auth_dev_key_path),
        issuer=settings.auth_issuer,
        client_id=settings.auth_client_ids[0],
    )
    groups = ("admin",) if admin else ()
    click.echo(issuer.mint(user_id, scopes=scopes, groups=groups, ttl_seconds=ttl))
