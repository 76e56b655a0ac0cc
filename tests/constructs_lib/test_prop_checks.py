"""Every public prop is checked at construction: a wrong enum value or type raises a ValueError
naming the prop, the value received and what is allowed (never an AttributeError at synth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from constructs_lib import (
    AgentConfig,
    AuditTrail,
    CloudFrontAccessLogs,
    CloudWatchAgent,
    CloudWatchObservabilityAddon,
    ConfigAggregator,
    ConfigRecorder,
    ConfigRules,
    ConformancePack,
    ContainerInsights,
    CustomManagedRule,
    DashboardSections,
    EventForwarding,
    EventRouting,
    FlowLogDestination,
    FlowLogResource,
    HostMetricNames,
    InsightsQueries,
    LambdaInsights,
    LogBucket,
    ManagedRuleSpec,
    MonitoringDashboard,
    NotificationTopics,
    ObservabilityLink,
    ObservabilitySink,
    SavedQuery,
    SecurityAlarms,
    VpcFlowLogs,
)
from tests.conftest import new_stack

VPC = FlowLogResource.vpc("vpc-0123456789abcdef0")
SINK_ARN = "arn:aws:oam:eu-west-1:333333333333:sink/a1b2c3d4-5678-90ab-cdef-1234567890ab"


def _make(construct: Callable[..., Any]) -> Callable[..., Any]:
    return lambda stack, **props: construct(stack, "X", **props)


def _alarms(stack: cdk.Stack, **props: Any) -> SecurityAlarms:
    group = logs.LogGroup.from_log_group_name(stack, "Trail", "/aws/cloudtrail/audit-trail")
    return SecurityAlarms(stack, "Alarms", **{"log_group": group, **props})


CASES: list[tuple[str, Callable[..., Any], dict[str, Any], str]] = [
    # The two cases of the issue.
    (
        "trail-management-events-string",
        _make(AuditTrail),
        {"management_events": "none"},
        r"management_events: 'none' is not a ManagementEvents; allowed: ManagementEvents.ALL, "
        r"ManagementEvents.WRITE_ONLY, ManagementEvents.READ_ONLY, ManagementEvents.NONE",
    ),
    (
        "trail-bucket-name",
        _make(AuditTrail),
        {"bucket": "my-bucket"},
        r"bucket: 'my-bucket' is not an s3.IBucket; pass s3.Bucket\(...\) or s3.Bucket.from_bucket_name",
    ),
    ("trail-key-arn", _make(AuditTrail), {"key": "arn:aws:kms:eu-west-1:1:key/x"}, r"key: .* is not a kms.IKey"),
    (
        "trail-insights-strings",
        _make(AuditTrail),
        {"insights": ["ApiCallRateInsight"]},
        r"insights\[0\]: .* InsightType",
    ),
    ("trail-retention-int", _make(AuditTrail), {"log_retention": 365}, r"log_retention: 365 is not a RetentionDays"),
    (
        "trail-flag-string",
        _make(AuditTrail),
        {"exclude_kms_events": "yes"},
        r"exclude_kms_events: 'yes' is not of type bool",
    ),
    (
        "trail-removal-string",
        _make(AuditTrail),
        {"removal_policy": "retain"},
        r"removal_policy: 'retain' is not a RemovalPolicy",
    ),
    ("alarms-key", _alarms, {"encryption_key": "alias/x"}, r"encryption_key: 'alias/x' is not a kms.IKey"),
    ("alarms-severity", _alarms, {"composite_alarm_severity": "critical"}, r"composite_alarm_severity: 'critical'"),
    ("alarms-disabled-string", _alarms, {"disabled": "vpc-changes"}, r"disabled: 'vpc-changes' is not a list"),
    ("alarms-emails-string", _alarms, {"emails": "soc@example.com"}, r"emails: 'soc@example.com' is not a mapping"),
    ("alarms-log-group", lambda s, **p: SecurityAlarms(s, "A", log_group="/aws/x", **p), {}, r"log_group: '/aws/x'"),
    ("topics-key", _make(NotificationTopics), {"encryption_key": "k"}, r"encryption_key: 'k' is not a kms.IKey"),
    (
        "flow-logs-destination-bucket",
        lambda s, **p: VpcFlowLogs(s, "F", resource=VPC, **p),
        {"destinations": [FlowLogDestination.s3("my-bucket")]},
        r"destinations\[0\]: bucket: 'my-bucket' is not an s3.IBucket",
    ),
    (
        "flow-logs-destinations-not-list",
        lambda s, **p: VpcFlowLogs(s, "F", resource=VPC, **p),
        {"destinations": FlowLogDestination.cloudwatch_logs()},
        r"destinations: .* is not a list or tuple",
    ),
    (
        "flow-logs-retention",
        lambda s, **p: VpcFlowLogs(s, "F", resource=VPC, **p),
        {"destinations": [FlowLogDestination.cloudwatch_logs(retention=30)]},
        r"retention: 30 is not a RetentionDays",
    ),
    ("cloudfront-key", _make(CloudFrontAccessLogs), {"encryption_key": "k"}, r"encryption_key: 'k' is not a kms.IKey"),
    ("agent-config", _make(CloudWatchAgent), {"config": "linux"}, r"config: 'linux' is not of type AgentConfig"),
    (
        "agent-tag-values",
        _make(CloudWatchAgent),
        {"target_tag_values": "enabled"},
        r"target_tag_values: 'enabled' is not a list",
    ),
    ("agent-create-role", _make(CloudWatchAgent), {"create_role": "no"}, r"create_role: 'no' is not of type bool"),
    ("routing-key", _make(EventRouting), {"key": "k"}, r"key: 'k' is not a kms.IKey"),
    ("routing-queue-flag", _make(EventRouting), {"enable_queue": 1}, r"enable_queue: 1 is not of type bool"),
    (
        "routing-routes",
        _make(EventRouting),
        {"notification_routes": ["critical"]},
        r"notification_routes\[0\]: 'critical'",
    ),
    (
        "forwarding-patterns",
        lambda s, **p: EventForwarding(
            s, "F", central_bus_arn="arn:aws:events:eu-west-1:333333333333:event-bus/security-events", **p
        ),
        {"patterns": ["root-sign-in"]},
        r"patterns\[0\]: 'root-sign-in' is not of type SecurityEventPattern",
    ),
    (
        "recorder-bucket",
        _make(ConfigRecorder),
        {"bucket": "acme-config"},
        r"bucket: 'acme-config' is not an s3.IBucket",
    ),
    (
        "recorder-frequency",
        _make(ConfigRecorder),
        {"recording_frequency": "DAILY"},
        r"recording_frequency: 'DAILY' is not a RecordingFrequency; allowed: RecordingFrequency.CONTINUOUS",
    ),
    ("recorder-excluded", _make(ConfigRecorder), {"excluded_resource_types": "AWS::EC2::Volume"}, r"is not a list"),
    ("log-bucket-key", _make(LogBucket), {"server_access_logs": False, "encryption_key": "k"}, r"encryption_key: 'k'"),
    (
        "log-bucket-ownership",
        _make(LogBucket),
        {"server_access_logs": False, "object_ownership": "ObjectWriter"},
        r"ObjectOwnership",
    ),
    # ConfigRules
    (
        "rules-recorder",
        _make(ConfigRules),
        {"recorder": "default"},
        r"recorder: 'default' is not of type ConfigRecorder",
    ),
    ("rules-home-region", _make(ConfigRules), {"home_region": "yes"}, r"home_region: 'yes' is not of type bool"),
    (
        "rules-condition",
        _make(ConfigRules),
        {"home_region_condition": "IsHome"},
        r"home_region_condition: 'IsHome' is not a cdk.CfnCondition",
    ),
    ("rules-prefix", _make(ConfigRules), {"rule_name_prefix": 7}, r"rule_name_prefix: 7 is not of type str or None"),
    (
        "rules-disabled-string",
        _make(ConfigRules),
        {"disabled_rules": "restricted-ssh"},
        r"disabled_rules: 'restricted-ssh' is not a list or tuple",
    ),
    (
        "rules-overrides-not-mapping",
        _make(ConfigRules),
        {"parameter_overrides": [("restricted-ssh", {})]},
        r"parameter_overrides: .* is not a mapping",
    ),
    (
        "rules-custom-not-rule",
        _make(ConfigRules),
        {"custom_rules": ["RDS_STORAGE_ENCRYPTED"]},
        r"custom_rules\[0\]: 'RDS_STORAGE_ENCRYPTED' is not of type CustomManagedRule",
    ),
    (
        "rules-custom-spec-types",
        _make(ConfigRules),
        {
            "custom_rules": [
                CustomManagedRule(
                    name="rds",
                    spec=ManagedRuleSpec(
                        identifier="RDS_STORAGE_ENCRYPTED", description="x", resource_types="AWS::RDS::DBInstance"
                    ),
                )
            ]
        },
        r"custom_rules\[0\].spec.resource_types: 'AWS::RDS::DBInstance' is not a list or tuple",
    ),
    (
        "rules-pack-template",
        _make(ConfigRules),
        {"conformance_packs": [ConformancePack(name="p", template="logging-and-monitoring")]},
        r"conformance_packs\[0\].template: 'logging-and-monitoring' is not of type ConformancePackTemplate",
    ),
    ("rules-topic", _make(ConfigRules), {"notification_topic": "arn:aws:sns:x"}, r"notification_topic: .* sns.ITopic"),
    (
        "rules-protection-tag",
        _make(ConfigRules),
        {"protection_tag": "monitoring-baseline"},
        r"protection_tag: 'monitoring-baseline' is not a \(key, value\) tuple",
    ),
    # ConfigAggregator
    (
        "aggregator-name",
        _make(ConfigAggregator),
        {"aggregator_name": 1, "account_ids": ["111111111111"]},
        r"aggregator_name: 1 is not of type str or None",
    ),
    (
        "aggregator-organization",
        _make(ConfigAggregator),
        {"organization": "true"},
        r"organization: 'true' is not of type bool",
    ),
    (
        "aggregator-accounts-string",
        _make(ConfigAggregator),
        {"account_ids": "111111111111"},
        r"account_ids: '111111111111' is not a list or tuple",
    ),
    (
        "aggregator-regions-string",
        _make(ConfigAggregator),
        {"organization": True, "regions": "eu-west-1"},
        r"regions: 'eu-west-1' is not a list or tuple",
    ),
    # MonitoringDashboard
    ("dashboard-name", _make(MonitoringDashboard), {"dashboard_name": 5}, r"dashboard_name: 5 is not of type str"),
    (
        "dashboard-sections",
        _make(MonitoringDashboard),
        {"sections": {"alarm_status": False}},
        r"sections: .* is not of type DashboardSections",
    ),
    (
        "dashboard-section-switch",
        _make(MonitoringDashboard),
        {"sections": DashboardSections(flow_logs="no")},
        r"sections.flow_logs: 'no' is not of type bool",
    ),
    (
        "dashboard-alarms",
        _make(MonitoringDashboard),
        {"alarms": ["root-use"]},
        r"alarms\[0\]: 'root-use' is not a cloudwatch.IAlarm",
    ),
    (
        "dashboard-metric",
        _make(MonitoringDashboard),
        {"detection_metrics": {"Root": "RootUse"}},
        r"detection_metrics\['Root'\]: 'RootUse' is not a cloudwatch.IMetric",
    ),
    (
        "dashboard-trail-groups",
        _make(MonitoringDashboard),
        {"trail_log_groups": ["/aws/cloudtrail/org"]},
        r"trail_log_groups\[0\]: '/aws/cloudtrail/org' is not of type LogGroupLocation",
    ),
    (
        "dashboard-config-group",
        _make(MonitoringDashboard),
        {"config_events_log_group": "/aws/events/x"},
        r"config_events_log_group: '/aws/events/x' is not of type LogGroupLocation or None",
    ),
    (
        "dashboard-host-locations",
        _make(MonitoringDashboard),
        {"host_metric_locations": "eu-west-1"},
        r"host_metric_locations: 'eu-west-1' is not a list or tuple",
    ),
    (
        "dashboard-host-names",
        _make(MonitoringDashboard),
        {"host_metric_names": HostMetricNames(cpu=None)},
        r"host_metric_names.cpu: None is not of type str",
    ),
    (
        "dashboard-widgets",
        _make(MonitoringDashboard),
        {"extra_widgets": ["## Notes"]},
        r"extra_widgets\[0\]: .* cloudwatch.IWidget",
    ),
    (
        "dashboard-interval",
        _make(MonitoringDashboard),
        {"default_interval": 86400},
        r"default_interval: 86400 is not of type Duration or None",
    ),
    ("dashboard-band", _make(MonitoringDashboard), {"anomaly_band": 1}, r"anomaly_band: 1 is not of type bool"),
    # InsightsQueries
    (
        "queries-trail-group",
        _make(InsightsQueries),
        {"trail_log_group": "/aws/cloudtrail/org"},
        r"trail_log_group: '/aws/cloudtrail/org' is not a logs.ILogGroup",
    ),
    (
        "queries-flow-groups",
        _make(InsightsQueries),
        {"flow_log_groups": ["/vpc/flow-logs"]},
        r"flow_log_groups\[0\]: '/vpc/flow-logs' is not a logs.ILogGroup",
    ),
    (
        "queries-custom-string",
        _make(InsightsQueries),
        {"custom_queries": "stats count(*)"},
        r"custom_queries: 'stats count\(\*\)' is not a list or tuple",
    ),
    (
        "queries-saved-log-groups",
        _make(InsightsQueries),
        {"custom_queries": [SavedQuery(name="q", query_string="stats count(*)", log_groups=["/x"])]},
        r"custom_queries\[0\].log_groups\[0\]: '/x' is not a logs.ILogGroup",
    ),
    (
        "queries-folder",
        _make(InsightsQueries),
        {"folder": None, "custom_queries": []},
        r"folder: None is not of type str",
    ),
    # OAM sink and link
    (
        "sink-name",
        _make(ObservabilitySink),
        {"sink_name": 1, "organization_id": "o-a1b2c3d4e5"},
        r"sink_name: 1 is not of type str",
    ),
    (
        "sink-organization",
        _make(ObservabilitySink),
        {"organization_id": 1},
        r"organization_id: 1 is not of type str or None",
    ),
    (
        "sink-accounts-string",
        _make(ObservabilitySink),
        {"account_ids": "111111111111"},
        r"account_ids: '111111111111' is not a list or tuple",
    ),
    (
        "sink-resource-types",
        _make(ObservabilitySink),
        {"organization_id": "o-a1b2c3d4e5", "resource_types": ["AWS::CloudWatch::Metric"]},
        r"resource_types\[0\]: 'AWS::CloudWatch::Metric' is not an OamResourceType; allowed: OamResourceType.METRIC",
    ),
    ("link-arn", _make(ObservabilityLink), {"sink_arn": None}, r"sink_arn: None is not of type str"),
    (
        "link-resource-types-string",
        lambda s, **p: ObservabilityLink(s, "L", sink_arn=SINK_ARN, **p),
        {"resource_types": "METRIC"},
        r"resource_types: 'METRIC' is not a list or tuple",
    ),
    (
        "link-label",
        lambda s, **p: ObservabilityLink(s, "L", sink_arn=SINK_ARN, **p),
        {"label_template": 5},
        r"label_template: 5 is not of type str",
    ),
    # Insights aspects
    (
        "container-insights-level",
        lambda s, **p: ContainerInsights(**p),
        {"level": "enhanced"},
        r"ContainerInsights: level: 'enhanced' is not a ContainerInsights; allowed: ContainerInsights.ENABLED",
    ),
    (
        "lambda-insights-version",
        lambda s, **p: LambdaInsights(**p),
        {"version": 1},
        r"LambdaInsights: version: 1 is not of type str or LambdaInsightsVersion",
    ),
    (
        "addon-cluster",
        _make(CloudWatchObservabilityAddon),
        {"cluster_name": None},
        r"cluster_name: None is not of type str",
    ),
    (
        "addon-role",
        lambda s, **p: CloudWatchObservabilityAddon(s, "O", cluster_name="prod", **p),
        {"role": "arn:aws:iam::111111111111:role/agent"},
        r"role: .* is not an iam.IRole",
    ),
    (
        "addon-pod-identity",
        lambda s, **p: CloudWatchObservabilityAddon(s, "O", cluster_name="prod", **p),
        {"use_pod_identity": "yes"},
        r"use_pod_identity: 'yes' is not of type bool",
    ),
    (
        "addon-configuration",
        lambda s, **p: CloudWatchObservabilityAddon(s, "O", cluster_name="prod", **p),
        {"configuration_values": {"agent": {}}},
        r"configuration_values: .* is not of type str or None",
    ),
]


@pytest.mark.parametrize(("build", "props", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_wrong_prop_raises_naming_prop_value_and_allowed(build, props, message):
    stack = new_stack()
    with pytest.raises(ValueError, match=message):
        build(stack, **props)


def test_type_problems_of_one_construct_are_reported_together():
    stack = new_stack()
    with pytest.raises(ValueError, match=r"3 problems") as raised:
        AuditTrail(stack, "Trail", management_events="none", bucket="my-bucket", insights="ApiCallRateInsight")
    assert "AuditTrail(TestStack/Trail)" in str(raised.value)


def test_a_right_enum_value_still_works():
    stack = new_stack()
    CloudWatchAgent(stack, "Agent", config=AgentConfig.linux(), log_retention=logs.RetentionDays.ONE_MONTH)


def test_problems_of_one_construct_are_reported_together_for_the_new_checks_too():
    stack = new_stack()
    with pytest.raises(ValueError, match=r"3 problems") as raised:
        ObservabilityLink(stack, "Link", sink_arn="sink-1", label_template="", resource_types=["metrics"])
    assert "ObservabilityLink(TestStack/Link)" in str(raised.value)
    with pytest.raises(ValueError, match=r"2 problems"):
        ConfigAggregator(stack, "Aggregator", organization="yes", account_ids="111111111111")


def test_right_values_of_the_newly_checked_constructs_still_work():
    stack = new_stack()
    ConfigRules(stack, "Rules", disabled_rules=("restricted-ssh",), protection_tag=("monitoring-baseline", "acme"))
    MonitoringDashboard(stack, "Dashboard", sections=DashboardSections(), default_interval=cdk.Duration.hours(3))
    ObservabilitySink(stack, "Sink", account_ids=("222222222222",))
    ContainerInsights()
    LambdaInsights()
