"""deploy/aws/fluxa.yaml read as data: the runbook's alarms with fluxa.ops.alarm_rules'
thresholds, the settings' numbers, every process given the same settings."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from config import Settings, load_settings
from config.settings import DEFAULT_RATE_LIMITS
from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from fluxa.events.retention import LIFECYCLE_GRACE_DAYS
from fluxa.infra.queues import DLQ_RETENTION_SECONDS, source_queues
from fluxa.ops import alarm_rules, emf
from tests.support.cfn_yaml import load_template

TEMPLATE = Path(__file__).parents[2] / "deploy" / "aws" / "fluxa.yaml"
RUNBOOK = Path(__file__).parents[2] / "docs" / "runbook.md"


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE)


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def alarm_named(template, suffix):
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        name = alarm["Properties"].get("AlarmName", {}).get("Fn::Sub", "")
        if name == "${AWS::StackName}-" + suffix:
            return alarm["Properties"]
    raise AssertionError(f"no alarm named …-{suffix}")


@pytest.mark.parametrize(
    ("name", "threshold"),
    [
        ("ProcessorErrorRate", alarm_rules.ERROR_RATE_PERCENT),
        ("APIGateway5xx", alarm_rules.ERROR_RATE_PERCENT),
        ("DLQDepth-events", alarm_rules.DLQ_DEPTH),
        ("DLQDepth-stats", alarm_rules.DLQ_DEPTH),
        ("DBHighCPU", alarm_rules.DB_HIGH_CPU_PERCENT),
        ("ApiThrottling", alarm_rules.THROTTLED_PERCENT),
        ("EventPartitions", alarm_rules.EVENT_PARTITIONS_LATE),
    ],
)
def test_each_runbook_alarm_has_the_shared_threshold_an_action_and_its_section(
    template, name, threshold
):
    alarm = alarm_named(template, name)
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert {"Ref": "AlarmTopic"} in alarm["AlarmActions"]
    section = alarm["AlarmDescription"].split("Runbook §", 1)[1].split(" ", 1)[0]
    assert f"## {section}. " in RUNBOOK.read_text(), f"{name} names runbook §{section}"


def test_the_error_rate_alarm_reads_the_metrics_the_workers_emit(template):
    names = {
        m["MetricStat"]["Metric"]["MetricName"]
        for m in alarm_named(template, "ProcessorErrorRate")["Metrics"]
        if "MetricStat" in m
    }
    assert names == {emf.EVENTS_PROCESSED, emf.EVENTS_DEAD_LETTERED}


def test_queue_parameters_default_to_the_settings_numbers(template):
    defaults = load_settings({})
    parameters = template["Parameters"]
    assert parameters["SqsVisibilityTimeout"]["Default"] == defaults.sqs_visibility_timeout
    assert parameters["SqsMaxReceiveCount"]["Default"] == defaults.sqs_max_receive_count
    assert parameters["SqsMaxMessageBytes"]["Default"] == defaults.sqs_max_message_bytes
    assert parameters["DeadLetterRetentionSeconds"]["Default"] == DLQ_RETENTION_SECONDS


def container(task):
    (only,) = task["Properties"]["ContainerDefinitions"]
    return only


def environment(task):
    return {e["Name"]: e["Value"] for e in container(task)["Environment"]}


def test_every_process_gets_the_same_settings_and_only_settings_that_exist(template):
    tasks = resources(template, "AWS::ECS::TaskDefinition")
    assert set(tasks) == {
        "ApiTask",
        "EventWorkerTask",
        "StatsWorkerTask",
        "BeatTask",
        "SetupTask",
        "OperatorTask",
    }
    shared = [environment(t) for t in tasks.values()]
    assert all(env == shared[0] for env in shared)
    known = {f.metadata["env"] for f in fields(Settings)}
    given = set(shared[0]) | {"FLUXA_DATABASE_PASSWORD"}
    assert given <= known, given - known
    for task in tasks.values():
        (secret,) = container(task)["Secrets"]
        assert secret["Name"] == "FLUXA_DATABASE_PASSWORD"  # never in plain text
        assert container(task)["ReadonlyRootFilesystem"] is True


def test_event_and_stats_workers_together_consume_every_source_queue(template):
    tasks = resources(template, "AWS::ECS::TaskDefinition")
    consumed = []
    for name in ("EventWorkerTask", "StatsWorkerTask"):
        command, queues = container(tasks[name])["Command"]  # docker/entrypoint.sh: worker QUEUES
        assert command == "worker"
        queues = queues["Fn::Sub"]
        consumed += [q.removeprefix("${").removesuffix(".QueueName}") for q in queues.split(",")]
    by_setting = {"InputQueue": "input_queue", "StatsQueue": "stats_queue"}
    by_setting["MaintenanceQueue"] = "maintenance_queue"
    defaults = load_settings({})
    assert sorted(getattr(defaults, by_setting[q]) for q in consumed) == sorted(
        source_queues(defaults)
    )


def test_the_api_may_send_but_never_receive(template):
    statements = template["Resources"]["ApiTaskRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert "sqs:SendMessage" in actions
    assert not {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"} & actions


def test_deployments_roll_back_on_the_alarms(template):
    services = resources(template, "AWS::ECS::Service")
    api = services["ApiService"]["Properties"]["DeploymentConfiguration"]
    assert api["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert api["Alarms"]["Rollback"] is True
    assert {"Ref": "ApiErrorRateAlarm"} in api["Alarms"]["AlarmNames"]
    assert {"Ref": "ProcessorErrorRateAlarm"} in api["Alarms"]["AlarmNames"]


def test_buckets_are_private_tls_only_and_expire_claims(template):
    buckets = resources(template, "AWS::S3::Bucket")
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert len(policies) == len(buckets) == 3
    for name, bucket in buckets.items():
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, name
        (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}]
        deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = {
        r["Id"]: r
        for r in buckets["PayloadBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert rules["expire-claims"]["Prefix"] == "claims/"
    assert rules["archive-to-infrequent-access"]["Prefix"] == "archive/"
    cors = buckets["ImageBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]
    assert "POST" in cors["AllowedMethods"]  # browsers upload with presigned POSTs


#: SQS keeps a message at most 14 days, in a source queue and again in a DLQ.
SQS_LONGEST_RETENTION_SECONDS = 14 * 24 * 3600


def test_no_lifecycle_rule_expires_what_a_message_or_a_row_may_still_name(template):
    """A claim outlives the longest stay of a message naming it (the most a source queue
    and then a DLQ may keep it, whatever the parameters); the prefix rows name
    (`archive/`) expires only under a retention, after the rows; every rule that expires
    anything names a prefix."""
    parameters = template["Parameters"]
    claim_days = parameters["ClaimExpirationDays"]
    longest_stay = 2 * SQS_LONGEST_RETENTION_SECONDS
    assert claim_days["MinValue"] * 86400 > longest_stay
    assert claim_days["Default"] >= claim_days["MinValue"]
    assert parameters["DeadLetterRetentionSeconds"]["MaxValue"] <= SQS_LONGEST_RETENTION_SECONDS
    for queue in resources(template, "AWS::SQS::Queue").values():
        retention = queue["Properties"].get("MessageRetentionPeriod", 345600)
        if isinstance(retention, int):
            assert retention <= SQS_LONGEST_RETENTION_SECONDS
    rules = template["Resources"]["PayloadBucket"]["Properties"]["LifecycleConfiguration"]
    for rule in rules["Rules"]:
        if rule["Id"] == "expire-archive-after-retention":  # rows leave first (see below)
            assert rule["Status"] == {"Fn::If": ["KeepEventsForever", "Disabled", "Enabled"]}
        elif "ExpirationInDays" in rule or "ExpirationDate" in rule:
            assert rule.get("Prefix") == "claims/", rule["Id"]


def test_the_stacks_rate_limits_are_the_settings_defaults(template):
    assert template["Parameters"]["RateLimits"]["Default"] == DEFAULT_RATE_LIMITS
    waf = next(iter(resources(template, "AWS::WAFv2::WebACL").values()))["Properties"]
    names = [rule["Name"] for rule in waf["Rules"]]
    assert names[0] == "RequestsPerIp" and "AWSManagedRulesKnownBadInputsRuleSet" in names
    assert resources(template, "AWS::WAFv2::WebACLAssociation")


def test_a_stopped_worker_ends_its_tasks_within_its_stop_timeout(template):
    limit = template["Parameters"]["TaskTimeLimit"]
    tasks = resources(template, "AWS::ECS::TaskDefinition")
    for name in ("EventWorkerTask", "StatsWorkerTask"):
        worker = container(tasks[name])
        assert worker["StopTimeout"] <= 120  # Fargate's most
        assert limit["MaxValue"] + 10 <= worker["StopTimeout"]  # warm shutdown fits
        assert worker["HealthCheck"]["Command"][:3] == ["CMD", "fluxa", "worker-ready"]
    beat = container(tasks["BeatTask"])  # each tick touches the heartbeat (workers/beat.py)
    assert beat["HealthCheck"]["Command"][:3] == ["CMD", "fluxa", "worker-ready"]
    # The stack's values pass the settings' own check (the visibility timeout covers them).
    parameters = template["Parameters"]
    load_settings({
        "FLUXA_TASK_TIME_LIMIT": str(limit["MaxValue"]),
        "FLUXA_SQS_VISIBILITY_TIMEOUT": str(parameters["SqsVisibilityTimeout"]["Default"]),
    })  # fmt: skip


def test_the_guide_packages_the_template_and_uploads_it():
    """CloudFormation refuses YAML aliases and inline templates above 51,200 bytes; the
    guide deploys what `package` writes (aliases unrolled), through S3. Its commands run
    against the emulator in tests/deploy/test_deploy_guide.py."""
    root = Path(__file__).parents[2]
    text = (root / "deploy" / "aws" / "fluxa.yaml").read_text()
    guide = (root / "docs" / "deploy-aws.md").read_text()
    assert "*environment" in text or len(text.encode()) > 51_200  # why the guide packages
    package = guide.split("aws cloudformation package --template-file deploy/aws/fluxa.yaml")
    assert len(package) == 2, "the guide packages fluxa.yaml exactly once (in deploy())"
    packaged = package[1].split("--output-template-file", 1)[1].split()[0]
    deploy = package[1].split("aws cloudformation deploy", 1)[1].split("--parameter-overrides")[0]
    assert f"--template-file {packaged}" in deploy and "--s3-bucket" in deploy


def test_machine_clients_get_the_events_scopes_by_client_credentials(template):
    pool = template["Resources"]
    server = pool["UserPoolResourceServer"]["Properties"]
    offered = {f"{server['Identifier']}/{s['ScopeName']}" for s in server["Scopes"]}
    assert offered == {SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ}  # the scopes the API checks
    machines = pool["MachineClient"]["Properties"]
    assert machines["AllowedOAuthFlows"] == ["client_credentials"]
    assert machines["GenerateSecret"] and machines["AllowedOAuthFlowsUserPoolClient"]
    assert set(machines["AllowedOAuthScopes"]) == offered
    assert pool["UserPoolDomain"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    assert "${UserPoolDomain}" in template["Outputs"]["TokenUrl"]["Value"]["Fn::Sub"]
    both = {"Fn::Join": [",", [{"Ref": "UserPoolClient"}, {"Ref": "MachineClient"}]]}
    for task in resources(template, "AWS::ECS::TaskDefinition").values():
        audience = environment(task)["FLUXA_AUTH_AUDIENCE"]
        assert audience["Fn::If"][1] == both


def test_the_api_deploys_by_canary_and_rolls_back_on_its_alarms(template):
    service = template["Resources"]["ApiService"]["Properties"]
    deployment = service["DeploymentConfiguration"]
    assert deployment["Strategy"] == "CANARY"
    assert deployment["CanaryConfiguration"]["CanaryPercent"] == {"Ref": "ApiCanaryPercent"}
    alarms = deployment["Alarms"]
    assert alarms["Rollback"] and {"Ref": "ApiErrorRateAlarm"} in alarms["AlarmNames"]
    shifted = service["LoadBalancers"][0]["AdvancedConfiguration"]
    rule = template["Resources"][shifted["ProductionListenerRule"]["Ref"]]["Properties"]
    groups = [g["TargetGroupArn"] for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]]
    assert groups == [service["LoadBalancers"][0]["TargetGroupArn"],
                      shifted["AlternateTargetGroupArn"]]  # fmt: skip
    scaling = template["Resources"]["ApiScaling"]["Properties"]
    assert scaling["ResourceId"] == {"Fn::Sub": "service/${Cluster}/${ApiService.Name}"}


def test_access_logs_are_accepted_from_every_region_s_load_balancers(template):
    """Regions opened before August 2022 deliver from a regional ELB account; the others
    from the logdelivery service principal. The condition and the map name the same ones."""
    accounts = template["Mappings"]["ElbLogAccounts"]
    assert accounts["us-east-1"]["Account"] == "127311923021"
    assert accounts["eu-west-1"]["Account"] == "156460612806"
    condition = template["Conditions"]["ElbLogsFromRegionalAccount"]["Fn::Or"]
    named = {e["Fn::Equals"][1] for part in condition for e in part["Fn::Or"]}
    assert named == set(accounts)
    statements = template["Resources"]["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]
    regional = next(s for s in statements["Statement"] if "Fn::If" in s)["Fn::If"]
    assert regional[0] == "ElbLogsFromRegionalAccount"
    assert "AccessLogBucketPolicy" in template["Resources"]["LoadBalancer"]["DependsOn"]


def test_the_archive_expires_a_grace_after_each_retention_the_stack_offers():
    template = load_template(TEMPLATE)
    offered = template["Parameters"]["EventsRetentionDays"]["AllowedValues"]
    expiration = template["Mappings"]["ArchiveExpiration"]
    assert set(expiration) == set(offered)
    for days in offered:
        if days != "forever":
            assert expiration[days]["Days"] == int(days) + LIFECYCLE_GRACE_DAYS


def test_the_partition_alarm_reads_what_the_partition_job_emits(template):
    alarm = alarm_named(template, "EventPartitions")
    assert alarm["MetricName"] == emf.EVENT_PARTITIONS_LATE
    assert alarm["TreatMissingData"] == "breaching"  # no job, no partitions ahead
