"""`fluxa setup`: queues with redrive policies, and buckets. Safe to run again and again."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from config import Settings
from fluxa.infra.queues import DLQ_RETENTION_SECONDS, QueueSpec, topology
from fluxa.migrations import upgrade


def queue_attributes(settings: Settings, spec: QueueSpec, dlq_arn: str | None) -> dict[str, Any]:
    """The attributes a queue of `spec` has (`RedrivePolicy` as an object; `dlq_arn`: the
    ARN of its dead-letter queue, None for a dead-letter queue itself)."""
    attributes: dict[str, Any] = {
        "VisibilityTimeout": str(settings.sqs_visibility_timeout),
        # Set, not left to the default (256 KiB before 2025, 1 MiB since): the API sizes
        # its messages to this number.
        "MaximumMessageSize": str(settings.sqs_max_message_bytes),
    }
    if spec.is_dead_letter:
        attributes["MessageRetentionPeriod"] = str(DLQ_RETENTION_SECONDS)
    else:
        attributes["RedrivePolicy"] = {
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": settings.sqs_max_receive_count,
        }
    return attributes


def ensure_queues(settings: Settings, sqs: Any) -> dict[str, str]:
    """Create every queue, or bring its attributes up to date; return name → URL."""
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for spec in topology(settings):  # dead-letter queues first: their ARNs are needed next
        url = sqs.create_queue(QueueName=spec.name)["QueueUrl"]
        attributes = queue_attributes(settings, spec, arns.get(spec.dead_letter or ""))
        if "RedrivePolicy" in attributes:
            policy = attributes["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {**policy, "maxReceiveCount": str(policy["maxReceiveCount"])}
            )
        # Attributes are set separately: CreateQueue refuses differing attributes.
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arns[spec.name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        urls[spec.name] = url
    return urls


def ensure_buckets(settings: Settings, s3: Any) -> list[str]:
    """Create the payload and image buckets if they do not exist."""
    buckets = [settings.payload_bucket, settings.image_bucket]
    for bucket in buckets:
        try:
            s3.head_bucket(Bucket=bucket)
            continue
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if settings.aws_region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.aws_region}
        s3.create_bucket(**kwargs)
    return buckets


def setup_all(settings: Settings, sqs: Any, s3: Any) -> dict[str, Any]:
    """Migrate the database, then create queues and buckets; safe to repeat."""
    settings.require("database_url")
    upgrade(settings.database_url)
    return {"queues": ensure_queues(settings, sqs), "buckets": ensure_buckets(settings, s3)}
