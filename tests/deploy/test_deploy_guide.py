"""docs/deploy-aws.md run as written: every `sh` block of the guide, in order, in one bash,
with the AWS CLI against moto in server mode.

The guide's commands reach AWS through the CLI exactly as a reader types them. What moto
cannot be is stood in for, each on one line below, so the test says where it stops:

- `docker` builds and pushes nothing (no container engine here); the stand-in records
  what it was asked, and the test checks the image it was told to push is the one deployed.
- moto runs no container: a started task goes RUNNING → STOPPED as it is described, with
  no exit code, and `curl` to the API has no API to reach (the stand-in records it).
- fluxa.yaml and network.yaml are deployed as moto can take them (tests/support/
  moto_stack.py says what changes and why), by a wrapper that swaps the file the guide
  names; every other argument is the guide's.
- Blocks that need what moto does not create (the Cognito pool and its clients) are
  listed in BEYOND_THE_EMULATOR with the reason, and the test fails if one no longer
  exists in the guide.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from launcher.ports import free_port
from launcher.waiting import wait_until
from tests.support.cfn_yaml import load_template
from tests.support.moto_stack import for_the_emulator, network_for_the_emulator

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "deploy-aws.md"
TEMPLATE = ROOT / "deploy" / "aws" / "fluxa.yaml"
NETWORK = ROOT / "deploy" / "aws" / "network.yaml"
AWS_CLI = ROOT / ".venv-aws" / "bin" / "aws"
REGION = "eu-west-1"

#: Blocks the emulator cannot run, by a line they hold, with why.
BEYOND_THE_EMULATOR = {
    "aws cognito-idp describe-user-pool-client": "moto's CloudFormation creates no user pool",
}

pytestmark = pytest.mark.skipif(not AWS_CLI.exists(), reason="make test creates .venv-aws")


def guide_blocks() -> list[str]:
    """The guide's `sh` blocks, in order, dedented (list items indent theirs)."""
    blocks = re.findall(r"^( *)```sh\n(.*?)^\1```", GUIDE.read_text(), flags=re.M | re.S)
    return [textwrap.dedent(body) for _, body in blocks]


def runnable_blocks() -> list[str]:
    blocks = guide_blocks()
    for line in BEYOND_THE_EMULATOR:
        assert any(line in block for block in blocks), f"the guide no longer says {line!r}"
    return [b for b in blocks if not any(line in b for line in BEYOND_THE_EMULATOR)]


STAND_INS = {
    # aws: the guide's arguments, with fluxa.yaml swapped for the emulator's copy.
    "aws": """#!/usr/bin/env bash
args=()
for arg in "$@"; do
  [ "$arg" = deploy/aws/fluxa.yaml ] && arg=$FLUXA_TEMPLATE_FOR_MOTO
  [ "$arg" = deploy/aws/network.yaml ] && arg=$FLUXA_NETWORK_FOR_MOTO
  args+=("$arg")
done
exec "$FLUXA_REAL_AWS" "${args[@]}"
""",
    "docker": """#!/usr/bin/env bash
[ "$1" = login ] && cat > /dev/null   # the password, from the pipe
echo "docker $*" >> "$FLUXA_STAND_IN_LOG"
""",
    "curl": """#!/usr/bin/env bash
echo "curl $*" >> "$FLUXA_STAND_IN_LOG"
""",
}


