"""AWS's rules for what a request needs, and the policy check (tests/support/aws_iam.py)."""

from __future__ import annotations

import json

from launcher.emulator import RecordedRequest
from tests.support.aws_iam import Need, access_key, allowed, bucket_arn, needs, queue_arn

SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=ApiTaskRole/20261205/us-east-1/sqs/aws4_request"
}
QUEUE = "http://127.0.0.1:1/123456789012/Fluxa-DLQ"


def sqs(action: str, **body: str) -> RecordedRequest:
    return RecordedRequest(f"SQS {action}", json.dumps(body).encode(), "POST", "/", SIGNED)


def s3(method: str, url: str, body: bytes = b"", **headers: str) -> RecordedRequest:
    return RecordedRequest(f"S3 {method}", body, method, url, {**SIGNED, **headers})


def never_missing(bucket: str, key: str) -> bool:
    return False


def test_who_signed():
    assert access_key(sqs("SendMessage", QueueUrl=QUEUE)) == "ApiTaskRole"
    post = RecordedRequest(
        "S3 POST", b'name="x-amz-credential"\r\n\r\nUser/2026/x\r\n', "POST", "/b"
    )
    assert access_key(post) == "User"


def test_a_batch_needs_the_single_action_on_the_queue():
    [need] = needs(sqs("DeleteMessageBatch", QueueUrl=QUEUE), never_missing)
    assert (need.action, need.resource) == ("sqs:DeleteMessage", queue_arn("Fluxa-DLQ"))
    [named] = needs(sqs("GetQueueUrl", QueueName="Fluxa-DLQ"), never_missing)
    assert named.resource == queue_arn("Fluxa-DLQ")


def test_s3_reads_copies_deletes_and_lists():
    [head] = needs(s3("HEAD", "http://h/b/archive/k"), never_missing)
    assert (head.action, head.resource) == ("s3:GetObject", bucket_arn("b", "archive/k"))
    missing = needs(s3("GET", "http://h/b/archive/k"), lambda bucket, key: True)
    assert [n.action for n in missing] == ["s3:GetObject", "s3:ListBucket"]
    copy = needs(
        s3("PUT", "http://h/b/archive/k", **{"x-amz-copy-source": "b/claims/c"}), never_missing
    )
    assert {(n.action, n.resource) for n in copy} == {
        ("s3:PutObject", bucket_arn("b", "archive/k")),
        ("s3:GetObject", bucket_arn("b", "claims/c")),
    }
    multi = needs(s3("POST", "http://h/b?delete", b"<Key>a</Key><Key>c</Key>"), never_missing)
    assert [n.resource for n in multi] == [bucket_arn("b", "a"), bucket_arn("b", "c")]
    [listing] = needs(s3("GET", "http://h/b?list-type=2&prefix=users/"), never_missing)
    assert (listing.action, listing.resource) == ("s3:ListBucket", bucket_arn("b"))


def test_allowed_matches_wildcards_and_a_deny_wins():
    statements = [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/archive/*"]},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": queue_arn("Fluxa-DLQ")},
        {"Effect": "Deny", "Action": "sqs:PurgeQueue", "Resource": "*"},
    ]
    assert allowed(statements, Need("s3:GetObject", bucket_arn("b", "archive/x/y")))
    assert not allowed(statements, Need("s3:GetObject", bucket_arn("b", "claims/x")))
    assert allowed(statements, Need("SQS:SendMessage", queue_arn("Fluxa-DLQ")))
    assert not allowed(statements, Need("sqs:PurgeQueue", queue_arn("Fluxa-DLQ")))


def test_a_listing_is_allowed_only_under_the_prefix_a_condition_names():
    statements = [{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn("images"),
        "Condition": {"StringLike": {"s3:prefix": "users/*"}},
    }]  # fmt: skip
    (under,) = needs(s3("GET", "/images?list-type=2&prefix=users%2Fu1%2F"), never_missing)
    (outside,) = needs(s3("GET", "/images?list-type=2&prefix=archive%2F"), never_missing)
    (bare,) = needs(s3("GET", "/images?list-type=2"), never_missing)
    assert allowed(statements, under)
    assert not allowed(statements, outside) and not allowed(statements, bare)
    missing_key = Need("s3:ListBucket", bucket_arn("images"), "HEAD of a missing key")
    assert not allowed(statements, missing_key)  # no s3:prefix in that request: fails
