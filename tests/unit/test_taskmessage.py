import base64
import json

import pytest

from fluxa.errors import MalformedMessageError
from fluxa.messages.taskmessage import decode_sqs_body
from fluxa.messages.tasks import CORRELATION_HEADER, DEAD_LETTER_HEADER


def kombu_body(kwargs, headers, *, base64_outer=False, base64_inner=False):
    inner = json.dumps([[], kwargs, {"callbacks": None}])
    properties = {"delivery_tag": "x"}
    if base64_inner:
        inner = base64.b64encode(inner.encode()).decode()
        properties["body_encoding"] = "base64"
    envelope = json.dumps(
        {
            "body": inner,
            "content-type": "application/json",
            "headers": headers,
            "properties": properties,
        }
    )
    return base64.b64encode(envelope.encode()).decode() if base64_outer else envelope


@pytest.mark.parametrize(("outer", "inner"), [(False, False), (True, True), (True, False)])
def test_decodes_plain_and_base64_messages(outer, inner):
    headers = {
        "task": "fluxa.events.process",
        "id": "t1",
        CORRELATION_HEADER: "c1",
        DEAD_LETTER_HEADER: {
            "error_code": "HashMismatch",
            "error_message": "m",
            "attempts": 1,
            "first_failed_at": "a",
            "last_failed_at": "b",
            "correlation_id": "c1",
            "source_queue": "q",
            "retryable": False,
        },
    }
    message = decode_sqs_body(
        kombu_body({"events": [1]}, headers, base64_outer=outer, base64_inner=inner)
    )
    assert (message.task, message.task_id, message.kwargs) == (
        "fluxa.events.process",
        "t1",
        {"events": [1]},
    )
    assert message.correlation_id == "c1"
    assert message.envelope.error_code == "HashMismatch"


@pytest.mark.parametrize("body", ["crashes every worker", json.dumps({"x": 1}), "e30="])
def test_foreign_bodies_are_undecodable(body):
    with pytest.raises(MalformedMessageError):
        decode_sqs_body(body)
