"""deploy/aws/fluxa.yaml as moto's CloudFormation can take it, and what moto leaves out."""

from __future__ import annotations

import ipaddress
from typing import Any

#: What moto 5's CloudFormation does not create (it warns and goes on).
NOT_IN_THE_EMULATOR = {
    "AWS::CloudWatch::Alarm",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::S3::BucketPolicy",
    "AWS::SecretsManager::Secret",
    "AWS::SNS::Subscription",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::ElastiCache::ServerlessCache",  # removed for moto (for_the_emulator)
}


def for_the_emulator(template: dict) -> dict:
    """The changes moto needs: it passes the parameter group object, not its name, to
    the database (`DBParameterGroupName: !Ref DatabaseParameters` fails inside moto); it
    knows no serverless cache, so the tasks' store URL cannot name its endpoint."""
    template["Resources"]["Database"]["Properties"].pop("DBParameterGroupName")
    del template["Resources"]["RateLimitCache"]
    for task in template["Resources"].values():
        for container in task["Properties"].get("ContainerDefinitions", []):
            for variable in container.get("Environment", []):
                if variable["Name"] == "FLUXA_RATE_LIMIT_STORAGE_URL":
                    variable["Value"] = "rediss://cache.invalid:6379/0"
    return template


def network_for_the_emulator(template: dict, region: str) -> dict:
    """deploy/aws/network.yaml as moto takes it: moto knows no `Fn::Cidr`, and its
    `Fn::GetAZs ""` names us-east-1's zones whatever the region. Both are resolved here
    the way CloudFormation resolves them (the VPC's default block, the region's zones)."""
    block = template["Parameters"]["CidrBlock"]["Default"]

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if node.keys() == {"Fn::GetAZs"}:
            return [f"{region}{zone}" for zone in "abc"]
        if node.keys() == {"Fn::Cidr"}:
            _, count, host_bits = node["Fn::Cidr"]
            network = ipaddress.ip_network(block)
            subnets = network.subnets(new_prefix=network.max_prefixlen - int(host_bits))
            return [str(subnet) for subnet, _ in zip(subnets, range(int(count)), strict=False)]
        resolved = {key: resolve(value) for key, value in node.items()}
        if resolved.keys() == {"Fn::Select"} and isinstance(resolved["Fn::Select"][1], list):
            index, items = resolved["Fn::Select"]
            return items[int(index)]
        return resolved

    return resolve(template)
