"""boto3 clients configured from settings (endpoint override for emulators, timeouts),
all made by one boto3 session per process."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

from config import Settings


class _SharedSession:
    """Clients from boto3's default session, one per process. A session loads botocore's
    endpoint and service data once (7.6 MiB of it); a client made by a session of its own
    loads it again (kombu makes one per queue, in every process). A prefork child inherits
    the session loaded. Sessions are not thread-safe: clients are made under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # A child forked while another thread held the lock must not inherit it held.
        os.register_at_fork(after_in_child=self._new_lock)

    def _new_lock(self) -> None:
        self._lock = threading.Lock()

    def client(self, service: str, **kwargs: Any) -> Any:
        with self._lock:
            if boto3.DEFAULT_SESSION is None:
                boto3.setup_default_session()
            return boto3.DEFAULT_SESSION.client(service, **kwargs)


_shared = _SharedSession()


def new_client(service: str, **kwargs: Any) -> Any:
    """A boto3 client from the process's shared session (`boto3.Session.client`'s
    arguments: region, credentials, endpoint, config)."""
    return _shared.client(service, **kwargs)


def _client(service: str, settings: Settings, endpoint: str | None, **config: Any) -> Any:
    return new_client(
        service,
        region_name=settings.aws_region,
        endpoint_url=endpoint,
        config=Config(
            connect_timeout=3,
            read_timeout=20,
            retries={"max_attempts": 3, "mode": "standard"},
            **config,
        ),
    )


def s3_client(settings: Settings) -> Any:
    """An S3 client signing with SigV4 (presigned uploads too; SigV2 is deprecated and
    signs no Content-Length); path-style addressing when an emulator endpoint is set."""
    style = "path" if settings.s3_endpoint_url else "auto"
    return _client(
        "s3",
        settings,
        settings.s3_endpoint_url,
        s3={"addressing_style": style},
        signature_version="s3v4",
    )


def sqs_client(settings: Settings) -> Any:
    """An SQS client."""
    return _client("sqs", settings, settings.sqs_endpoint_url)
