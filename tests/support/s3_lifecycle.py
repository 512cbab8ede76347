"""S3 lifecycle rules played forward on the emulator, which never runs them.

`play_forward` does to a bucket what AWS would have done after `days` more days under
the template's rules: expiration (a delete marker on a versioned bucket), transitions
(the object's storage class; GLACIER-class objects can no longer be read), noncurrent
version expiration. A rule field it does not know fails the test: a new kind of rule in
the template must be played here before a test may say it keeps data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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
    template = load_template(TEMPLATE)
    bucket = template["Resources"][bucket_resource]["Properties"]
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    return [_resolve(rule, _Context(template, parameters)) for rule in rules]


def template_number(path: list[str], parameters: dict[str, Any]) -> int:
    """A number in the template (e.g. a queue's `MessageRetentionPeriod`), `Ref` resolved."""
    template = load_template(TEMPLATE)
    node: Any = template
    for part in path:
        node = node[part]
    return int(_resolve(node, _Context(template, parameters)))


@dataclass(frozen=True)
class _Context:
    template: dict[str, Any]
    parameters: dict[str, Any]


def _resolve(node: Any, context: _Context) -> Any:
    """`node` with Ref, Fn::If, Fn::FindInMap and Fn::Equals worked out as CloudFormation
    would (what the lifecycle rules use; another function fails the test)."""
    if isinstance(node, list):
        return [_resolve(value, context) for value in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return context.parameters[node["Ref"]]
    if set(node) == {"Fn::If"}:
        condition, when_true, when_false = node["Fn::If"]
        chosen = when_true if _condition(condition, context) else when_false
        return _resolve(chosen, context)
    if set(node) == {"Fn::FindInMap"}:
        mapping, key, field = (_resolve(part, context) for part in node["Fn::FindInMap"])
        return context.template["Mappings"][mapping][str(key)][field]
    assert not any(key.startswith("Fn::") for key in node), f"not played here: {node}"
    return {key: _resolve(value, context) for key, value in node.items()}


def _condition(name: str, context: _Context) -> bool:
    node = context.template["Conditions"][name]
    if set(node) == {"Fn::Equals"}:
        left, right = (_resolve(part, context) for part in node["Fn::Equals"])
        return str(left) == str(right)
    raise AssertionError(f"condition {name} not played here: {node}")


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
