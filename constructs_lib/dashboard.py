"""One CloudWatch dashboard over several regions and accounts, and the OAM sink and links behind it.

Every widget carries its region (and, for data of another account, its account id): CloudWatch
draws each widget from there, so one dashboard in the audit account shows every governed
region. Data of other accounts needs CloudWatch cross-account observability: an
``ObservabilitySink`` in the monitoring (audit) account and an ``ObservabilityLink`` in every
source account.

Example::

    import aws_cdk as cdk
    from constructs_lib import DashboardSections, Location, LogGroupLocation, MonitoringDashboard

    MonitoringDashboard(
        stack,
        "Dashboard",
        dashboard_name="security-overview",
        alarms=cis_alarms,
        detection_metrics={"Root sign-in": root_metric},
        trail_log_groups=[LogGroupLocation(log_group_name="/aws/cloudtrail/org-trail", account_id="111111111111")],
        flow_log_groups=[LogGroupLocation(log_group_name="/vpc/flow-logs", region="us-east-1")],
        host_metric_locations=[Location(region="eu-west-1"), Location(region="us-east-1")],
        sections=DashboardSections(config_compliance=False),
    )
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_oam as oam
from constructs import Construct

from constructs_lib import _names, policies
from constructs_lib._errors import Problems
from constructs_lib.insights_queries import FLOW_LOG_QUERIES

_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
_SINK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_SINK_ARN = re.compile(r"^arn:[a-z-]+:oam:[a-z0-9-]+:\d{12}:sink/[A-Za-z0-9-]+$")

#: Logs Insights over the central event log group: resources whose latest evaluation is NON_COMPLIANT.
CONFIG_COMPLIANCE_QUERY = (
    'filter `detail-type` = "Config Rules Compliance Change"\n'
    "| stats latest(detail.newEvaluationResult.complianceType) as compliance"
    " by account, detail.awsRegion, detail.configRuleName, detail.resourceType, detail.resourceId\n"
    '| filter compliance = "NON_COMPLIANT"\n'
    "| sort detail.configRuleName asc"
)


def _known(value: str | None) -> bool:
    """A concrete value to validate (not None, not a token resolved at deploy time)."""
    return value is not None and not cdk.Token.is_unresolved(value)


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a widget's data lives.

    :param region: Default: the dashboard stack's region.
    :param account_id: another account shared through an OAM link. Default: the stack's account.
    """

    region: str | None = None
    account_id: str | None = None

    def problems(self, where: str) -> list[str]:
        found = []
        if _known(self.region) and not _REGION.match(self.region):
            found.append(f"{where}.region {self.region!r} is not an AWS region like 'eu-west-1'")
        if _known(self.account_id) and not _ACCOUNT.match(self.account_id):
            found.append(f"{where}.account_id {self.account_id!r} is not a 12-digit AWS account id")
        return found

    @property
    def label(self) -> str:
        parts = [p for p in (self.account_id, self.region) if p]
        return " ".join(parts) if parts else "this account"


@dataclass(frozen=True, kw_only=True)
class LogGroupLocation(Location):
    """A log group by name, with where it lives.

    :param log_group_name: name of the log group.
    """

    log_group_name: str

    def problems(self, where: str) -> list[str]:
        found = super().problems(where)
        if not isinstance(self.log_group_name, str) or (
            _known(self.log_group_name) and not re.match(r"^[.\-_/#A-Za-z0-9]{1,512}$", self.log_group_name)
        ):
            found.append(f"{where}.log_group_name {self.log_group_name!r} is not a log group name")
        return found


@dataclass(frozen=True, kw_only=True)
class DashboardSections:
    """Which sections the dashboard shows; a section also needs its inputs (it is left out without them).

    Every switch defaults to True.
    """

    alarm_status: bool = True
    detections: bool = True
    trail_delivery: bool = True
    config_compliance: bool = True
    flow_logs: bool = True
    host_metrics: bool = True


@dataclass(frozen=True, kw_only=True)
class HostMetricNames:
    """CloudWatch agent metric names (namespace ``CWAgent``) the host section searches for.

    :param cpu: Default: ``cpu_usage_active``.
    :param memory: Default: ``mem_used_percent``.
    :param disk: Default: ``disk_used_percent``.
    :param namespace: Default: ``CWAgent``.
    """

    cpu: str = "cpu_usage_active"
    memory: str = "mem_used_percent"
    disk: str = "disk_used_percent"
    namespace: str = "CWAgent"


