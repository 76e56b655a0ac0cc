"""CloudWatchAgent and AgentConfig: rendering, schema rules, SSM resources, role, associations, gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from constructs_lib.cloudwatch_agent import (
    AgentConfig,
    AppendDimension,
    CloudWatchAgent,
    CpuMetrics,
    DiskMetrics,
    EventLevel,
    LogFile,
    MemoryMetrics,
    Platform,
    ProcstatMetrics,
    SwapMetrics,
    Timezone,
    WindowsCounters,
    WindowsEventLog,
)
from stacks.compliance import add_compliance_checks
from tests.conftest import cfn_lint, nag_failures, new_stack, only

ACCOUNT = "111111111111"


def association(template: Template, document: str) -> dict[str, Any]:
    found = [
        r for r in template.find_resources("AWS::SSM::Association").values() if r["Properties"]["Name"] == document
    ]
    assert len(found) == 1
    return found[0]


#: The name a CloudWatchAgent at TestStack/Agent derives from its path.
DEFAULT_NAME = "TestStack-Agent-AA2AF0C4"


@pytest.fixture(scope="module")
def default() -> tuple[CloudWatchAgent, Template]:
    stack = new_stack()
    agent = CloudWatchAgent(stack, "Agent")
    return agent, Template.from_stack(stack)


class TestConfigRendering:
    def test_linux_preset(self):
        document = AgentConfig.linux().to_json()
        assert document["agent"] == {"metrics_collection_interval": 60, "run_as_user": "root"}
        collected = document["metrics"]["metrics_collected"]
        assert set(collected) == {"cpu", "disk", "mem", "swap"}
        assert collected["mem"] == {"measurement": ["mem_used_percent"]}
        assert collected["swap"] == {"measurement": ["swap_used_percent"]}
        assert collected["cpu"] == {
            "measurement": ["cpu_usage_idle", "cpu_usage_iowait", "cpu_usage_user", "cpu_usage_system"],
            "totalcpu": True,
        }
        assert collected["disk"]["resources"] == ["*"]
        assert document["metrics"]["namespace"] == "CWAgent"
        assert document["metrics"]["append_dimensions"] == {"InstanceId": "${aws:InstanceId}"}
        files = document["logs"]["logs_collected"]["files"]["collect_list"]
        assert [f["file_path"] for f in files] == [
            "/var/log/messages",
            "/var/log/secure",
            "/var/log/amazon/ssm/amazon-ssm-agent.log",
        ]
        assert all(f["log_stream_name"] == "{instance_id}" for f in files)

    def test_windows_preset(self):
        document = AgentConfig.windows(log_group_prefix="/win").to_json()
        assert document["agent"] == {"metrics_collection_interval": 60}
        collected = document["metrics"]["metrics_collected"]
        assert collected["Memory"] == {"measurement": ["% Committed Bytes In Use"]}
        assert collected["LogicalDisk"] == {"measurement": ["% Free Space"], "resources": ["*"]}
        assert collected["Processor"]["resources"] == ["_Total"]
        events = document["logs"]["logs_collected"]["windows_events"]["collect_list"]
        assert [e["event_name"] for e in events] == ["System", "Application", "Security"]
        assert events[0] == {
            "event_name": "System",
            "event_levels": ["CRITICAL", "ERROR", "WARNING"],
            "log_group_name": "/win/system",
            "log_stream_name": "{instance_id}",
        }

    def test_every_option(self):
        config = AgentConfig(
            namespace="Shop",
            interval=10,
            memory=MemoryMetrics(measurements=("used_percent", "mem_available"), interval=30),
            cpu=CpuMetrics(per_core=True, total=False, measurements=("usage_active",)),
            procstat=(ProcstatMetrics(pattern="java .*shop", measurements=("cpu_usage", "pid_count")),),
            append_dimensions=(AppendDimension.AUTO_SCALING_GROUP_NAME, AppendDimension.INSTANCE_TYPE),
            log_files=(
                LogFile(
                    file_path="/opt/shop/app.log",
                    log_group_name="/shop/app",
                    log_stream_name="{hostname}",
                    timezone=Timezone.UTC,
                    timestamp_format="%Y-%m-%dT%H:%M:%S",
                    multi_line_start_pattern="{timestamp_format}",
                ),
            ),
            run_as_user="cwagent",
        )
        document = config.to_json()
        assert document["agent"] == {"metrics_collection_interval": 10, "run_as_user": "cwagent"}
        metrics = document["metrics"]
        assert metrics["namespace"] == "Shop"
        assert metrics["metrics_collected"]["mem"] == {
            "measurement": ["used_percent", "mem_available"],
            "metrics_collection_interval": 30,
        }
        assert metrics["metrics_collected"]["cpu"] == {
            "measurement": ["usage_active"],
            "totalcpu": False,
            "resources": ["*"],
        }
        assert metrics["metrics_collected"]["procstat"] == [
            {"pattern": "java .*shop", "measurement": ["cpu_usage", "pid_count"]}
        ]
        assert metrics["append_dimensions"] == {
            "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
            "InstanceType": "${aws:InstanceType}",
        }
        assert document["logs"]["logs_collected"]["files"]["collect_list"] == [
            {
                "file_path": "/opt/shop/app.log",
                "log_group_name": "/shop/app",
                "log_stream_name": "{hostname}",
                "timezone": "UTC",
                "timestamp_format": "%Y-%m-%dT%H:%M:%S",
                "multi_line_start_pattern": "{timestamp_format}",
            }
        ]
        assert config.log_group_names == ["/shop/app"]

    def test_logs_only_config_has_no_metrics_section(self):
        document = AgentConfig(log_files=(LogFile(file_path="/var/log/app.log", log_group_name="/app"),)).to_json()
        assert "metrics" not in document
        assert "logs" in document


class TestConfigErrors:
    @pytest.mark.parametrize(
        ("config", "message"),
        [
            (AgentConfig(memory=MemoryMetrics(measurements=("mem_bogus",))), r"'mem_bogus' is not a mem measurement"),
            (AgentConfig(disk=DiskMetrics(measurements=())), r"disk: measurements is empty"),
            (AgentConfig(swap=SwapMetrics(interval=0)), r"swap: interval must be whole seconds from 1 to 172800"),
            (AgentConfig(memory=MemoryMetrics(), interval=200000), r"interval must be whole seconds .*got 200000"),
            (AgentConfig(cpu=CpuMetrics(per_core=False, total=False)), r"per_core and total are both False"),
            (AgentConfig(cpu=CpuMetrics(measurements=("usage_idle", "usage_idle"))), r"lists a name twice"),
            (AgentConfig(procstat=(ProcstatMetrics(),)), r"procstat\[0\]: give exactly one of exe, pattern, pid_file"),
            (
                AgentConfig(procstat=(ProcstatMetrics(exe="a", pid_file="/run/a.pid"),)),
                r"give exactly one of exe, pattern, pid_file \(got 2\)",
            ),
            (AgentConfig(memory=MemoryMetrics(), namespace="AWS/EC2"), r"namespace must be 1-255 characters"),
            (AgentConfig(), r"the configuration collects nothing"),
            (
                AgentConfig(platform=Platform.WINDOWS, memory=MemoryMetrics()),
                r"memory: the memory plugin exists on Linux only",
            ),
            (
                AgentConfig(windows_counters=(WindowsCounters(object_name="Memory", counters=("x",)),)),
                r"windows_counters apply to Windows only",
            ),
            (
                AgentConfig(
                    platform=Platform.WINDOWS,
                    windows_counters=(
                        WindowsCounters(object_name="Memory", counters=("a",)),
                        WindowsCounters(object_name="Memory", counters=("b",)),
                    ),
                ),
                r"an object is listed twice",
            ),
            (
                AgentConfig(
                    platform=Platform.WINDOWS,
                    windows_event_logs=(
                        WindowsEventLog(event_name="Forwarded Events", levels=(), log_group_name="/w"),
                    ),
                ),
                r"event_name must be an event log name other than 'Forwarded Events'",
            ),
            (
                AgentConfig(log_files=(LogFile(file_path="/a", log_group_name="bad name"),)),
                r"log_group_name 'bad name' is not a log group name",
            ),
            (
                AgentConfig(
                    log_files=(
                        LogFile(file_path="/a", log_group_name="/x"),
                        LogFile(file_path="/a", log_group_name="/y"),
                    )
                ),
                r"a file_path is listed twice",
            ),
            (
                AgentConfig(memory=MemoryMetrics(), append_dimensions=(AppendDimension.INSTANCE_ID,) * 2),
                r"append_dimensions must be distinct",
            ),
            (
                AgentConfig(
                    procstat=(ProcstatMetrics(exe="x", measurements=("memory_swap",)),), platform=Platform.WINDOWS
                ),
                r"'memory_swap' is not a procstat measurement",
            ),
        ],
    )
    def test_invalid_config(self, config, message):
        with pytest.raises(ValueError, match=message):
            config.to_json()

    def test_all_problems_reported_together(self):
        config = AgentConfig(memory=MemoryMetrics(measurements=("nope",)), swap=SwapMetrics(interval=-1), interval=0)
        assert len(config.problems()) == 3
        with pytest.raises(ValueError, match=r"AgentConfig: 3 problems"):
            config.to_json()


class TestDefaults:
    def test_parameter_named_for_the_managed_policy_with_the_rendered_config(self, default):
        agent, template = default
        _, parameter = only(template, "AWS::SSM::Parameter")
        # No name given: derived from the construct path, so two agents in one account never collide.
        assert parameter["Properties"]["Name"] == f"AmazonCloudWatch-{DEFAULT_NAME}"
        assert parameter["Properties"]["Tier"] == "Standard"
        assert (
            json.loads(parameter["Properties"]["Value"])
            == AgentConfig.linux(log_group_prefix=f"/ec2/{DEFAULT_NAME}").to_json()
        )
        assert agent.parameter_name == f"AmazonCloudWatch-{DEFAULT_NAME}"

    def test_log_groups_encrypted_retained_one_year_with_pinned_ids(self, default):
        _, template = default
        groups = template.find_resources("AWS::Logs::LogGroup")
        assert {k: g["Properties"]["LogGroupName"] for k, g in groups.items()} == {
            "AgentLogGroupEc2TestStackAgentAA2AF0C4MessagesE9D94FF0": f"/ec2/{DEFAULT_NAME}/messages",
            "AgentLogGroupEc2TestStackAgentAA2AF0C4Secure54DA0522": f"/ec2/{DEFAULT_NAME}/secure",
            "AgentLogGroupEc2TestStackAgentAA2AF0C4SsmAgent3763969F": f"/ec2/{DEFAULT_NAME}/ssm-agent",
        }
        for group in groups.values():
            assert group["Properties"]["RetentionInDays"] == 365
            assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["AgentKey923B0B00", "Arn"]}
            assert group["DeletionPolicy"] == "Retain"
            assert group["UpdateReplacePolicy"] == "Retain"
        key_id, key = only(template, "AWS::KMS::Key")
        assert key_id == "AgentKey923B0B00"
        assert key["DeletionPolicy"] == "Retain"
        assert key["Properties"]["EnableKeyRotation"] is True
        (statement,) = [
            s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchLogsToUseKey"
        ]
        assert len(statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]) == 3

    def test_role_and_instance_profile(self, default):
        agent, template = default
        _, role = only(template, "AWS::IAM::Role")
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "ec2.amazonaws.com"
        }
        arns = [arn["Fn::Join"][1][2] for arn in role["Properties"]["ManagedPolicyArns"]]
        assert arns == [":iam::aws:policy/CloudWatchAgentServerPolicy", ":iam::aws:policy/AmazonSSMManagedInstanceCore"]
        template.has_resource_properties(
            "AWS::IAM::InstanceProfile", {"Roles": [{"Ref": Match.string_like_regexp("^AgentRole")}]}
        )
        assert agent.role is not None and agent.instance_profile is not None

    def test_install_association(self, default):
        _, template = default
        install = association(template, "AWS-ConfigureAWSPackage")["Properties"]
        assert install["Parameters"] == {"action": ["Install"], "name": ["AmazonCloudWatchAgent"]}
        assert install["Targets"] == [{"Key": "tag:CloudWatchAgent", "Values": ["enabled"]}]
        assert install["ScheduleExpression"] == "rate(1 day)"
        assert install["AssociationName"] == f"install-cloudwatch-agent-{DEFAULT_NAME}"

    def test_configure_association_reads_the_parameter_after_install(self, default):
        _, template = default
        configure = association(template, "AmazonCloudWatch-ManageAgent")
        assert configure["Properties"]["Parameters"] == {
            "action": ["configure"],
            "mode": ["ec2"],
            "optionalConfigurationSource": ["ssm"],
            "optionalConfigurationLocation": [{"Ref": "AgentParameter6E48BC79"}],
            "optionalRestart": ["yes"],
        }
        assert configure["Properties"]["Targets"] == [{"Key": "tag:CloudWatchAgent", "Values": ["enabled"]}]
        install_id = next(
            k
            for k, v in template.find_resources("AWS::SSM::Association").items()
            if v["Properties"]["Name"] == "AWS-ConfigureAWSPackage"
        )
        assert install_id in configure["DependsOn"]


class TestOptions:
    def test_windows_named_tag_schedule_retention_key_without_role(self):
        stack = new_stack()
        key = kms.Key(stack, "Shared", enable_key_rotation=True)
        agent = CloudWatchAgent(
            stack,
            "Agent",
            config=AgentConfig.windows(),
            name="win-servers",
            target_tag_key="monitoring",
            target_tag_values=["cw", "cloudwatch"],
            schedule="rate(12 hours)",
            log_retention=logs.RetentionDays.THREE_MONTHS,
            key=key,
            create_role=False,
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::IAM::Role", 0)
        template.resource_count_is("AWS::IAM::InstanceProfile", 0)
        template.resource_count_is("AWS::KMS::Key", 1)
        template.has_resource_properties("AWS::SSM::Parameter", {"Name": "AmazonCloudWatch-win-servers"})
        for document in ("AWS-ConfigureAWSPackage", "AmazonCloudWatch-ManageAgent"):
            props = association(template, document)["Properties"]
            assert props["Targets"] == [{"Key": "tag:monitoring", "Values": ["cw", "cloudwatch"]}]
            assert props["ScheduleExpression"] == "rate(12 hours)"
        for group in template.find_resources("AWS::Logs::LogGroup").values():
            assert group["Properties"]["RetentionInDays"] == 90
        assert agent.role is None
        assert sorted(agent.log_groups) == ["/ec2/windows/application", "/ec2/windows/security", "/ec2/windows/system"]

    def test_metrics_only_config_creates_no_log_groups_or_key(self):
        stack = new_stack()
        CloudWatchAgent(stack, "Agent", config=AgentConfig(memory=MemoryMetrics()), name="metrics")
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Logs::LogGroup", 0)
        template.resource_count_is("AWS::KMS::Key", 0)

    def test_large_config_goes_to_the_advanced_tier(self):
        stack = new_stack()
        files = tuple(LogFile(file_path=f"/var/log/app{i:03}/service.log", log_group_name="/apps") for i in range(60))
        CloudWatchAgent(stack, "Agent", config=AgentConfig(log_files=files))
        Template.from_stack(stack).has_resource_properties("AWS::SSM::Parameter", {"Tier": "Advanced"})

    def test_grant_read_config(self):
        stack = new_stack()
        agent = CloudWatchAgent(stack, "Agent")
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        agent.grant_read_config(reader)
        Template.from_stack(stack).has_resource_properties(
            "AWS::IAM::Policy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Action": Match.array_with(["ssm:GetParameter"])})]
                    )
                }
            },
        )


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"name": "bad name"}, r"name 'bad name' must be 1-100"),
            ({"target_tag_key": "aws:reserved"}, r"target_tag_key 'aws:reserved' is not a tag key"),
            ({"target_tag_values": []}, r"target_tag_values must be one or more"),
            ({"schedule": "rate(5 minutes)"}, r"schedule 'rate\(5 minutes\)' must be rate"),
            ({"schedule": "every day"}, r"schedule 'every day'"),
            ({"config": AgentConfig()}, r"config: the configuration collects nothing"),
            ({"config": {"agent": {}}}, r"config: \{'agent': \{\}\} is not of type AgentConfig"),
        ],
    )
    def test_invalid_props(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            CloudWatchAgent(new_stack(), "Agent", **kwargs)

    def test_config_too_large_for_a_parameter(self):
        files = tuple(
            LogFile(file_path=f"/var/log/application-{i:04}/service-output.log", log_group_name=f"/apps/group-{i:04}")
            for i in range(120)
        )
        with pytest.raises(ValueError, match=r"an SSM parameter holds at most 8192"):
            CloudWatchAgent(new_stack(), "Agent", config=AgentConfig(log_files=files), key=None)


@pytest.fixture(scope="module")
def gated_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("agent-gates")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "AgentGates", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    CloudWatchAgent(stack, "Linux", config=AgentConfig.linux(procstat=[ProcstatMetrics(exe="nginx")]))
    CloudWatchAgent(stack, "Windows", config=AgentConfig.windows(), create_role=False)
    add_compliance_checks(app)
    app.synth()
    return outdir


class TestGates:
    def test_no_unacknowledged_nag_findings(self, gated_outdir):
        assert nag_failures(gated_outdir) == []

    def test_cfn_lint_clean(self, gated_outdir):
        templates = sorted(str(p) for p in gated_outdir.glob("*.template.json"))
        result = cfn_lint(*templates)
        assert result.returncode == 0, result.stdout + result.stderr


def test_event_levels_are_the_schema_enum():
    assert [level.value for level in EventLevel] == ["CRITICAL", "ERROR", "WARNING", "INFORMATION", "VERBOSE"]
