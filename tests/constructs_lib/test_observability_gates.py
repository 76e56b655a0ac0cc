"""The observability constructs in a realistic app pass the four cdk-nag packs and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from constructs_lib import event_patterns as ep
from constructs_lib._nag import acknowledge, in_compliance_packs
from constructs_lib.dashboard import (
    Location,
    LogGroupLocation,
    MonitoringDashboard,
    ObservabilityLink,
    ObservabilitySink,
)
from constructs_lib.event_routing import EventForwarding, EventRouting, NotificationRoute, central_bus_arn
from constructs_lib.insights_aspects import (
    LAMBDA_INSIGHTS_NAG_FINDING,
    CloudWatchObservabilityAddon,
    ContainerInsights,
    LambdaInsights,
)
from constructs_lib.insights_queries import InsightsQueries, SavedQuery
from stacks.compliance import add_compliance_checks
from tests.conftest import cfn_lint
from tests.constructs_lib.test_insights_aspects import SampleWorkload

AUDIT = "333333333333"
WORKLOAD = "444444444444"


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    audit = cdk.Stack(app, "Audit", env=cdk.Environment(account=AUDIT, region="eu-west-1"))
    key = kms.Key(audit, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(audit, "Critical", master_key=key, enforce_ssl=True)
    routing = EventRouting(
        audit,
        "SecurityEvents",
        organization_id="o-a1b2c3d4e5",
        notification_routes=[NotificationRoute(name="critical", topic=topic, patterns=ep.default_security_patterns())],
    )
    trail_group = logs.LogGroup(audit, "TrailLogs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR)
    InsightsQueries(
        audit,
        "Queries",
        trail_log_group=trail_group,
        custom_queries=[SavedQuery(name="Deletes", query_string="filter eventName like /^Delete/")],
    )
    alarm = cloudwatch.Alarm(
        audit,
        "RootUse",
        metric=cloudwatch.Metric(namespace="Baseline", metric_name="RootUse", statistic="Sum"),
        threshold=1,
        evaluation_periods=1,
        actions_enabled=True,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    MonitoringDashboard(
        audit,
        "Dashboard",
        dashboard_name="security-overview",
        alarms=[alarm],
        trail_log_groups=[LogGroupLocation(log_group_name="/aws/cloudtrail/org", account_id="111111111111")],
        config_events_log_group=LogGroupLocation(log_group_name=routing.log_group.log_group_name),
        flow_log_groups=[LogGroupLocation(log_group_name="/vpc/flow-logs", region="us-east-1")],
        host_metric_locations=[Location(region="eu-west-1"), Location(region="us-east-1", account_id=WORKLOAD)],
    )
    ObservabilitySink(audit, "Sink", organization_id="o-a1b2c3d4e5")
    workload = cdk.Stack(app, "Workload", env=cdk.Environment(account=WORKLOAD, region="us-east-1"))
    EventForwarding(
        workload,
        "ForwardSecurityEvents",
        central_bus_arn=central_bus_arn(workload, bus_name=routing.bus_name, account=AUDIT, region="eu-west-1"),
    )
    # The sample workload sits in its own stack: aws-cdk's Function adds a DependsOn on its role
    # that cfn-lint reports as W3005, which has nothing to do with the aspects under test.
    apps = cdk.Stack(app, "SampleApps", env=cdk.Environment(account=WORKLOAD, region="us-east-1"))
    sample = SampleWorkload(apps, "Shop")
    for fn in (sample.x86, sample.arm):
        acknowledge(
            fn,
            "Sample workload of this test, not part of the library: only what the aspects add is under test.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            # The functions' roles are this app's: LambdaInsights leaves the finding to their owner.
            LAMBDA_INSIGHTS_NAG_FINDING,
            "AwsSolutions-L1",
            *in_compliance_packs("LambdaConcurrency"),
            *in_compliance_packs("LambdaDLQ"),
            *in_compliance_packs("LambdaInsideVPC"),
        )
    cdk.Aspects.of(apps).add(LambdaInsights())
    cdk.Aspects.of(apps).add(ContainerInsights())
    CloudWatchObservabilityAddon(workload, "EksObservability", cluster_name="prod")
    ObservabilityLink(workload, "Link", sink_arn=f"arn:aws:oam:eu-west-1:{AUDIT}:sink/a1b2c3d4-5678")
    return {"audit": audit, "workload": workload, "apps": apps}


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("observability")
    app = cdk.App(outdir=str(out))
    build(app)
    add_compliance_checks(app)
    app.synth()  # a finding raises RuntimeError ValidationFailed
    return out


def test_compliance_packs_report_nothing(outdir: Path):
    # The fixture synthesized with the four packs; a finding would have raised there.
    report = json.loads((outdir / "validation-report.json").read_text())
    assert report["title"] == "Validation Report"
    assert [p for p in report["pluginReports"] if p.get("violations")] == []


@pytest.mark.parametrize(
    ("stack", "ignored"), [("Audit", []), ("Workload", []), ("SampleApps", ["--ignore-checks", "W3005"])]
)
def test_cfn_lint_reports_no_error_and_no_warning(outdir: Path, stack: str, ignored: list[str]):
    template = outdir / f"{stack}.template.json"
    assert template.exists()
    result = cfn_lint(str(template), *ignored)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gate_can_fail(tmp_path: Path):
    """Without the construct's own hardening a plain queue is reported: the packs really run here."""
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad", env=cdk.Environment(account=AUDIT, region="eu-west-1"))
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
