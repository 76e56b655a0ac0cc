"""The ``telemetry`` config section: validation and what it adds to the single-account stack."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from stacks.config import ConfigError, parse_config
from tests.conftest import EXAMPLE_CONFIGS, Synthesized, cfn_lint, synthesize

VPC_A = "vpc-0123456789abcdef0"
VPC_B = "vpc-0aaaaaaa"


def single_account(**telemetry: Any) -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
    data = copy.deepcopy(data)
    data["telemetry"] = telemetry
    return data


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = parse_config(
        single_account(
            flow_logs={"vpc_ids": {"sandbox": [VPC_A, VPC_B]}, "destination": "both", "traffic_type": "REJECT"},
            cloudwatch_agent={"enabled": True, "tag_key": "monitoring", "tag_values": ["cwagent"]},
        )
    )
    return synthesize(config, tmp_path_factory.mktemp("telemetry-wiring"))


class TestConfig:
    def test_defaults_add_nothing(self):
        config = parse_config(yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text()))
        assert config.telemetry.flow_logs.vpc_ids == {}
        assert config.telemetry.cloudwatch_agent.enabled is False
        assert config.telemetry.example_workload is False

    @pytest.mark.parametrize(
        ("telemetry", "message"),
        [
            ({"flow_logs": {"vpc_ids": {"sandbox": ["vpc-12"]}}}, r"telemetry.flow_logs.vpc_ids: .*not VPC ids"),
            ({"flow_logs": {"vpc_ids": {"nobody": [VPC_A]}}}, r"'nobody' is not an account name; declared: sandbox"),
            ({"flow_logs": {"aggregation_interval": 300}}, r"telemetry.flow_logs.aggregation_interval"),
            ({"flow_logs": {"destination": "firehose"}}, r"telemetry.flow_logs.destination"),
            ({"flow_logs": {"log_group_retention_days": 17}}, r"not a CloudWatch Logs retention period"),
            ({"cloudwatch_agent": {"schedule": "rate(5 minutes)"}}, r"telemetry.cloudwatch_agent.schedule"),
            ({"cloudwatch_agent": {"tag_values": []}}, r"telemetry.cloudwatch_agent.tag_values"),
            ({"cloudwatch_agent": {"colour": "blue"}}, r"unknown key\(s\) 'colour'"),
        ],
    )
    def test_invalid(self, telemetry, message):
        with pytest.raises(ConfigError, match=message):
            parse_config(single_account(**telemetry))

    def test_organization_mode_delivers_listed_vpcs_to_cloudwatch_logs_only(self):
        data = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
        data["telemetry"] = {"flow_logs": {"vpc_ids": {"shop-prod": [VPC_A]}, "destination": "s3"}}
        with pytest.raises(
            ConfigError, match=r"telemetry\.flow_logs\.destination: 's3' needs a bucket in each account"
        ):
            parse_config(data)


@pytest.fixture(scope="module")
def organization(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Organization mode with the agent on and VPCs listed for a member and the management account;
    synthesized with the four cdk-nag packs."""
    data = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
    data["telemetry"] = {
        "flow_logs": {"vpc_ids": {"shop-prod": [VPC_A], "management": [VPC_B]}},
        "cloudwatch_agent": {"enabled": True},
    }
    return synthesize(parse_config(data), tmp_path_factory.mktemp("telemetry-organization"))


