"""deploy/aws/fluxa.yaml deployed into the emulator's CloudFormation (moto in server mode):
the queues, redrive policies and buckets exist as the settings expect, and `fluxa setup
--check` passes against them (and fails, naming the queue, when they differ).

moto's CloudFormation creates what it implements and skips the rest with a warning; the
skipped types are listed below, so the day moto learns one this test says so. Those parts
are checked as data (tests/unit/test_aws_template.py) and by cfn-lint and checkov.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from cli.main import main
from launcher.waiting import wait_until
from tests.support.cfn_yaml import load_template
from tests.support.moto_stack import NOT_IN_THE_EMULATOR, for_the_emulator

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).parents[2] / "deploy" / "aws" / "fluxa.yaml"


@pytest.fixture(scope="module")
def stack(emulator):
    clients = {
        name: boto3.client(name, endpoint_url=emulator.endpoint, region_name="us-east-1")
        for name in ("cloudformation", "ec2", "acm", "sqs", "s3", "ecs", "iam", "sns")
    }
    subnets = [s["SubnetId"] for s in clients["ec2"].describe_subnets()["Subnets"][:2]]
    parameters = {
        "VpcId": clients["ec2"].describe_vpcs()["Vpcs"][0]["VpcId"],
        "PublicSubnetIds": ",".join(subnets),
        "PrivateSubnetIds": ",".join(subnets),
        "ImageUri": "fluxa:test",
        "CertificateArn": clients["acm"].request_certificate(DomainName="api.example.com")[
            "CertificateArn"
        ],
        "AlarmEmail": "ops@example.com",
    }
    name = f"fluxa-{uuid.uuid4().hex[:6]}"
    clients["cloudformation"].create_stack(
        StackName=name,
        TemplateBody=json.dumps(for_the_emulator(load_template(TEMPLATE))),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    status = wait_until(
        lambda: (
            clients["cloudformation"]
            .describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            .endswith("COMPLETE")
            and clients["cloudformation"].describe_stacks(StackName=name)["Stacks"][0]
        ),
        timeout=120,
        what="the stack",
    )
    assert status["StackStatus"] == "CREATE_COMPLETE", status
    summaries = clients["cloudformation"].list_stack_resources(StackName=name)[
        "StackResourceSummaries"
    ]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}
    return name, clients, physical


#: Options the fixture's parameters leave off: their resources are rightly absent.
LEFT_OFF = {"HasDatabaseReader"}


def test_moto_creates_everything_but_the_types_it_lacks(stack):
    _, _, physical = stack
    resources = load_template(TEMPLATE)["Resources"]
    missing = {
        resource["Type"]
        for name, resource in resources.items()
        if name not in physical and resource.get("Condition") not in LEFT_OFF
    }
    assert missing <= NOT_IN_THE_EMULATOR
    assert "AWS::SQS::Queue" not in missing and "AWS::ECS::Service" not in missing


def test_queues_have_the_redrive_and_timeouts_the_settings_expect(stack):
    name, clients, _ = stack
    sqs = clients["sqs"]

    def attributes(queue):
        url = sqs.get_queue_url(QueueName=f"{name}-{queue}")["QueueUrl"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    dlq, stats_dlq = attributes("DLQ"), attributes("StatsDLQ")
    for queue, dead in (("InputQueue", dlq), ("MaintenanceQueue", dlq), ("StatsQueue", stats_dlq)):
        seen = attributes(queue)
        policy = json.loads(seen["RedrivePolicy"])
        assert policy["deadLetterTargetArn"] == dead["QueueArn"]
        assert int(policy["maxReceiveCount"]) == 5
        assert seen["VisibilityTimeout"] == "900"
        assert seen["SqsManagedSseEnabled"] == "true"
    assert dlq["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_buckets_exist_encrypted(stack):
    """moto applies a bucket's encryption (and tags) only: public access blocks, policies,
    lifecycle rules and CORS are checked as data (tests/unit/test_aws_template.py)."""
    _, clients, physical = stack
    for bucket in (physical["PayloadBucket"], physical["ImageBucket"]):
        rules = clients["s3"].get_bucket_encryption(Bucket=bucket)
        default = rules["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert default["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_the_processes_and_their_roles_exist(stack):
    _, clients, physical = stack
    ecs = clients["ecs"]
    services = ecs.describe_services(
        cluster=physical["Cluster"],
        services=[physical[s] for s in ("ApiService", "EventWorkerService", "StatsWorkerService")],
    )["services"]
    assert len(services) == 3
    roles = {r["RoleName"] for r in clients["iam"].list_roles()["Roles"]}
    for role in ("ApiTaskRole", "EventWorkerTaskRole", "StatsWorkerTaskRole", "BeatTaskRole"):
        assert physical[role] in roles


def check(stack, settings, emulator, **overrides):
    """`fluxa setup --check` with settings naming the stack's queues and buckets (the
    database: the suite's, migrated by the `settings` fixture)."""
    name, _, physical = stack
    env = {
        "FLUXA_DATABASE_URL": settings.database_url,
        "FLUXA_AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": "us-east-1",
        "FLUXA_INPUT_QUEUE": f"{name}-InputQueue",
        "FLUXA_STATS_QUEUE": f"{name}-StatsQueue",
        "FLUXA_MAINTENANCE_QUEUE": f"{name}-MaintenanceQueue",
        "FLUXA_DLQ": f"{name}-DLQ",
        "FLUXA_STATS_DLQ": f"{name}-StatsDLQ",
        "FLUXA_PAYLOAD_BUCKET": physical["PayloadBucket"],
        "FLUXA_IMAGE_BUCKET": physical["ImageBucket"],
        **overrides,
    }
    return CliRunner(env=env).invoke(main, ["setup", "--check"])


def test_setup_check_passes_against_the_stack_and_creates_nothing(stack, settings, emulator):
    _, clients, _ = stack
    queues_before = clients["sqs"].list_queues().get("QueueUrls", [])
    result = check(stack, settings, emulator)
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)
    assert len(findings) == 1 + 5 + 2 and all(f["ok"] for f in findings)
    assert clients["sqs"].list_queues().get("QueueUrls", []) == queues_before


def test_setup_check_names_what_differs(stack, settings, emulator):
    name, _, _ = stack
    result = check(stack, settings, emulator, FLUXA_SQS_MAX_RECEIVE_COUNT="3")
    assert result.exit_code == 1
    wrong = {f["subject"] for f in json.loads(result.output) if not f["ok"]}
    assert wrong == {f"queue {name}-InputQueue", f"queue {name}-StatsQueue",
                     f"queue {name}-MaintenanceQueue"}  # fmt: skip
