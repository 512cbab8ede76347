"""The processing baseline: receive, archive, insert and delete with boto3 and psycopg,
nothing else (no validation, no hashing check, no retries, no dead letters)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import psycopg

from config import Settings
from fluxa.infra.aws import s3_client, sqs_client
from fluxa.messages.taskmessage import decode_sqs_body

CREATE = """
CREATE TABLE IF NOT EXISTS bench_raw_events (
    event_id text PRIMARY KEY, type text NOT NULL, source text NOT NULL,
    occurred_at timestamptz NOT NULL, archive_key text NOT NULL, archive_offset bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
)"""
INSERT = """
INSERT INTO bench_raw_events (event_id, type, source, occurred_at, archive_key, archive_offset)
VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"""


def run_until_empty(settings: Settings, queue_url: str, libpq_url: str) -> None:
    """Drain the queue; return after three empty long polls."""
    sqs, s3 = sqs_client(settings), s3_client(settings)
    with psycopg.connect(libpq_url) as conn:
        empty = 0
        while empty < 3:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            empty = 0 if messages else empty + 1
            for message in messages:
                _persist(conn, s3, settings.payload_bucket, message)
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )


def _persist(conn: psycopg.Connection, s3: Any, bucket: str, message: dict[str, Any]) -> None:
    events = decode_sqs_body(message["Body"]).kwargs["events"]
    lines = [
        json.dumps(e["payload"], sort_keys=True, separators=(",", ":")).encode() for e in events
    ]
    body = b"\n".join(lines)
    key = f"raw/{hashlib.sha256(body).hexdigest()}.jsonl"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    with conn.cursor() as cur:
        cur.executemany(
            INSERT,
            [(e["event_id"], e["type"], e["source"], e["occurred_at"], key, offset)
             for e, offset in zip(events, offsets, strict=True)],
        )  # fmt: skip
    conn.commit()


def _canonical(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
