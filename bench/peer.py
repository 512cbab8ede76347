"""The peer on the ingest table: the plainest correct single-event ingest a team would write
instead of Fluxa. Flask, check the fields, hash the canonical payload, one `send_message`
per request with boto3, answer 202 after SQS accepted it. Same server, same broker."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import boto3
from flask import Flask, request

from api.request_gate import GateLimits
from api.wsgi_bridge import served
from config import load_settings

REQUIRED = {"type": str, "source": str, "occurred_at": str, "payload": dict}

app = Flask(__name__)
_settings = load_settings()
_sqs = boto3.client(
    "sqs", endpoint_url=_settings.sqs_endpoint_url, region_name=_settings.aws_region
)
_queue_url = f"{_settings.sqs_queue_url_prefix}/{_settings.input_queue}"


@app.get("/healthz")
def healthz() -> Any:
    return {}


@app.post("/v1/events")
def post_event() -> Any:
    event = request.get_json(silent=True)
    if not isinstance(event, dict):
        return {"detail": "body must be a JSON object"}, 400
    wrong = [name for name, kind in REQUIRED.items() if not isinstance(event.get(name), kind)]
    if wrong:
        return {"detail": "invalid fields", "fields": wrong}, 400
    canonical = json.dumps(event["payload"], sort_keys=True, separators=(",", ":"))
    message = {**event, "event_id": str(uuid.uuid4()),
               "payload_sha256": hashlib.sha256(canonical.encode()).hexdigest()}  # fmt: skip
    _sqs.send_message(QueueUrl=_queue_url, MessageBody=json.dumps(message))
    return {"event_id": message["event_id"], "status": "accepted"}, 202


#: The peer served as the API is (`api.asgi`): the same gate and thread pool.
asgi_app = served(app, GateLimits(max_body_bytes=16 << 20, body_seconds=30))
