"""The ``telemetry`` config section: validation and what it adds to the single-account stack."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import ConfigError, parse_config
from tests.conftest import EXAMPLE_CONFIGS, Synthesized, synthesize

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
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

    def test_organization_mode_refuses_vpc_ids_and_agent_for_now(self):
        data = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
        data["telemetry"] = {
            "flow_logs": {"vpc_ids": {"shop-prod": [VPC_A]}},
            "cloudwatch_agent": {"enabled": True},
        }
        with pytest.raises(ConfigError) as error:
            parse_config(data)
        assert len(error.value.problems) == 2
        assert "single-account mode only" in str(error.value)


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
        parameters = [r["Properties"] for r in resources if r["Type"] == "AWS::SSM::Parameter"]
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
        result = subprocess.run([str(CFN_LINT), *templates], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