class MonitoringDashboard(Construct):
    """A CloudWatch dashboard with security and operations sections from several regions and accounts.

    Sections (each switchable with ``sections``, each left out without its inputs): security
    alarm status, counts per detection, CloudTrail delivery health (``IncomingLogEvents`` of the
    trail log groups), Config compliance (Logs Insights over the central event log group),
    flow-log rejected traffic (Logs Insights), agent host metrics (CPU, memory, disk). Then
    ``extra_widgets``. The dashboard URL is a stack output.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str | None = None,
        sections: DashboardSections | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        detection_metrics: Mapping[str, cloudwatch.IMetric] | None = None,
        trail_log_groups: Sequence[LogGroupLocation] = (),
        config_events_log_group: LogGroupLocation | None = None,
        flow_log_groups: Sequence[LogGroupLocation] = (),
        host_metric_locations: Sequence[Location] = (),
        host_metric_names: HostMetricNames | None = None,
        extra_widgets: Sequence[cloudwatch.IWidget] = (),
        default_interval: cdk.Duration | None = None,
        anomaly_band: bool = True,
    ) -> None:
        """
        :param dashboard_name: 1-255 letters, digits, '-' or '_' (dashboards are global per
            account: CloudWatch replaces a dashboard of the same name). Default: derived from the
            construct path (``<stack>-<path>-<hash>``).
        :param sections: Default: every section on.
        :param alarms: for the alarm status section (any region). Default: none.
        :param detection_metrics: label -> metric counting one detection (give Sum metrics; a
            metric carries its own region and account). Default: none.
        :param trail_log_groups: CloudTrail log groups whose delivery is watched. Default: none.
        :param config_events_log_group: log group that receives Config compliance-change events
            (``EventRouting.log_group``). Default: none.
        :param flow_log_groups: VPC flow-log groups; one rejected-traffic widget per region and
            account. Default: none.
        :param host_metric_locations: regions/accounts whose CloudWatch agent metrics are shown.
            Default: none.
        :param host_metric_names: Default: ``HostMetricNames()``.
        :param extra_widgets: your own widgets, appended. Default: none.
        :param default_interval: time range the dashboard opens with. Default: one day.
        :param anomaly_band: draw CloudWatch anomaly detection's expected band (2 standard
            deviations) around CloudTrail delivery, so a drop stands out. Default: True.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        problems = Problems(f"MonitoringDashboard({self.node.path})")
        problems.check_type("dashboard_name", dashboard_name, str, optional=True)
        if problems.check_type("sections", sections, DashboardSections, optional=True) and sections is not None:
            for switch in dataclasses.fields(DashboardSections):
                problems.check_type(f"sections.{switch.name}", getattr(sections, switch.name), bool)
        if problems.check_sequence("alarms", alarms):
            for index, alarm in enumerate(alarms):
                problems.check_resource(f"alarms[{index}]", alarm, "cloudwatch.IAlarm", optional=False)
        if problems.check_mapping("detection_metrics", detection_metrics) and detection_metrics is not None:
            for label, metric in detection_metrics.items():
                problems.check_resource(f"detection_metrics[{label!r}]", metric, "cloudwatch.IMetric", optional=False)
        problems.check_sequence("trail_log_groups", trail_log_groups, LogGroupLocation)
        problems.check_type("config_events_log_group", config_events_log_group, LogGroupLocation, optional=True)
        problems.check_sequence("flow_log_groups", flow_log_groups, LogGroupLocation)
        problems.check_sequence("host_metric_locations", host_metric_locations, Location)
        if (
            problems.check_type("host_metric_names", host_metric_names, HostMetricNames, optional=True)
            and host_metric_names is not None
        ):
            for field in dataclasses.fields(HostMetricNames):
                problems.check_type(f"host_metric_names.{field.name}", getattr(host_metric_names, field.name), str)
        if problems.check_sequence("extra_widgets", extra_widgets):
            for index, widget in enumerate(extra_widgets):
                problems.check_resource(f"extra_widgets[{index}]", widget, "cloudwatch.IWidget", optional=False)
        problems.check_type("default_interval", default_interval, cdk.Duration, optional=True)
        problems.check_type("anomaly_band", anomaly_band, bool)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        sections = sections if sections is not None else DashboardSections()
        detection_metrics = dict(detection_metrics or {})
        names = host_metric_names if host_metric_names is not None else HostMetricNames()
        if dashboard_name is None:
            dashboard_name = _names.unique(self, name_prefix=None, suffix="", max_length=255)

        problems.check(
            isinstance(dashboard_name, str) and bool(_DASHBOARD_NAME.match(dashboard_name)),
            f"dashboard_name {dashboard_name!r} is not a dashboard name: 1-255 letters, digits, '-' or '_'",
        )
        for prop, locations in (
            ("trail_log_groups", trail_log_groups),
            ("flow_log_groups", flow_log_groups),
            ("host_metric_locations", host_metric_locations),
        ):
            for index, location in enumerate(locations):
                for problem in location.problems(f"{prop}[{index}]"):
                    problems.add(problem)
        if config_events_log_group is not None:
            for problem in config_events_log_group.problems("config_events_log_group"):
                problems.add(problem)
        for label in detection_metrics:
            problems.check(
                isinstance(label, str) and 0 < len(label) <= 255,
                f"detection_metrics: label {label!r} must be 1-255 characters",
            )
        problems.raise_if_any()

        # Dashboards are global per account, and PutDashboard replaces one of the same name.
        _names.claim(self, "CloudWatch dashboard name", dashboard_name, global_kind=True)
        self.dashboard_name = dashboard_name
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Resource",
            dashboard_name=dashboard_name,
            default_interval=default_interval if default_interval is not None else cdk.Duration.days(1),
        )
        self.sections: list[str] = []

        if sections.alarm_status and alarms:
            self._section("Security alarms", "Alarms of the baseline, worst state first.")
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title="Security alarm status",
                    alarms=list(alarms),
                    sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                    width=24,
                    height=max(3, min(12, 2 + len(alarms) // 4)),
                )
            )
        if sections.detections and detection_metrics:
            self._section("Detections", "How often each detection fired in the selected time range.")
            metrics = [_labelled(metric, label) for label, metric in detection_metrics.items()]
            self.dashboard.add_widgets(
                cloudwatch.SingleValueWidget(
                    title="Detections in the time range",
                    metrics=metrics,
                    region=stack.region,
                    set_period_to_time_range=True,
                    width=24,
                    height=4,
                )
            )
        if sections.trail_delivery and trail_log_groups:
            self._section(
                "CloudTrail delivery",
                "Events CloudTrail delivered to CloudWatch Logs; a flat zero means delivery stopped.",
            )
            self.dashboard.add_widgets(
                *(self._trail_delivery_widget(location, anomaly_band) for location in trail_log_groups)
            )
        if sections.config_compliance and config_events_log_group is not None:
            self._section("AWS Config compliance", "Resources whose latest Config evaluation is NON_COMPLIANT.")
            self.dashboard.add_widgets(
                cloudwatch.LogQueryWidget(
                    title="Non-compliant resources by rule",
                    log_group_names=[config_events_log_group.log_group_name],
                    query_string=CONFIG_COMPLIANCE_QUERY,
                    region=config_events_log_group.region or stack.region,
                    account_id=config_events_log_group.account_id,
                    view=cloudwatch.LogQueryVisualizationType.TABLE,
                    width=24,
                    height=8,
                )
            )
        if sections.flow_logs and flow_log_groups:
            self._section("Rejected network traffic", "VPC flow-log records with action REJECT, by destination port.")
            by_location: dict[tuple[str | None, str | None], list[str]] = {}
            for location in flow_log_groups:
                by_location.setdefault((location.region, location.account_id), []).append(location.log_group_name)
            self.dashboard.add_widgets(
                *(
                    cloudwatch.LogQueryWidget(
                        title=f"Rejected traffic by port ({Location(region=region, account_id=account).label})",
                        log_group_names=group_names,
                        query_string=FLOW_LOG_QUERIES["Rejected traffic by port"],
                        region=region or stack.region,
                        account_id=account,
                        view=cloudwatch.LogQueryVisualizationType.TABLE,
                        width=12,
                        height=6,
                    )
                    for (region, account), group_names in by_location.items()
                )
            )
        if sections.host_metrics and host_metric_locations:
            self._section("Hosts (CloudWatch agent)", f"CPU, memory and disk from the {names.namespace} namespace.")
            for location in host_metric_locations:
                self.dashboard.add_widgets(
                    *(
                        cloudwatch.GraphWidget(
                            title=f"{title} ({location.label})",
                            region=location.region or stack.region,
                            account_id=location.account_id,
                            left=[
                                cloudwatch.MathExpression(
                                    expression=(
                                        f'SEARCH(\'Namespace="{names.namespace}" MetricName="{metric}"\', '
                                        "'Average', 300)"
                                    ),
                                    label=title,
                                    period=cdk.Duration.minutes(5),
                                    search_region=location.region,
                                    search_account=location.account_id,
                                )
                            ],
                            left_y_axis=cloudwatch.YAxisProps(min=0, max=100),
                            width=8,
                            height=6,
                        )
                        for title, metric in (
                            ("CPU used %", names.cpu),
                            ("Memory used %", names.memory),
                            ("Disk used %", names.disk),
                        )
                    )
                )
        if extra_widgets:
            self.dashboard.add_widgets(*extra_widgets)

        self.url = (
            f"https://{stack.region}.console.aws.amazon.com/cloudwatch/home?region={stack.region}"
            f"#dashboards/dashboard/{dashboard_name}"
        )
        cdk.CfnOutput(self, "Url", value=self.url, description=f"CloudWatch dashboard {dashboard_name}")

    def _trail_delivery_widget(self, location: LogGroupLocation, anomaly_band: bool) -> cloudwatch.GraphWidget:
        delivered = cloudwatch.Metric(
            namespace="AWS/Logs",
            metric_name="IncomingLogEvents",
            dimensions_map={"LogGroupName": location.log_group_name},
            statistic="Sum",
            period=cdk.Duration.minutes(5),
            region=location.region,
            account=location.account_id,
            label="IncomingLogEvents",
        )
        lines: list[cloudwatch.IMetric] = [delivered]
        if anomaly_band:
            lines.append(
                cloudwatch.MathExpression(
                    expression="ANOMALY_DETECTION_BAND(delivered, 2)",
                    using_metrics={"delivered": delivered},
                    label="Expected (anomaly detection)",
                    period=cdk.Duration.minutes(5),
                )
            )
        return cloudwatch.GraphWidget(
            title=f"CloudTrail events delivered: {location.log_group_name} ({location.label})",
            region=location.region or cdk.Stack.of(self).region,
            account_id=location.account_id,
            left=lines,
            left_y_axis=cloudwatch.YAxisProps(min=0),
            width=12,
            height=6,
        )

    def _section(self, title: str, text: str) -> None:
        self.sections.append(title)
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"## {title}\n{text}", width=24, height=2))

    def add_widgets(self, *widgets: cloudwatch.IWidget) -> None:
        """Append a row of your own widgets."""
        self.dashboard.add_widgets(*widgets)


