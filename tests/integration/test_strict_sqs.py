"""The strict layer itself (launcher/strict_sqs.py): each of AWS's rules it claims to play,
seen through boto3 as any client sees it, on a queue of this module's own."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from launcher.strict_sqs import Strictness, StrictSqs
from launcher.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def layer(emulator):
    strict = StrictSqs(("127.0.0.1", emulator.port), Strictness(empty_short_polls=0.0))
    yield strict
    strict.close()


def client(layer, attempts=1):
    return boto3.client(
        "sqs", endpoint_url=layer.endpoint, region_name="us-east-1",
        config=Config(retries={"max_attempts": attempts, "mode": "standard"}),
    )  # fmt: skip


@pytest.fixture
def queue(layer):
    sqs = client(layer, attempts=5)
    url = sqs.create_queue(QueueName=f"strict-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    return url


def receive(sqs, url, wait):
    return sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, VisibilityTimeout=30
    ).get("Messages", [])


def test_a_short_poll_may_come_back_empty_while_a_long_poll_asks_every_server(layer, queue):
    sqs = client(layer)
    with layer.rates(empty_short_polls=1.0):
        assert [receive(sqs, queue, wait=0) for _ in range(5)] == [[]] * 5
        assert len(receive(sqs, queue, wait=1)) == 5


def test_a_short_poll_answers_from_a_sample(layer, queue):
    sqs = client(layer)
    sizes = set()
    for _ in range(20):
        batch = receive(sqs, queue, wait=0)
        sizes.add(len(batch))
        for message in batch:
            sqs.change_message_visibility(
                QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    assert len(sizes) > 1 and max(sizes) <= 5


def test_a_deleted_message_may_be_delivered_again(layer, queue):
    sqs = client(layer)
    with layer.rates(lost_deletes=1.0):
        [first, *_] = receive(sqs, queue, wait=1)
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])  # "done"
    again = wait_until(
        lambda: [m for m in receive(sqs, queue, wait=1) if m["MessageId"] == first["MessageId"]],
        timeout=20,
        what="the deleted message delivered again",
    )
    assert again[0]["Body"] == first["Body"]


def test_throttles_and_server_errors_reach_a_client_that_does_not_retry(layer, queue):
    sqs = client(layer)
    with layer.rates(throttles=1.0), pytest.raises(ClientError) as throttled:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    assert throttled.value.response["Error"]["Code"] == "RequestThrottled"
    with layer.rates(server_errors=1.0), pytest.raises(ClientError) as failed:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_send_whose_answer_was_lost_is_there_twice_after_the_clients_retry(layer):
    sqs = client(layer, attempts=1)
    url = sqs.create_queue(QueueName=f"strict-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    with layer.rates(server_errors=1.0):
        while layer.played["server_error_after_effect"] == 0:
            with pytest.raises(ClientError):
                sqs.send_message(QueueUrl=url, MessageBody="once")
    sqs.send_message(QueueUrl=url, MessageBody="once")  # the client's retry
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(counts["Attributes"]["ApproximateNumberOfMessages"]) >= 2


def test_a_receive_whose_answer_was_lost_hides_its_messages_for_the_timeout(layer, queue):
    sqs = client(layer)
    with layer.rates(server_errors=1.0, lost_receive_answers=1.0), pytest.raises(ClientError):
        receive(sqs, queue, wait=0)
    counts = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert int(counts["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) >= 1
