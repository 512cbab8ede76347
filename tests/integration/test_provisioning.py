"""`fluxa setup`: queues with redrive policies, buckets, and the Alembic-owned schema."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fluxa.events.partition_repository import list_partitions
from fluxa.infra.provisioning import ensure_queues, setup_all
from fluxa.infra.queues import topology
from fluxa.migrations import current_revision, head_revision
from fluxa.migrations.tables import ALL_TABLES, metadata

pytestmark = pytest.mark.integration


def test_every_source_queue_redrives_to_its_dlq(settings, sqs, queue_url):
    for spec in topology(settings):
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url(spec.name), AttributeNames=["All"])[
            "Attributes"
        ]
        assert attrs["VisibilityTimeout"] == str(settings.sqs_visibility_timeout)
        if spec.is_dead_letter:
            assert "RedrivePolicy" not in attrs
            continue
        policy = json.loads(attrs["RedrivePolicy"])
        assert policy["deadLetterTargetArn"].endswith(":" + spec.dead_letter)
        assert int(policy["maxReceiveCount"]) == settings.sqs_max_receive_count


def test_setup_runs_again_without_harm(settings, sqs, s3):
    again = setup_all(settings, sqs, s3)
    assert set(again["queues"]) == {spec.name for spec in topology(settings)}
    assert current_revision(settings.database_url) == head_revision()


def test_a_message_that_keeps_failing_is_redriven_by_sqs(settings, sqs):
    # A queue pair of its own, so no worker consumes it: receive without ever deleting.
    suffix = uuid.uuid4().hex[:8]
    scratch = dataclasses.replace(
        settings,
        input_queue=f"Scratch-In-{suffix}",
        dead_letter_queue=f"Scratch-DLQ-{suffix}",
        stats_queue=f"Scratch-Stats-{suffix}",
        stats_dead_letter_queue=f"Scratch-StatsDLQ-{suffix}",
        maintenance_queue=f"Scratch-Maint-{suffix}",
    )
    urls = ensure_queues(scratch, sqs)
    source, dlq = urls[scratch.input_queue], urls[scratch.dead_letter_queue]
    sqs.send_message(QueueUrl=source, MessageBody="crashes every worker")
    for _ in range(settings.sqs_max_receive_count):
        got = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, WaitTimeSeconds=1)
        assert got.get("Messages"), "the message should still be in its source queue"
    # A long poll asks every server: only an empty long poll says the message is gone.
    assert not sqs.receive_message(QueueUrl=source, WaitTimeSeconds=1).get("Messages")
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
    assert moved[0]["Body"] == "crashes every worker"


def test_migrations_match_the_table_definitions(engine):
    assert {table.name for table in ALL_TABLES} == set(metadata.tables)
    with engine.connect() as conn:
        partitions = {p.name for p in list_partitions(conn)}
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda obj, name, kind, *_: _not_a_partition(
                    obj, name, kind, partitions
                )
            },
        )
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert partitions, "events has its partitions"


def _not_a_partition(obj, name, kind, partitions: set[str]) -> bool:
    """Partitions are made at run time (fluxa.events.partitions), not declared."""
    table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in partitions