def _labelled(metric: cloudwatch.IMetric, label: str) -> cloudwatch.IMetric:
    if isinstance(metric, cloudwatch.Metric | cloudwatch.MathExpression):
        return metric.with_(label=label)
    return metric


class OamResourceType(enum.Enum):
    """Data a source account shares with the monitoring account."""

    METRIC = "AWS::CloudWatch::Metric"
    LOG_GROUP = "AWS::Logs::LogGroup"
    TRACE = "AWS::XRay::Trace"
    APPLICATION_INSIGHTS = "AWS::ApplicationInsights::Application"
    INTERNET_MONITOR = "AWS::InternetMonitor::Monitor"


DEFAULT_OAM_RESOURCE_TYPES = (OamResourceType.METRIC, OamResourceType.LOG_GROUP, OamResourceType.TRACE)


def _check_resource_types(problems: Problems, resource_types: Sequence[OamResourceType]) -> None:
    if problems.check_enums("resource_types", resource_types, OamResourceType):
        allowed = ", ".join(f"OamResourceType.{member.name}" for member in OamResourceType)
        problems.check(bool(resource_types), f"resource_types is empty: give at least one of {allowed}")


class ObservabilitySink(Construct):
    """CloudWatch cross-account observability sink (``AWS::Oam::Sink``) in the monitoring account.

    Its policy admits the organization (or the listed accounts) to link, sharing only the given
    resource types. The sink ARN has a random part: ``sink_arn`` is a stack output that source
    accounts' ``ObservabilityLink`` needs.

    Example::

        sink = ObservabilitySink(stack, "Sink", organization_id="o-a1b2c3d4e5")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sink_name: str = "monitoring",
        organization_id: str | None = None,
        account_ids: Sequence[str] = (),
        resource_types: Sequence[OamResourceType] = DEFAULT_OAM_RESOURCE_TYPES,
    ) -> None:
        """
        :param sink_name: Default: ``monitoring``.
        :param organization_id: every account of this organization may link. Default: none.
        :param account_ids: these accounts may link. Default: none (give this or organization_id).
        :param resource_types: what linked accounts may share. Default: metrics, log groups, traces.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"ObservabilitySink({self.node.path})")
        # Each value check runs only when the prop has the right type, so every problem is reported at once.
        if problems.check_type("sink_name", sink_name, str):
            problems.check(
                bool(_SINK_NAME.match(sink_name)),
                f"sink_name {sink_name!r} is not a sink name: 1-255 letters, digits, '_', '.' or '-'",
            )
        if problems.check_type("organization_id", organization_id, str, optional=True) and organization_id:
            problems.check(
                bool(policies.ORGANIZATION_ID_PATTERN.match(organization_id)),
                f"organization_id {organization_id!r} is not an organization id like 'o-a1b2c3d4e5'",
            )
        if problems.check_sequence("account_ids", account_ids, str):
            for account in account_ids:
                problems.check(
                    bool(_ACCOUNT.match(account)), f"account_ids: {account!r} is not a 12-digit AWS account id"
                )
        problems.check(
            organization_id is not None or bool(account_ids),
            "nobody could link: give organization_id or account_ids",
        )
        _check_resource_types(problems, resource_types)
        problems.raise_if_any()
        account_ids = list(account_ids)
        resource_types = list(resource_types)
        # One sink per account and region (OAM CreateSink): a second one fails at deploy, so fail here.
        # A name derived from the path would not avoid that, and a changed name replaces the sink
        # (a new ARN every source account's link must follow), so the default stays fixed.
        _names.claim(self, "OAM sink (one per account and region)", "sink")

        types_condition = {"ForAllValues:StringEquals": {"oam:ResourceTypes": [t.value for t in resource_types]}}
        statements = []
        if organization_id is not None:
            statements.append(
                {
                    "Sid": "AllowOrganizationToLink",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["oam:CreateLink", "oam:UpdateLink"],
                    "Resource": "*",
                    "Condition": {**types_condition, "StringEquals": {"aws:PrincipalOrgID": organization_id}},
                }
            )
        if account_ids:
            statements.append(
                {
                    "Sid": "AllowAccountsToLink",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_ids},
                    "Action": ["oam:CreateLink", "oam:UpdateLink"],
                    "Resource": "*",
                    "Condition": types_condition,
                }
            )
        self.policy_document = {"Version": "2012-10-17", "Statement": statements}
        self.sink = oam.CfnSink(self, "Resource", name=sink_name, policy=json.loads(json.dumps(self.policy_document)))
        self.sink_arn = self.sink.attr_arn
        cdk.CfnOutput(self, "SinkArn", value=self.sink_arn, description="OAM sink ARN: observability.oam_sink_arn")


