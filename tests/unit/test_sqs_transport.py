"""Acknowledgements deleted in batches (broker/sqs_transport.py), on kombu's real channel
with the SQS client and the event loop replaced (the worker-level proof is in
tests/integration/test_event_pipeline.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kombu import Connection
from kombu.asynchronous.aws.connection import AsyncAWSQueryConnection

from broker.sqs_transport import (
    BATCH_LIMIT,
    FLUSH_AFTER_SECONDS,
    REFUSED_RECEIVE_BACKOFF_SECONDS,
    DeleteBatches,
    PendingDelete,
    refusals_as_empty,
)

QUEUE_URL = "http://sqs.local/000000000000/Fluxa-InputQueue"


class RecordingSQS:
    def __init__(self, fail: Exception | None = None, failed_ids: tuple[str, ...] = ()) -> None:
        self.batches: list[list[str]] = []
        self.single_deletes = 0
        self._fail, self._failed_ids = fail, failed_ids

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:  # noqa: N803
        assert QueueUrl == QUEUE_URL
        if self._fail:
            raise self._fail
        self.batches.append([entry["ReceiptHandle"] for entry in Entries])
        return {"Failed": [{"Id": i, "Code": "ReceiptHandleIsInvalid"} for i in self._failed_ids]}

    def delete_message(self, **_: object) -> dict:
        self.single_deletes += 1
        return {}


class Hub:
    def __init__(self) -> None:
        self.timers: list[tuple[float, object, tuple]] = []

    def call_later(self, delay: float, callback, *args):
        self.timers.append((delay, callback, args))

    def fire(self) -> None:
        timers, self.timers = self.timers, []
        for _, callback, args in timers:
            callback(*args)


@pytest.fixture
def channel():
    connection = Connection(
        "sqs://",
        transport="broker.sqs_transport:Transport",
        transport_options={
            "region": "us-east-1",
            "predefined_queues": {"Fluxa-InputQueue": {"url": QUEUE_URL}},
        },
    )
    channel = connection.channel()
    channel.hub = Hub()
    channel.client = RecordingSQS()
    channel.sqs = lambda queue=None: channel.client
    yield channel
    connection.release()


def deliver(channel, n: int) -> str:
    """A received message as kombu records it; its delivery tag."""
    tag = f"tag-{n}"
    info = {"sqs_queue": QUEUE_URL, "sqs_message": {"ReceiptHandle": f"rh-{n}"}}
    channel.qos.append(SimpleNamespace(delivery_info=info), tag)
    return tag


def test_ten_acknowledgements_are_one_batch_delete_and_free_their_slots_at_once(channel):
    channel.qos.prefetch_count = BATCH_LIMIT
    tags = [deliver(channel, n) for n in range(BATCH_LIMIT)]
    assert not channel.qos.can_consume()
    for tag in tags[:-1]:
        channel.basic_ack(tag)
    assert channel.client.batches == []  # waiting for more
    assert channel.qos.can_consume_max_estimate() == BATCH_LIMIT - 1  # their slots are free

    channel.basic_ack(tags[-1])
    assert channel.client.batches == [[f"rh-{n}" for n in range(BATCH_LIMIT)]]
    assert channel.client.single_deletes == 0


def test_a_partial_batch_is_deleted_by_its_timer(channel):
    for n in range(3):
        channel.basic_ack(deliver(channel, n))
    assert [delay for delay, _, _ in channel.hub.timers] == [FLUSH_AFTER_SECONDS]  # one timer

    channel.hub.fire()
    assert channel.client.batches == [["rh-0", "rh-1", "rh-2"]]
    channel.hub.fire()
    assert channel.client.batches == [["rh-0", "rh-1", "rh-2"]]  # nothing sent twice


def test_closing_the_channel_deletes_what_waits(channel):
    channel.basic_ack(deliver(channel, 1))
    client = channel.client
    channel.close()
    assert client.batches == [["rh-1"]]


@pytest.mark.parametrize(
    "client", [RecordingSQS(fail=ConnectionError()), RecordingSQS(failed_ids=("0",))]
)
def test_a_failed_delete_is_logged_not_raised_into_the_event_loop(channel, client, caplog):
    channel.client = client
    channel.basic_ack(deliver(channel, 1))
    channel.hub.fire()  # must not raise: the message is simply delivered again later
    assert "not deleted" in caplog.text


def test_without_an_event_loop_each_acknowledgement_is_deleted_at_once(channel):
    channel.hub = None
    channel.basic_ack(deliver(channel, 1))
    assert channel.client.single_deletes == 1 and channel.client.batches == []


def test_delete_batches_group_by_queue_and_forget_what_they_hand_out():
    batches = DeleteBatches()
    assert batches.add("a", PendingDelete(None, "1")) == 1
    assert batches.add("a", PendingDelete(None, "2")) == 2
    assert batches.add("b", PendingDelete(None, "3")) == 1
    assert [d.receipt_handle for d in batches.take("a")] == ["1", "2"]
    assert batches.take("a") == []
    assert list(batches.take_all()) == ["b"]
    assert batches.take_all() == {}


class Refusal:
    """An HTTP answer as kombu's async client hands it over."""

    status, reason = 400, "Bad Request"

    def read(self) -> bytes:
        return b'{"__type": "com.amazonaws.sqs#RequestThrottled"}'


class Parser(AsyncAWSQueryConnection):
    """kombu's parser of async answers, without a connection (no answer here is a 200)."""

    def __init__(self) -> None:
        self.sqs_connection = SimpleNamespace(meta=SimpleNamespace(service_model=None))


def test_a_refused_receive_is_an_empty_one_not_an_error_in_the_event_loop(caplog):
    parser = Parser()
    with pytest.raises(Exception, match="HTTP 400"):  # kombu's own parser raises
        parser._on_list_ready(None, [], "ReceiveMessage", Refusal())
    guarded = refusals_as_empty(parser._on_list_ready)
    assert guarded(None, [], "ReceiveMessage", Refusal()) == []
    assert "SQS refused a receive" in caplog.text
    with pytest.raises(Exception, match="HTTP 400"):  # only receives are read so
        guarded(None, [], "GetQueueAttributes", Refusal())


def test_after_a_failed_receive_the_queue_is_polled_again_after_a_backoff(channel):
    polled: list[str] = []
    channel._schedule_queue = polled.append
    assert channel._on_messages_ready(QUEUE_URL, "Fluxa-InputQueue", []) == 0  # kombu's 5xx
    channel._loop1("Fluxa-InputQueue", 0)
    [(delay, callback, _)] = channel.hub.timers
    assert delay == REFUSED_RECEIVE_BACKOFF_SECONDS and callback == polled.append
    channel.hub.fire()
    assert polled == ["Fluxa-InputQueue"]
