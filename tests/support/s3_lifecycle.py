"""S3 lifecycle rules played forward on the emulator, which never runs them.

`play_forward` does to a bucket what AWS would have done after `days` more days under
the template's rules: expiration (a delete marker on a versioned bucket), transitions
(the object's storage class; GLACIER-class objects can no longer be read), noncurrent
version expiration. A rule field it does not know fails the test: a new kind of rule in
the template must be played here before a test may say it keeps data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.support.cfn_yaml import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "fluxa.yaml"
_PLAYED = {
    "Id", "Status", "Prefix", "ExpirationInDays", "Transitions",
    "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload",
}  # fmt: skip


def template_parameters(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stack's parameters at their defaults (what a deploy without overrides gets)."""
    parameters = load_template(TEMPLATE)["Parameters"]
    values = {name: spec.get("Default") for name, spec in parameters.items()}
    return {**values, **(overrides or {})}


def template_rules(bucket_resource: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The lifecycle rules of `bucket_resource` (e.g. `PayloadBucket`), `Ref`s resolved."""
    bucket = load_template(TEMPLATE)["Resources"][bucket_resource]["Properties"]
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    return [_resolve(rule, parameters) for rule in rules]


def template_number(path: list[str], parameters: dict[str, Any]) -> int:
    """A number in the template (e.g. a queue's `MessageRetentionPeriod`), `Ref` resolved."""
    node: Any = load_template(TEMPLATE)
    for part in path:
        node = node[part]
    return int(_resolve(node, parameters))


def _resolve(node: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return parameters[node["Ref"]]
        return {key: _resolve(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, parameters) for value in node]
    return node


def play_forward(
    s3: Any,
    bucket: str,
    rules: list[dict[str, Any]],
    days: float,
    *,
    since: dt.datetime | None = None,
) -> list[str]:
    """Apply `rules` as if `days` more days had passed; the keys whose current version was
    expired. `since` limits the objects aged to those written since then (a shared test
    bucket: other tests' objects in transit are left alone)."""
    for rule in rules:
        unknown = set(rule) - _PLAYED
        assert not unknown, f"lifecycle rule {rule.get('Id')}: {unknown} not played here"
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    expired = []
    for version in _versions(s3, bucket):
        key = version["Key"]
        if since is not None and version["LastModified"] < since:
            continue
        age = (now - version["LastModified"]).total_seconds() / 86400
        for rule in rules:
            if rule.get("Status") != "Enabled" or not key.startswith(rule.get("Prefix", "")):
                continue
            if version["IsLatest"]:
                if _expire_current(s3, bucket, version, rule, age):
                    expired.append(key)
                    break
                _transition(s3, bucket, version, rule, age)
            elif _expire_noncurrent(s3, bucket, version, rule, days):
                break
    return expired


def _versions(s3: Any, bucket: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found += page.get("Versions", [])
    return found


def _expire_current(s3: Any, bucket: str, version: dict, rule: dict, age: float) -> bool:
    limit = rule.get("ExpirationInDays")
    if limit is None or age < int(limit):
        return False
    s3.delete_object(Bucket=bucket, Key=version["Key"])  # versioned: a delete marker
    return True


def _transition(s3: Any, bucket: str, version: dict, rule: dict, age: float) -> None:
    due = [t for t in rule.get("Transitions", []) if age >= int(t["TransitionInDays"])]
    if not due:
        return
    target = max(due, key=lambda t: int(t["TransitionInDays"]))["StorageClass"]
    if version.get("StorageClass") == target:
        return
    key = version["Key"]
    s3.copy_object(
        Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, StorageClass=target
    )


def _expire_noncurrent(s3: Any, bucket: str, version: dict, rule: dict, days: float) -> bool:
    # Noncurrent since about now (everything in a test run is young): its age is `days`.
    limit = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
    if limit is None or days < int(limit):
        return False
    s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    return True
