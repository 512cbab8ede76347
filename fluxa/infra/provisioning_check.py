"""`fluxa setup --check`: what `fluxa setup` would create, verified and reported, nothing
created or changed. For deployments whose queues and buckets come from infrastructure code
(deploy/aws/fluxa.yaml) and whose processes may read but not create them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from config import Settings
from fluxa.infra.provisioning import queue_attributes
from fluxa.infra.queues import topology
from fluxa.migrations import current_revision, head_revision


@dataclass(frozen=True)
class Finding:
    """One thing checked: what, whether it is as the settings expect, and what was seen."""

    subject: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_queues(settings: Settings, sqs: Any) -> list[Finding]:
    findings: list[Finding] = []
    arns: dict[str, str] = {}
    for spec in topology(settings):  # dead-letter queues first: their ARNs are needed next
        try:
            url = sqs.get_queue_url(QueueName=spec.name)["QueueUrl"]
            seen = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except ClientError as exc:
            findings.append(Finding(f"queue {spec.name}", False, _error(exc)))
            continue
        arns[spec.name] = seen["QueueArn"]
        expected = queue_attributes(settings, spec, arns.get(spec.dead_letter or ""))
        if "RedrivePolicy" in seen:
            policy = json.loads(seen["RedrivePolicy"])
            seen["RedrivePolicy"] = {**policy, "maxReceiveCount": int(policy["maxReceiveCount"])}
        wrong = {k: seen.get(k) for k, v in expected.items() if seen.get(k) != v}
        detail = f"differs: {wrong}, expected {expected}" if wrong else "as the settings expect"
        findings.append(Finding(f"queue {spec.name}", not wrong, detail))
    return findings


def check_buckets(settings: Settings, s3: Any) -> list[Finding]:
    findings = []
    for bucket in (settings.payload_bucket, settings.image_bucket):
        try:
            s3.head_bucket(Bucket=bucket)
            findings.append(Finding(f"bucket {bucket}", True, "exists"))
        except ClientError as exc:
            findings.append(Finding(f"bucket {bucket}", False, _error(exc)))
    return findings


def check_database(settings: Settings) -> list[Finding]:
    settings.require("database_url")
    current, head = current_revision(settings.database_url), head_revision()
    detail = f"at revision {current}" + ("" if current == head else f", expected {head}")
    return [Finding("database schema", current == head, detail)]


def check_all(settings: Settings, sqs: Any, s3: Any) -> list[Finding]:
    """Every finding: the schema at the newest migration, queues, buckets."""
    return [*check_database(settings), *check_queues(settings, sqs), *check_buckets(settings, s3)]


def _error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', exc)}"