class ObservabilityLink(Construct):
    """Link (``AWS::Oam::Link``) that shares this account's data with a monitoring account's sink.

    Example::

        ObservabilityLink(stack, "Link", sink_arn="arn:aws:oam:eu-west-1:333333333333:sink/abcd-1234")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sink_arn: str,
        resource_types: Sequence[OamResourceType] = DEFAULT_OAM_RESOURCE_TYPES,
        label_template: str = "$AccountName",
    ) -> None:
        """
        :param sink_arn: ARN of the monitoring account's sink (its stack output).
        :param resource_types: what to share; the sink policy must admit each. Default: metrics,
            log groups, traces.
        :param label_template: how the account is labelled in the monitoring account
            (``$AccountName``, ``$AccountEmail``, ``$AccountEmailNoDomain`` or text). Default: ``$AccountName``.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"ObservabilityLink({self.node.path})")
        # Each value check runs only when the prop has the right type, so every problem is reported at once.
        if problems.check_type("sink_arn", sink_arn, str) and not cdk.Token.is_unresolved(sink_arn):
            problems.check(
                bool(_SINK_ARN.match(sink_arn)),
                f"sink_arn {sink_arn!r} is not an OAM sink ARN like 'arn:aws:oam:eu-west-1:333333333333:sink/<id>'",
            )
        if problems.check_type("label_template", label_template, str):
            problems.check(
                0 < len(label_template) <= 64,
                f"label_template {label_template!r} must be 1-64 characters",
            )
        _check_resource_types(problems, resource_types)
        problems.raise_if_any()
        resource_types = list(resource_types)
        self.link = oam.CfnLink(
            self,
            "Resource",
            sink_identifier=sink_arn,
            resource_types=[t.value for t in resource_types],
            label_template=label_template,
        )
