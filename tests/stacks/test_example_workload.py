"""The example workload stack (``telemetry.example_workload``): all three telemetry constructs, nag and lint clean."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from stacks.baseline import build_stacks
from stacks.config import parse_config
from tests.conftest import CDK_CONTEXT, EXAMPLE_CONFIGS, Synthesized, cfn_lint

STACK = "acme-example-workload"


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


@pytest.fixture(scope="module")
def example(synthesized: dict[str, Synthesized]) -> Synthesized:
    """config/example.yaml switches the example workload on: its shared synthesis (four cdk-nag packs)."""
    example = synthesized["example"]
    assert example.config.telemetry.example_workload is True, "config/example.yaml no longer has the example workload"
    return example


def test_off_unless_switched_on():
    data = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
    data["telemetry"] = {"example_workload": False}
    # Which stacks there are is decided when they are built: no synthesis needed to see it is absent.
    stacks = build_stacks(cdk.App(context=dict(CDK_CONTEXT)), parse_config(data))
    assert "solo-single-account" in stacks and "solo-example-workload" not in stacks


def test_deployed_into_the_first_workload_account(example):
    stack = example.stacks[STACK]
    assert stack.account == "444444444444"
    assert stack.region == "eu-west-1"


def test_vpc_gets_flow_logs_through_the_aspect(example):
    template = example.template_json(STACK)
    (vpc_id,) = resources_of(template, "AWS::EC2::VPC")
    (flow_log,) = resources_of(template, "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["ResourceId"] == {"Ref": vpc_id}
    assert flow_log["Properties"]["LogDestinationType"] == "cloud-watch-logs"
    assert "${flow-direction}" in flow_log["Properties"]["LogFormat"]


def test_instance_is_managed_by_the_agent_associations(example):
    template = example.template_json(STACK)
    (instance,) = resources_of(template, "AWS::EC2::Instance").values()
    tags = {t["Key"]: t["Value"] for t in instance["Properties"]["Tags"]}
    assert tags["monitoring"] == "cloudwatch-agent"
    assert instance["Properties"]["IamInstanceProfile"]["Ref"].startswith("InstanceInstanceProfile")
    associations = [a["Properties"] for a in resources_of(template, "AWS::SSM::Association").values()]
    assert sorted(a["Name"] for a in associations) == ["AWS-ConfigureAWSPackage", "AmazonCloudWatch-ManageAgent"]
    assert all(a["Targets"] == [{"Key": "tag:monitoring", "Values": ["cloudwatch-agent"]}] for a in associations)
    (parameter,) = resources_of(template, "AWS::SSM::Parameter").values()
    assert parameter["Properties"]["Name"] == "AmazonCloudWatch-acme-example"
    (role,) = [
        r
        for r in resources_of(template, "AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    ]
    assert [arn["Fn::Join"][1][2] for arn in role["Properties"]["ManagedPolicyArns"]] == [
        ":iam::aws:policy/CloudWatchAgentServerPolicy",
        ":iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]


def test_instance_reaches_ssm_and_cloudwatch_without_internet(example):
    template = example.template_json(STACK)
    endpoints = resources_of(template, "AWS::EC2::VPCEndpoint")
    services = sorted(str(e["Properties"]["ServiceName"]) for e in endpoints.values())
    assert len(services) == 6  # five interface endpoints and the S3 gateway
    assert not resources_of(template, "AWS::EC2::InternetGateway")
    assert not resources_of(template, "AWS::EC2::NatGateway")


def test_distribution_logs_to_an_acl_enabled_bucket(example):
    template = example.template_json(STACK)
    (distribution,) = resources_of(template, "AWS::CloudFront::Distribution").values()
    logging = distribution["Properties"]["DistributionConfig"]["Logging"]
    bucket_id = logging["Bucket"]["Fn::GetAtt"][0]
    assert logging["Prefix"] == "example/"
    bucket = template["Resources"][bucket_id]
    assert bucket["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert bucket["DeletionPolicy"] == "Retain"


def test_no_unacknowledged_nag_findings(example):
    assert all(plugin["conclusion"] == "success" for plugin in example.validation_report()["pluginReports"])


def test_cfn_lint_clean(example):
    templates = sorted(str(p) for p in example.outdir.glob("*.template.json"))
    result = cfn_lint(*templates)
    assert result.returncode == 0, result.stdout + result.stderr
