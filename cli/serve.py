"""`fluxa serve`: the API server as the container runs it (`docker/entrypoint.sh`)."""

from __future__ import annotations

import os

import click

from launcher.run import api_argv


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True)  # a container listens on all
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="API processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API: uvicorn processes, each running the app on a pool of threads, with
    request heads and bodies read (and bounded) before a thread is taken."""
    argv = api_argv(host, port, workers=workers)
    os.execv(argv[0], argv)  # the server becomes this process: signals reach it directly
