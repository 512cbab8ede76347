"""Where Fluxa leans on a library's private API, and the ranges it promises.

A library may change its private names in any release. Each coupling is checked here by
name and signature, so that an upgrade that breaks one fails this file (which names the
Fluxa module that must follow) instead of a worker in production. The upper bounds in
pyproject.toml stop at the next minor release of each such library.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from kombu.asynchronous.aws.connection import AsyncAWSQueryConnection
from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection
from kombu.transport import SQS, virtual
from marshmallow import Schema, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.error_store import ErrorStore
from moto.s3.models import S3Backend
from moto.sqs.models import Queue, SQSBackend
from packaging.requirements import Requirement
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def requirements() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project["optional-dependencies"]
    listed = project["dependencies"] + extras["standalone"]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize("requirement", requirements(), ids=str)
def test_the_installed_release_is_one_the_ranges_allow(requirement):
    assert requirement.specifier.contains(version(requirement.name), prereleases=True)


@pytest.mark.parametrize(
    "name", ["kombu", "celery", "marshmallow", "moto", "flask-smorest", "uvicorn"]
)
def test_a_library_whose_private_api_fluxa_touches_is_bounded_below_its_next_minor(name):
    [requirement] = [r for r in requirements() if r.name == name]
    uppers = [spec for spec in requirement.specifier if spec.operator == "<"]
    assert uppers, f"{name} has no upper bound"
    lower = min(spec.version for spec in requirement.specifier if spec.operator == ">=")
    major, minor = (int(part) for part in lower.split(".")[:2])
    assert uppers[0].version in (f"{major}.{minor + 1}", f"{major}.{minor + 1}.0")


def test_kombu_sqs_channel_as_broker_sqs_transport_overrides_it():
    channel = SQS.Channel
    assert parameters(channel._on_messages_ready) == ["self", "queue", "qname", "messages"]
    assert parameters(channel._messages_to_python) == ["self", "messages", "queue"]
    assert parameters(channel._loop1) == ["self", "queue", "messages_fetched"]
    assert parameters(channel._schedule_queue) == ["self", "queue"]
    assert parameters(channel.asynsqs) == ["self", "queue"]
    assert parameters(channel._new_queue)[:2] == ["self", "queue"]
    # Clients from one shared boto3 session (fluxa.infra.aws): kombu makes every client
    # here, with these arguments, from the channel's endpoint, TLS and client-config.
    assert parameters(channel._new_boto_client) == [
        "self", "service", "region", "access_key_id", "secret_access_key", "session_token",
        "config",
    ]  # fmt: skip
    assert "self._new_boto_client(" in inspect.getsource(channel.new_sqs_client)
    assert "transport_options.get('client-config')" in inspect.getsource(channel._new_boto_client)
    # Leases (broker.leases): the receive that passes a visibility timeout, and where the
    # channel keeps what it holds (delivered; acknowledged but not yet forgotten).
    assert parameters(channel._get_from_sqs) == [
        "self", "queue_name", "queue_url", "connection", "count", "callback",
    ]  # fmt: skip
    assert "visibility_timeout" in parameters(AsyncSQSConnection.receive_message)
    init = inspect.getsource(virtual.QoS.__init__)
    assert "self._quick_append = self._delivered.__setitem__" in init
    assert "self._quick_ack = self._dirty.add" in init
    # `refusals_as_empty` shadows the parser per connection: kombu must look it up on the
    # instance at each receive, and pass it these arguments.
    assert parameters(AsyncAWSQueryConnection._on_list_ready) == [
        "self", "parent", "markers", "operation", "response",
    ]  # fmt: skip
    assert "self._on_list_ready" in inspect.getsource(AsyncAWSQueryConnection.get_list)


def test_marshmallow_internals_as_fluxa_validation_compiled_calls_them():
    assert parameters(fields.Field._deserialize)[:4] == ["self", "value", "attr", "data"]
    assert parameters(fields.Field._validate) == ["self", "value"]
    expected = {"error_store", "pass_collection", "data", "original_data", "many", "partial",
                "unknown", "field_errors"}  # fmt: skip
    assert expected <= set(parameters(Schema._invoke_schema_validators))
    # Hooks are looked up by these keys (a defaultdict of the schema's decorated methods).
    tags = (PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA)
    assert all(Schema._hooks.get(tag, []) == [] for tag in tags)
    assert hasattr(ErrorStore(), "errors")


def test_moto_models_as_launcher_durable_emulator_wraps_them():
    assert parameters(SQSBackend.send_message)[:2] == ["self", "queue_name"]
    assert parameters(Queue.delete_message) == ["self", "receipt_handle"]
    assert parameters(SQSBackend.purge_queue) == ["self", "queue_name"]
    assert parameters(S3Backend.put_object)[:3] == ["self", "bucket_name", "key_name"]
    assert parameters(S3Backend.delete_object)[:3] == ["self", "bucket_name", "key_name"]
    # A copy must reach put_object, or the durable emulator would not keep the copy.
    assert "self.put_object(" in inspect.getsource(S3Backend.copy_object)


def test_uvicorn_httptools_protocol_as_api_http_protocol_extends_it():
    protocol = HttpToolsProtocol
    assert parameters(protocol.data_received) == ["self", "data"]
    assert parameters(protocol.on_url) == ["self", "url"]
    assert parameters(protocol.send_400_response) == ["self", "msg"]
    for hook in ("connection_made", "connection_lost", "on_message_begin", "on_headers_complete"):
        assert callable(getattr(protocol, hook))
    # A parser error, which a callback's exception becomes, is answered by send_400_response.
    assert "self.send_400_response(msg)" in inspect.getsource(protocol.data_received)
    assert "self.url += url" in inspect.getsource(protocol.on_url)
    assert "self.loop = " in inspect.getsource(protocol.__init__)
