"""DetailedMonitoring: 1-minute monitoring on each supported resource, in scope only, nothing else touched."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import DetailedMonitoring
from tests.conftest import new_app

ENV = cdk.Environment(account="111111111111", region="eu-west-1")


def workload(stack: cdk.Stack, *, instance_monitoring: bool | None = None) -> None:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, restrict_default_security_group=False)
    image = ec2.MachineImage.generic_linux({"eu-west-1": "ami-0123456789abcdef0"})
    ec2.Instance(
        stack,
        "Instance",
        vpc=vpc,
        instance_type=ec2.InstanceType("t3.micro"),
        machine_image=image,
        detailed_monitoring=instance_monitoring,
    )
    template = ec2.LaunchTemplate(stack, "Template", instance_type=ec2.InstanceType("t3.micro"), machine_image=image)
    autoscaling.AutoScalingGroup(stack, "Group", vpc=vpc, launch_template=template, max_capacity=2)
    ec2.CfnInstance(stack, "Explicit", image_id="ami-0123456789abcdef0", monitoring=False)
    autoscaling.CfnLaunchConfiguration(
        stack, "LegacyConfig", image_id="ami-0123456789abcdef0", instance_type="t3.micro"
    )
    s3.CfnBucket(stack, "Bucket")


@pytest.fixture(scope="module")
def templates() -> tuple[Template, Template]:
    app = new_app()
    covered = cdk.Stack(app, "Covered", env=ENV)
    other = cdk.Stack(app, "Other", env=ENV)
    workload(covered)
    workload(other)
    cdk.Aspects.of(covered).add(DetailedMonitoring())
    return Template.from_stack(covered), Template.from_stack(other)


def props(template: Template, resource_type: str) -> list[dict]:
    return [r.get("Properties", {}) for r in template.find_resources(resource_type).values()]


def test_instances_get_detailed_monitoring(templates):
    covered, _ = templates
    instances = {k: r["Properties"] for k, r in covered.find_resources("AWS::EC2::Instance").items()}
    (l2,) = [p for k, p in instances.items() if k.startswith("Instance")]
    assert l2["Monitoring"] is True


def test_an_explicit_opt_out_is_kept(templates):
    covered, _ = templates
    (explicit,) = [r["Properties"] for k, r in covered.find_resources("AWS::EC2::Instance").items() if k == "Explicit"]
    assert explicit["Monitoring"] is False


def test_override_switches_even_an_opt_out_on():
    app = new_app()
    stack = cdk.Stack(app, "S", env=ENV)
    ec2.CfnInstance(stack, "Explicit", image_id="ami-0123456789abcdef0", monitoring=False)
    cdk.Aspects.of(stack).add(DetailedMonitoring(override=True))
    Template.from_stack(stack).has_resource_properties("AWS::EC2::Instance", {"Monitoring": True})


def test_launch_templates_and_launch_configurations(templates):
    covered, _ = templates
    (template,) = props(covered, "AWS::EC2::LaunchTemplate")
    assert template["LaunchTemplateData"]["Monitoring"] == {"Enabled": True}
    assert template["LaunchTemplateData"]["InstanceType"] == "t3.micro"  # the rest is kept
    (config,) = props(covered, "AWS::AutoScaling::LaunchConfiguration")
    assert config["InstanceMonitoring"] is True


def test_auto_scaling_groups_collect_group_metrics_every_minute(templates):
    covered, _ = templates
    (group,) = props(covered, "AWS::AutoScaling::AutoScalingGroup")
    assert group["MetricsCollection"] == [{"Granularity": "1Minute"}]


def test_resources_outside_the_scope_and_other_types_are_left_alone(templates):
    covered, other = templates
    instances = {k: r["Properties"] for k, r in other.find_resources("AWS::EC2::Instance").items()}
    assert all("Monitoring" not in p for k, p in instances.items() if k.startswith("Instance"))
    (template,) = props(other, "AWS::EC2::LaunchTemplate")
    assert "Monitoring" not in template["LaunchTemplateData"]
    (group,) = props(other, "AWS::AutoScaling::AutoScalingGroup")
    assert "MetricsCollection" not in group
    assert props(covered, "AWS::S3::Bucket") == props(other, "AWS::S3::Bucket") == [{}]


def test_group_metrics_can_be_left_off():
    app = new_app()
    stack = cdk.Stack(app, "S", env=ENV)
    workload(stack)
    cdk.Aspects.of(stack).add(DetailedMonitoring(group_metrics=False))
    (group,) = props(Template.from_stack(stack), "AWS::AutoScaling::AutoScalingGroup")
    assert "MetricsCollection" not in group


def test_docs_examples_run_and_do_what_they_say():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "telemetry.md").read_text()
    section = doc.split("## On-premises servers and detailed monitoring", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(examples) == 2
    hybrid: dict = {}
    exec(compile(examples[0], "docs/telemetry.md#on-premises", "exec"), hybrid)
    on_premises = Template.from_stack(hybrid["stack"])
    on_premises.resource_count_is("Custom::SsmHybridActivation", 1)
    on_premises.has_resource_properties("AWS::SSM::Association", {"Parameters": {"mode": ["onPremise"]}})
    monitoring: dict = {}
    exec(compile(examples[1], "docs/telemetry.md#detailed-monitoring", "exec"), monitoring)
    template = Template.from_stack(monitoring["stack"])
    template.has_resource_properties("AWS::EC2::Instance", {"Monitoring": True})
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"Monitoring": {"Enabled": True}}}
    )