@pytest.fixture(scope="module")
def moto(tmp_path_factory) -> Iterator[str]:
    """A moto server of this test's own (change sets executed as AWS does, ACM validating
    certificates at once)."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.support.moto_as_aws", "-p", str(port)],
            env={**os.environ, "MOTO_ACM_VALIDATION_WAIT": "0"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # "localhost", not 127.0.0.1: moto's CloudFormation finds a TemplateURL's bucket in the
    # path only when the URL's host says localhost (or amazonaws.com).
    endpoint = f"http://localhost:{port}"
    wait_until(lambda: _answers(endpoint), timeout=30, what="moto")
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


def _answers(endpoint: str) -> bool:
    try:
        boto3.client("sts", endpoint_url=endpoint, region_name=REGION).get_caller_identity()
    except (BotoCoreError, ClientError):  # not up yet
        return False
    return True


@pytest.fixture(scope="module")
def guide_run(moto, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("guide")
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for name, text in STAND_INS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    emulator_template = folder / "fluxa-for-moto.json"
    emulator_template.write_text(json.dumps(for_the_emulator(load_template(TEMPLATE))))
    emulator_network = folder / "network-for-moto.json"
    network = network_for_the_emulator(load_template(NETWORK), REGION)
    emulator_network.write_text(json.dumps(network))
    script = "set -eo pipefail\n" + "\n".join(runnable_blocks())
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(folder),
        "AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_PAGER": "",
        "FLUXA_REAL_AWS": str(AWS_CLI),
        "FLUXA_TEMPLATE_FOR_MOTO": str(emulator_template),
        "FLUXA_NETWORK_FOR_MOTO": str(emulator_network),
        "FLUXA_STAND_IN_LOG": str(folder / "stand-ins.log"),
    }
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return {"output": result.stdout, "stand_ins": (folder / "stand-ins.log").read_text()}


def clients(moto: str, *names: str):
    return [boto3.client(n, endpoint_url=moto, region_name=REGION) for n in names]


def test_every_command_of_the_guide_runs_and_the_stack_ends_running_the_new_image(guide_run, moto):
    (cloudformation,) = clients(moto, "cloudformation")
    stacks = {s["StackName"]: s for s in cloudformation.describe_stacks()["Stacks"]}
    assert set(stacks) == {"fluxa-prod", "fluxa-prod-network"}
    stack = stacks["fluxa-prod"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["Running"] == "true"
    assert parameters["SetupImageUri"] == parameters["ApiImageUri"] == ""
    pushed = re.findall(r"^docker push (\S+)$", guide_run["stand_ins"], flags=re.M)
    assert pushed and parameters["ImageUri"] == pushed[-1]
    network = {o["OutputKey"]: o["OutputValue"] for o in stacks["fluxa-prod-network"]["Outputs"]}
    assert parameters["VpcId"] == network["VpcId"]


def test_the_template_went_through_the_bucket_the_guide_made(guide_run, moto):
    (s3,) = clients(moto, "s3")
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith(
        f"{REGION}-cloudformation")]  # fmt: skip
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] >= 1


def test_the_setup_and_operator_tasks_ran_as_the_guide_starts_them(guide_run, moto):
    cloudformation, ecs = clients(moto, "cloudformation", "ecs")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cloudformation.describe_stacks(StackName="fluxa-prod")["Stacks"][0]["Outputs"]
    }
    cluster = outputs["ClusterName"]
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    arns += ecs.list_tasks(cluster=cluster)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    families = [t["taskDefinitionArn"].rsplit("/", 1)[1].split(":")[0] for t in tasks]
    assert families.count("fluxa-prod-setup") == 2  # step 5 and the upgrade
    (operator,) = [t for t in tasks if "operator" in t["taskDefinitionArn"]]
    (override,) = operator["overrides"]["containerOverrides"]
    assert override["command"] == ["fluxa", "dlq", "inspect", "--queue", "events"]
    # ECS refuses an override of a container the task does not have (moto loses the
    # names of containers made by CloudFormation, so the template says it).
    operator_task = load_template(TEMPLATE)["Resources"]["OperatorTask"]["Properties"]
    assert [c["Name"] for c in operator_task["ContainerDefinitions"]] == [override["name"]]


def test_the_database_log_group_gets_its_retention(guide_run, moto):
    cloudformation, logs = clients(moto, "cloudformation", "logs")
    outputs = cloudformation.describe_stacks(StackName="fluxa-prod")["Stacks"][0]["Outputs"]
    (group,) = [o["OutputValue"] for o in outputs if o["OutputKey"] == "DatabaseLogGroup"]
    (found,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert found["retentionInDays"] == 90


def test_the_guide_calls_the_api_only_through_its_domain(guide_run):
    assert "curl -s https://api.example.com/readyz" in guide_run["stand_ins"]
