"""MonitoringDashboard, ObservabilitySink, ObservabilityLink: widgets per region and account, sections, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template

from constructs_lib.dashboard import (
    CONFIG_COMPLIANCE_QUERY,
    DashboardSections,
    HostMetricNames,
    Location,
    LogGroupLocation,
    MonitoringDashboard,
    OamResourceType,
    ObservabilityLink,
    ObservabilitySink,
)
from tests.conftest import new_stack

AUDIT = "333333333333"
MANAGEMENT = "111111111111"
WORKLOAD = "444444444444"


def body(template: Template) -> dict[str, Any]:
    """The dashboard body as JSON; CloudFormation tokens become '<token>'."""
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    raw = dashboard["Properties"]["DashboardBody"]
    if isinstance(raw, dict):
        raw = "".join(part if isinstance(part, str) else "<token>" for part in raw["Fn::Join"][1])
    return json.loads(raw)


def widgets(template: Template, kind: str) -> list[dict[str, Any]]:
    return [w["properties"] for w in body(template)["widgets"] if w["type"] == kind]


def full_dashboard(**overrides: Any) -> tuple[MonitoringDashboard, Template]:
    stack = new_stack(account=AUDIT)
    alarm = cloudwatch.Alarm(
        stack,
        "RootUse",
        metric=cloudwatch.Metric(namespace="Baseline", metric_name="RootUse", statistic="Sum"),
        threshold=1,
        evaluation_periods=1,
    )
    props: dict[str, Any] = {
        "dashboard_name": "security-overview",
        "alarms": [alarm],
        "detection_metrics": {
            "Root sign-in": cloudwatch.Metric(namespace="Baseline", metric_name="RootUse", statistic="Sum"),
            "GuardDuty": cloudwatch.Metric(
                namespace="Baseline", metric_name="GuardDuty", statistic="Sum", region="us-east-1"
            ),
        },
        "trail_log_groups": [LogGroupLocation(log_group_name="/aws/cloudtrail/org", account_id=MANAGEMENT)],
        "config_events_log_group": LogGroupLocation(log_group_name="/aws/events/security-events"),
        "flow_log_groups": [
            LogGroupLocation(log_group_name="/vpc/a", region="us-east-1", account_id=WORKLOAD),
            LogGroupLocation(log_group_name="/vpc/b", region="us-east-1", account_id=WORKLOAD),
            LogGroupLocation(log_group_name="/vpc/c"),
        ],
        "host_metric_locations": [Location(), Location(region="us-east-1", account_id=WORKLOAD)],
    }
    props.update(overrides)
    dashboard = MonitoringDashboard(stack, "Dashboard", **props)
    return dashboard, Template.from_stack(stack)


@pytest.fixture(scope="module")
def full() -> tuple[MonitoringDashboard, Template]:
    return full_dashboard()


class TestDashboard:
    def test_one_dashboard_with_the_name_and_every_section_in_order(self, full):
        dashboard, template = full
        template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "security-overview"})
        assert dashboard.sections == [
            "Security alarms",
            "Detections",
            "CloudTrail delivery",
            "AWS Config compliance",
            "Rejected network traffic",
            "Hosts (CloudWatch agent)",
        ]
        assert body(template)["start"] == "-P1D"

    def test_alarm_status_lists_the_given_alarms(self, full):
        _, template = full
        (alarm_widget,) = widgets(template, "alarm")
        assert alarm_widget["alarms"] == ["<token>"]

    def test_detections_count_over_the_time_range_with_each_metric_in_its_region(self, full):
        _, template = full
        (single,) = [w for w in widgets(template, "metric") if w.get("view") == "singleValue"]
        assert single["setPeriodToTimeRange"] is True
        assert single["region"] == "eu-west-1"
        labels = {m[-1]["label"]: m[-1] for m in single["metrics"]}
        assert set(labels) == {"Root sign-in", "GuardDuty"}
        assert labels["GuardDuty"]["region"] == "us-east-1"

    def test_trail_delivery_graphs_incoming_log_events_of_the_other_account(self, full):
        _, template = full
        (graph,) = [w for w in widgets(template, "metric") if "CloudTrail" in w.get("title", "")]
        assert graph["accountId"] == MANAGEMENT
        assert graph["region"] == "eu-west-1"
        delivered = next(m for m in graph["metrics"] if m[:2] == ["AWS/Logs", "IncomingLogEvents"])
        assert delivered[2:4] == ["LogGroupName", "/aws/cloudtrail/org"]
        assert delivered[4]["stat"] == "Sum" and delivered[4]["id"] == "delivered"
        (band,) = [m[0] for m in graph["metrics"] if "expression" in m[0]]
        assert band["expression"] == "ANOMALY_DETECTION_BAND(delivered, 2)"

    def test_anomaly_band_can_be_left_out(self):
        _, template = full_dashboard(anomaly_band=False)
        (graph,) = [w for w in widgets(template, "metric") if "CloudTrail" in w.get("title", "")]
        assert [m[:2] for m in graph["metrics"]] == [["AWS/Logs", "IncomingLogEvents"]]

    def test_config_compliance_queries_the_event_log_group(self, full):
        _, template = full
        (config,) = [w for w in widgets(template, "log") if "Non-compliant" in w["title"]]
        assert config["query"].startswith("SOURCE '/aws/events/security-events' | ")
        assert config["query"].endswith(CONFIG_COMPLIANCE_QUERY)
        assert config["region"] == "eu-west-1"

    def test_flow_logs_get_one_rejected_traffic_widget_per_region_and_account(self, full):
        _, template = full
        flows = [w for w in widgets(template, "log") if "Rejected" in w["title"]]
        assert [(w["region"], w.get("accountId")) for w in flows] == [("us-east-1", WORKLOAD), ("eu-west-1", None)]
        assert flows[0]["query"].startswith("SOURCE '/vpc/a' | SOURCE '/vpc/b' | filter action = \"REJECT\"")

    def test_host_metrics_search_cwagent_per_location(self, full):
        _, template = full
        hosts = [w for w in widgets(template, "metric") if "%" in w.get("title", "")]
        assert len(hosts) == 6
        remote = [w for w in hosts if w.get("accountId") == WORKLOAD]
        assert {w["region"] for w in remote} == {"us-east-1"}
        expressions = [w["metrics"][0][0]["expression"] for w in remote]
        assert any('MetricName="mem_used_percent"' in e and 'Namespace="CWAgent"' in e for e in expressions)
        assert any("disk_used_percent" in e for e in expressions) and any("cpu_usage_active" in e for e in expressions)
        assert all(w["metrics"][0][0]["accountId"] == WORKLOAD for w in remote)

    def test_dashboard_url_is_an_output(self, full):
        dashboard, template = full
        outputs = template.to_json()["Outputs"]
        (url,) = [o["Value"] for o in outputs.values() if "dashboards/dashboard/" in json.dumps(o["Value"])]
        assert url == (
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
            "#dashboards/dashboard/security-overview"
        )
        assert dashboard.url == url

    def test_sections_switch_off_and_extra_widgets_are_appended(self):
        dashboard, template = full_dashboard(
            sections=DashboardSections(alarm_status=False, detections=False, host_metrics=False, flow_logs=False),
            extra_widgets=[cloudwatch.TextWidget(markdown="## Team notes", width=24, height=2)],
            host_metric_names=HostMetricNames(memory="mem_used"),
        )
        assert dashboard.sections == ["CloudTrail delivery", "AWS Config compliance"]
        assert widgets(template, "alarm") == []
        texts = [w["markdown"] for w in widgets(template, "text")]
        assert texts[-1] == "## Team notes"

    def test_a_section_without_inputs_is_left_out(self):
        stack = new_stack()
        dashboard = MonitoringDashboard(
            stack, "Dashboard", dashboard_name="ops", host_metric_locations=[Location(region="us-west-2")]
        )
        dashboard.add_widgets(cloudwatch.TextWidget(markdown="added later", width=6, height=2))
        assert dashboard.sections == ["Hosts (CloudWatch agent)"]
        template = Template.from_stack(stack)
        assert [w["region"] for w in widgets(template, "metric")] == ["us-west-2"] * 3
        assert widgets(template, "text")[-1]["markdown"] == "added later"

    def test_log_group_names_may_be_tokens(self):
        from aws_cdk import aws_logs as logs

        stack = new_stack()
        group = logs.LogGroup(stack, "Events", retention=logs.RetentionDays.ONE_MONTH)
        MonitoringDashboard(
            stack,
            "Dashboard",
            dashboard_name="ops",
            config_events_log_group=LogGroupLocation(log_group_name=group.log_group_name),
        )
        (config,) = widgets(Template.from_stack(stack), "log")
        assert config["query"].startswith("SOURCE '<token>' | ")

    def test_errors_are_reported_together(self):
        with pytest.raises(ValueError, match=r"4 problems") as error:
            MonitoringDashboard(
                new_stack(),
                "Dashboard",
                dashboard_name="has space",
                trail_log_groups=[LogGroupLocation(log_group_name="t", region="Europe", account_id="123")],
                flow_log_groups=[LogGroupLocation(log_group_name="bad name!")],
            )
        message = str(error.value)
        assert "dashboard_name 'has space'" in message
        assert "trail_log_groups[0].region 'Europe' is not an AWS region" in message
        assert "trail_log_groups[0].account_id '123' is not a 12-digit AWS account id" in message
        assert "flow_log_groups[0].log_group_name 'bad name!' is not a log group name" in message


class TestSink:
    def test_policy_admits_the_organization_for_the_shared_types_only(self):
        stack = new_stack(account=AUDIT)
        sink = ObservabilitySink(stack, "Sink", organization_id="o-a1b2c3d4e5")
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::Oam::Sink",
            {
                "Name": "monitoring",
                "Policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AllowOrganizationToLink",
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": ["oam:CreateLink", "oam:UpdateLink"],
                            "Resource": "*",
                            "Condition": {
                                "ForAllValues:StringEquals": {
                                    "oam:ResourceTypes": [
                                        "AWS::CloudWatch::Metric",
                                        "AWS::Logs::LogGroup",
                                        "AWS::XRay::Trace",
                                    ]
                                },
                                "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                            },
                        }
                    ],
                },
            },
        )
        assert stack.resolve(sink.sink_arn) == {"Fn::GetAtt": ["SinkD86FD045", "Arn"]}
        assert any("SinkArn" in key for key in template.to_json()["Outputs"])

    def test_accounts_instead_of_an_organization(self):
        stack = new_stack(account=AUDIT)
        ObservabilitySink(
            stack, "Sink", sink_name="ops", account_ids=[WORKLOAD], resource_types=[OamResourceType.METRIC]
        )
        (sink,) = Template.from_stack(stack).find_resources("AWS::Oam::Sink").values()
        (statement,) = sink["Properties"]["Policy"]["Statement"]
        assert statement["Principal"] == {"AWS": [WORKLOAD]}
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {"oam:ResourceTypes": ["AWS::CloudWatch::Metric"]}
        }

    def test_errors(self):
        with pytest.raises(ValueError, match=r"3 problems") as error:
            ObservabilitySink(new_stack(), "Sink", sink_name="bad name", account_ids=["12"], resource_types=[])
        message = str(error.value)
        assert "sink_name 'bad name'" in message and "'12' is not a 12-digit" in message
        assert "resource_types is empty" in message
        with pytest.raises(ValueError, match=r"nobody could link"):
            ObservabilitySink(new_stack(), "Sink")
        with pytest.raises(ValueError, match=r"organization_id 'o-1'"):
            ObservabilitySink(new_stack(), "Sink", organization_id="o-1")


class TestLink:
    def test_link_shares_metrics_logs_and_traces_labelled_by_account_name(self):
        stack = new_stack(account=WORKLOAD)
        arn = f"arn:aws:oam:eu-west-1:{AUDIT}:sink/a1b2c3d4-5678-90ab-cdef-1234567890ab"
        ObservabilityLink(stack, "Link", sink_arn=arn)
        Template.from_stack(stack).has_resource_properties(
            "AWS::Oam::Link",
            {
                "SinkIdentifier": arn,
                "ResourceTypes": ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup", "AWS::XRay::Trace"],
                "LabelTemplate": "$AccountName",
            },
        )

    def test_errors(self):
        with pytest.raises(ValueError, match=r"3 problems") as error:
            ObservabilityLink(new_stack(), "Link", sink_arn="sink-1", label_template="", resource_types=["metrics"])
        message = str(error.value)
        assert "sink_arn 'sink-1' is not an OAM sink ARN" in message
        assert "label_template ''" in message
        assert "resource_types[0]: 'metrics' is not an OamResourceType; allowed: OamResourceType.METRIC" in message
