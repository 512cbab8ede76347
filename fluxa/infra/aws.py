"""boto3 clients configured from settings (endpoint override for emulators, timeouts)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from config import Settings


def _client(service: str, settings: Settings, endpoint: str | None, **config: Any) -> Any:
    return boto3.client(
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
