"""What AWS would demand of each request the emulator saw, and whether a role's policy
grants it: IAM tested by AWS's documented rules, not by the emulator's.

moto enforces IAM only on request and not as AWS does (GetQueueUrl, batch actions,
HeadBucket, DeleteObjects, a missing key without ListBucket). Here each recorded request
is turned into the permissions AWS documents for it, and those are checked against the
role's policy as deploy/aws/fluxa.yaml writes it, its references resolved to the suite's
queues and buckets:

- SQS: every action is `sqs:<Action>` on the queue's ARN; a batch action needs the single
  action's permission (`SendMessageBatch` → `sqs:SendMessage`).
- S3: GET/HEAD of an object → `s3:GetObject`; PUT → `s3:PutObject` (a copy also
  `s3:GetObject` on its source); DELETE → `s3:DeleteObject`; a multi-object delete →
  `s3:DeleteObject` on each key; listing or HEAD of a bucket → `s3:ListBucket`. Reading a
  key that does not exist answers 404 only with `s3:ListBucket` on the bucket (403
  without): `missing` says which keys were absent.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from launcher.emulator import RecordedRequest

REGION, ACCOUNT = "us-east-1", "123456789012"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_LIST_PARAMETERS = {"list-type", "prefix", "continuation-token", "max-keys", "start-after",
                    "encoding-type", "delimiter"}  # fmt: skip
_BATCHES = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
            "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}  # fmt: skip


@dataclass(frozen=True)
class Need:
    """One permission a request needs: an IAM action on a resource ARN."""

    action: str
    resource: str
    why: str = ""
    #: The request's condition keys a policy may test (`s3:prefix` of a listing).
    context: tuple[tuple[str, str], ...] = ()


def access_key(request: RecordedRequest) -> str | None:
    """The access key id that signed `request` (header, presigned query, or the fields of
    a presigned POST)."""
    found = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    if found:
        return found.group(1)
    posted = _form_field(request.body, "x-amz-credential")
    if posted:
        return posted.split("/", 1)[0]
    query = parse_qs(urlsplit(request.url).query)
    credential = (query.get("X-Amz-Credential") or [""])[0]
    return credential.split("/", 1)[0] or None


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def bucket_arn(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def needs(request: RecordedRequest, missing: Callable[[str, str], bool]) -> list[Need]:
    """The permissions AWS demands for `request` (module docstring)."""
    if request.name.startswith("SQS "):
        return _sqs_needs(request)
    return _s3_needs(request, missing)


def _sqs_needs(request: RecordedRequest) -> list[Need]:
    action = request.name.removeprefix("SQS ")
    body = json.loads(request.body or b"{}")
    name = body.get("QueueName") or body.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1]
    resource = queue_arn(name) if name else "*"
    return [Need(f"sqs:{_BATCHES.get(action, action)}", resource, request.name)]


def _s3_needs(request: RecordedRequest, missing: Callable[[str, str], bool]) -> list[Need]:
    parts = urlsplit(request.url)
    query = parse_qs(parts.query, keep_blank_values=True)
    bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
    what = f"{request.method} {bucket}/{key}"
    if not key and request.method == "POST" and _form_field(request.body, "key"):
        # A browser's upload through a presigned POST: the signer's s3:PutObject on the key.
        posted = _form_field(request.body, "key") or ""
        return [Need("s3:PutObject", bucket_arn(bucket, posted), f"presigned POST {posted}")]
    if not key:
        if request.method == "POST" and "delete" in query:
            keys = re.findall(rb"<Key>([^<]+)</Key>", request.body)
            return [Need("s3:DeleteObject", bucket_arn(bucket, k.decode()), what) for k in keys]
        if request.method in ("GET", "HEAD") and not set(query) - _LIST_PARAMETERS:
            prefix = (query.get("prefix") or [""])[0]
            return [Need("s3:ListBucket", bucket_arn(bucket), what, (("s3:prefix", prefix),))]
        return [
            Need(f"s3:{request.method}Bucket?{'&'.join(sorted(query))}", bucket_arn(bucket), what)
        ]
    if request.method in ("GET", "HEAD"):
        found = [Need("s3:GetObject", bucket_arn(bucket, key), what)]
        if missing(bucket, key):
            found.append(Need("s3:ListBucket", bucket_arn(bucket), f"{what} (missing: 404)"))
        return found
    if request.method == "PUT":
        found = [Need("s3:PutObject", bucket_arn(bucket, key), what)]
        source = request.headers.get("x-amz-copy-source") or request.headers.get(
            "X-Amz-Copy-Source"
        )
        if source:
            src_bucket, _, src_key = unquote(source).lstrip("/").partition("/")
            found.append(
                Need("s3:GetObject", bucket_arn(src_bucket, src_key), f"copy from {source}")
            )
        return found
    if request.method == "DELETE":
        return [Need("s3:DeleteObject", bucket_arn(bucket, key), what)]
    return [Need(f"s3:{request.method}Object", bucket_arn(bucket, key), what)]


def _form_field(body: bytes, name: str) -> str | None:
    """A field of a multipart/form-data body, if it has one."""
    found = re.search(
        rb'name="' + re.escape(name.encode()) + rb'"\r\n\r\n([^\r]*)\r\n',
        body or b"",
        re.IGNORECASE,
    )
    return found.group(1).decode() if found else None


def allowed(statements: Iterable[Mapping[str, Any]], need: Need) -> bool:
    """Whether the policy's statements allow `need` (an explicit Deny wins)."""
    verdict = False
    for statement in statements:
        if (
            _matches(statement.get("Action"), need.action, fold=True)
            and _matches(statement.get("Resource"), need.resource, fold=False)
            and _conditions_hold(statement.get("Condition", {}), dict(need.context))
        ):
            if statement.get("Effect") == "Deny":
                return False
            verdict = True
    return verdict


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: dict[str, str]) -> bool:
    """StringLike and StringEquals on the request's keys; a key the request lacks fails its
    condition, as in AWS. Any other operator is not understood here: it fails too."""
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            value = context.get(key)
            if value is None or operator not in ("StringLike", "StringEquals"):
                return False
            patterns = [expected] if isinstance(expected, str) else list(expected)
            like = operator == "StringLike"  # * and ? are wildcards
            if not (_matches(patterns, value, fold=False) if like else value in patterns):
                return False
    return True