class TestOrganization:
    def test_the_stackset_template_carries_the_agent_to_every_account_and_region(self, organization):
        template = organization.stackset_template()
        types = [r["Type"] for r in template["Resources"].values()]
        assert types.count("AWS::SSM::Association") == 2
        assert "AWS::SSM::Parameter" in types and "AWS::IAM::InstanceProfile" in types

    def test_a_member_accounts_vpc_gets_flow_logs_only_in_that_account_and_the_home_region(self, organization):
        template = organization.stackset_template()
        (flow_log,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::FlowLog"]
        assert flow_log["Properties"]["ResourceId"] == VPC_A
        assert flow_log["Condition"] == "IsAccountshopprod"
        assert template["Conditions"]["IsAccountshopprod"] == {
            "Fn::And": [{"Condition": "IsHomeRegion"}, {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "444444444444"]}]
        }
        # Every resource of that VPC's flow logs (log group, key, role) is gated alike.
        gated = [r for r in template["Resources"].values() if r.get("Condition") == "IsAccountshopprod"]
        assert {r["Type"] for r in gated} >= {
            "AWS::EC2::FlowLog",
            "AWS::Logs::LogGroup",
            "AWS::IAM::Role",
            "AWS::Logs::QueryDefinition",
        }
        queries = [r["Properties"]["Name"] for r in gated if r["Type"] == "AWS::Logs::QueryDefinition"]
        assert len(queries) == 2 and all("/Flow logs/" in name for name in queries)

    def test_the_management_account_gets_its_own_in_its_home_region_stack(self, organization):
        home = organization.template_json("acme-baseline-management-eu-west-1")["Resources"].values()
        assert [r["Properties"]["ResourceId"] for r in home if r["Type"] == "AWS::EC2::FlowLog"] == [VPC_B]
        other = organization.template_json("acme-baseline-management-us-east-1")["Resources"].values()
        assert not [r for r in other if r["Type"] == "AWS::EC2::FlowLog"]
        assert [r for r in other if r["Type"] == "AWS::SSM::Association"]

    def test_cfn_lint_clean(self, organization):
        templates = sorted(str(p) for p in organization.outdir.glob("*.template.json"))
        result = cfn_lint(*templates)
        assert result.returncode == 0, result.stdout + result.stderr


class TestSingleAccountStack:
    def test_flow_logs_for_each_configured_vpc_to_both_destinations(self, wired):
        template = wired.template_json("solo-single-account")
        flow_logs = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::FlowLog"]
        assert sorted((p["ResourceId"], p["LogDestinationType"]) for p in flow_logs) == [
            (VPC_A, "cloud-watch-logs"),
            (VPC_A, "s3"),
            (VPC_B, "cloud-watch-logs"),
            (VPC_B, "s3"),
        ]
        assert {p["TrafficType"] for p in flow_logs} == {"REJECT"}
        s3_logs = [p for p in flow_logs if p["LogDestinationType"] == "s3"]
        assert all(p["LogDestination"]["Fn::Join"][1][1] == "/vpc-flow-logs" for p in s3_logs)

    def test_flow_log_ids_come_from_the_vpc_ids(self, wired):
        resources = wired.template_json("solo-single-account")["Resources"]
        assert any(k.startswith("FlowLogsvpc0123456789abcdef0") for k in resources)

    def test_trail_bucket_lets_log_delivery_write_flow_logs(self, wired):
        template = wired.template_json("solo-single-account")
        policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
        sids = {s.get("Sid") for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]}
        assert {"AWSLogDeliveryWriteVpcFlowLogs", "AWSLogDeliveryAclCheck", "AWSCloudTrailWrite"} <= sids

    def test_agent_parameter_role_and_associations(self, wired):
        template = wired.template_json("solo-single-account")
        resources = template["Resources"].values()
        parameters = [
            r["Properties"]
            for r in resources
            if r["Type"] == "AWS::SSM::Parameter" and r["Properties"]["Name"] != "/solo/baseline/canary"
        ]
        assert [p["Name"] for p in parameters] == ["AmazonCloudWatch-solo-linux"]
        document = json.loads(parameters[0]["Value"])
        assert document["logs"]["logs_collected"]["files"]["collect_list"][0]["log_group_name"] == (
            "/solo/ec2/linux/messages"
        )
        associations = [r["Properties"] for r in resources if r["Type"] == "AWS::SSM::Association"]
        assert sorted(a["Name"] for a in associations) == ["AWS-ConfigureAWSPackage", "AmazonCloudWatch-ManageAgent"]
        assert all(a["Targets"] == [{"Key": "tag:monitoring", "Values": ["cwagent"]}] for a in associations)
        assert "CloudWatchAgentInstanceProfileName" in template["Outputs"]

    def test_no_unacknowledged_nag_findings(self, wired):
        assert all(plugin["conclusion"] == "success" for plugin in wired.validation_report()["pluginReports"])

    def test_cfn_lint_clean(self, wired):
        templates = sorted(str(p) for p in wired.outdir.glob("*.template.json"))
        result = cfn_lint(*templates)
        assert result.returncode == 0, result.stdout + result.stderr