def _matches(patterns: Any, value: str, *, fold: bool) -> bool:
    patterns = [patterns] if isinstance(patterns, str) else list(patterns or [])
    if fold:
        return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def role_statements(template: Mapping[str, Any], role: str, names: Mapping[str, str]) -> list[dict]:
    """Every statement of `role`'s inline policies, references resolved: `names` maps a
    queue's or bucket's logical id to the suite's name for it."""
    statements = []
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            resolved = dict(statement)
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            resolved["Resource"] = [_resolve(r, template, names) for r in resources]
            statements.append(resolved)
    return statements


def _resolve(value: Any, template: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        return _arn(logical, template, names) if attribute == "Arn" else f"unresolved:{logical}"
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return re.sub(r"\$\{(\w+)\.Arn\}", lambda m: _arn(m.group(1), template, names), text)
    if "Ref" in value:
        return names.get(value["Ref"], f"unresolved:{value['Ref']}")
    return f"unresolved:{value}"


def _arn(logical: str, template: Mapping[str, Any], names: Mapping[str, str]) -> str:
    kind = template["Resources"][logical]["Type"]
    if kind == "AWS::SQS::Queue":
        return queue_arn(names[logical])
    if kind == "AWS::S3::Bucket":
        return bucket_arn(names[logical])
    return f"unresolved:{logical}"


def denials(
    requests: Iterable[RecordedRequest],
    statements: list[dict],
    missing: Callable[[str, str], bool],
) -> list[Need]:
    """What `requests` needed that `statements` do not grant (each once)."""
    refused: dict[tuple[str, str], Need] = {}
    for request in requests:
        for need in needs(request, missing):
            if not allowed(statements, need):
                refused.setdefault((need.action, need.resource), need)
    return list(refused.values())
