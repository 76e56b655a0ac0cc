"""SecurityAlarms: CloudTrail events in CloudWatch Logs turned into metrics, alarms and notifications."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import _brought, _log_groups, _names, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import MetricOptions, Unpack, metric
from constructs_lib.detections import Detection, Severity, builtin_detections

DEFAULT_NAMESPACE = "CloudTrailMetrics"
DEFAULT_ANOMALY_DETECTION = ("unauthorized-api-calls",)

_NAMESPACE = re.compile(r"^[A-Za-z0-9._/#:-]{1,255}$")
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Services that publish to the topics: CloudWatch alarms and EventBridge rules.
_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


class SecurityAlarms(Construct):
    """Metric filters and alarms on a CloudTrail log group, notifying SNS topics per severity.

    Deploys the 15 CIS AWS Foundations monitoring controls (Security Hub CloudWatch.1-14, with
    the patterns exactly as Security Hub checks them), the detections of ``EXTRA_DETECTIONS``
    and your own ``Detection`` objects. Each alarm counts matching events (Sum) over its
    period, alarms at ``>= threshold``, treats missing data as not breaching and notifies its
    severity's topic on ALARM and on OK. The topics are encrypted with a customer key that
    CloudWatch and EventBridge may use (with ``aws/sns`` notifications are silently dropped).

    Metric filter alarms evaluate only in the account and region that own the log group: put
    this next to the (organization) trail's log group.

    Example::

        from constructs_lib import AuditTrail, Detection, SecurityAlarms, Severity

        trail = AuditTrail(stack, "Trail")
        alarms = SecurityAlarms(
            stack,
            "SecurityAlarms",
            log_group=trail.log_group,
            disabled=["ec2-instance-state-changes"],
            thresholds={"console-authentication-failures": 3},
            custom_detections=[
                Detection(
                    name="Break-glass role used",
                    pattern='{ $.userIdentity.sessionContext.sessionIssuer.userName = "break-glass" }',
                    severity=Severity.CRITICAL,
                )
            ],
            emails={Severity.CRITICAL: ["oncall@example.com"]},
        )
        dashboard_metric = alarms.metric("root-account-usage")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        disabled: Sequence[str] = (),
        thresholds: Mapping[str, int] | None = None,
        custom_detections: Sequence[Detection] = (),
        emails: Mapping[Severity, Sequence[str]] | None = None,
        encryption_key: kms.IKey | None = None,
        metric_namespace: str = DEFAULT_NAMESPACE,
        alarm_name_prefix: str | None = None,
        insufficient_data_actions: bool = False,
        composite_alarm: bool = True,
        composite_alarm_severity: Severity | None = None,
        anomaly_detection: Sequence[str] = DEFAULT_ANOMALY_DETECTION,
        anomaly_band_std_devs: float = 2,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param log_group: the log group CloudTrail delivers to (``AuditTrail.log_group``).
        :param disabled: keys of built-in detections to leave out, such as ``"vpc-changes"``
            (``Detection.key``). Default: none, every built-in detection is on.
        :param thresholds: alarm threshold per detection key (built-in or custom).
            Default: each detection's own threshold.
        :param custom_detections: your own detections. Default: none.
        :param emails: email recipients per severity (each confirms the subscription once).
            Default: none.
        :param encryption_key: encrypts the topics; its policy must let CloudWatch and
            EventBridge use it. Default: a new key with rotation and that policy.
        :param metric_namespace: of the detection metrics. Default: ``CloudTrailMetrics``.
        :param alarm_name_prefix: alarm, metric filter and composite alarm names start with it
            (fixed names: give it once per account and region, say ``security``). Default: a prefix
            unique to this construct's path (``<stack>-<path>-<hash>``), so two uses never collide.
        :param insufficient_data_actions: also notify on INSUFFICIENT_DATA. Default: False.
        :param composite_alarm: a composite alarm in ALARM while any detection is.
            Default: True.
        :param composite_alarm_severity: topic the composite alarm notifies. Default: none
            (the detections notify; the composite summarizes for dashboards and suppression).
        :param anomaly_detection: detection keys whose metric gets an anomaly detector and a
            band alarm. Default: ``["unauthorized-api-calls"]`` (when that detection is on).
        :param anomaly_band_std_devs: width of the expected band. Default: 2.
        :param removal_policy: of the key created here. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        _check_mappings(f"SecurityAlarms({self.node.path})", thresholds=thresholds, emails=emails)
        thresholds = dict(thresholds or {})
        emails = dict(emails or {})
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        builtins = builtin_detections()

        problems = Problems(f"SecurityAlarms({self.node.path})")
        problems.check_resource("log_group", log_group, "logs.ILogGroup", optional=False)
        problems.check_sequence("disabled", disabled, str)
        problems.check_sequence("custom_detections", custom_detections)
        problems.check_sequence("anomaly_detection", anomaly_detection, str)
        problems.check_resource("encryption_key", encryption_key, "kms.IKey")
        problems.check_type("metric_namespace", metric_namespace, str)
        problems.check_type("alarm_name_prefix", alarm_name_prefix, str, optional=True)
        problems.check_type("insufficient_data_actions", insufficient_data_actions, bool)
        problems.check_type("composite_alarm", composite_alarm, bool)
        problems.check_enum("composite_alarm_severity", composite_alarm_severity, Severity, optional=True)
        problems.check_type("anomaly_band_std_devs", anomaly_band_std_devs, (int, float))
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        if alarm_name_prefix is None:
            alarm_name_prefix = _names.unique(self, name_prefix=None, suffix="", max_length=48)
        disabled = list(disabled)
        anomaly_detection = list(anomaly_detection)
        for key in disabled:
            problems.check(
                key in builtins,
                f"disabled: {key!r} is not a built-in detection; allowed: {', '.join(builtins)}",
            )
        detections: dict[str, Detection] = {key: d for key, d in builtins.items() if key not in disabled}
        custom_keys: list[str] = []
        for detection in custom_detections:
            if not isinstance(detection, Detection):
                problems.add(f"custom_detections: {detection!r} is not a Detection")
                continue
            if detection.key in builtins:
                problems.add(
                    f"custom_detections: {detection.name!r} has the key {detection.key!r} of a built-in detection; "
                    "rename it (or disable the built-in one and give yours another name)"
                )
            elif detection.key in custom_keys:
                problems.add(f"custom_detections: {detection.name!r} is given twice (key {detection.key!r})")
            else:
                custom_keys.append(detection.key)
                detections[detection.key] = detection
        known = [*builtins, *custom_keys]
        for key, value in thresholds.items():
            if key not in builtins and key not in custom_keys:
                problems.add(f"thresholds: {key!r} is not a detection; allowed: {', '.join(known)}")
            elif key in disabled:
                problems.add(f"thresholds: {key!r} is disabled; enable it or drop its threshold")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.add(f"thresholds[{key!r}]: {value!r} is not a whole number of events >= 1")
        for key in anomaly_detection:
            if key not in detections:
                state = "disabled" if key in disabled else "not a detection"
                problems.add(f"anomaly_detection: {key!r} is {state}; allowed: {', '.join(detections)}")
        problems.check(
            len(set(anomaly_detection)) == len(anomaly_detection),
            f"anomaly_detection lists a detection twice (got {anomaly_detection!r})",
        )
        problems.check(
            anomaly_band_std_devs > 0, f"anomaly_band_std_devs {anomaly_band_std_devs!r} must be greater than 0"
        )
        problems.check(bool(detections), "every detection is disabled: there is nothing to alarm on")
        problems.check(
            bool(_NAMESPACE.match(metric_namespace)) and not metric_namespace.startswith("AWS/"),
            f"metric_namespace {metric_namespace!r} is not a custom namespace (1-255 letters, digits or ._/#:-, "
            "not starting with 'AWS/')",
        )
        problems.check(
            bool(_PREFIX.match(alarm_name_prefix)),
            f"alarm_name_prefix {alarm_name_prefix!r} is not a name prefix (1-64 letters, digits, '_' or '-')",
        )
        _check_emails(problems, emails)
        problems.raise_if_any()

        _names.claim(self, "alarm name prefix", alarm_name_prefix)
        self.log_group = log_group
        self.metric_namespace = metric_namespace
        self.alarm_name_prefix = alarm_name_prefix
        #: Deployed detections by key, with thresholds applied.
        self.detections: dict[str, Detection] = {
            key: _with_threshold(detection, thresholds.get(key)) for key, detection in detections.items()
        }

        self.encryption_key, self.topics = _severity_topics(
            self, emails=emails, encryption_key=encryption_key, removal_policy=removal_policy
        )

        #: Metric filter and alarm per detection key.
        self.metric_filters: dict[str, logs.MetricFilter] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for key, detection in self.detections.items():
            group = Construct(self, detection.construct_id)
            self.metric_filters[key] = logs.MetricFilter(
                group,
                "MetricFilter",
                log_group=log_group,
                filter_name=f"{alarm_name_prefix}-{key}",
                filter_pattern=logs.FilterPattern.literal(detection.pattern),
                metric_namespace=metric_namespace,
                metric_name=detection.construct_id,
                metric_value="1",
            )
            alarm = cloudwatch.Alarm(
                group,
                "Alarm",
                alarm_name=f"{alarm_name_prefix}-{key}",
                alarm_description=_describe(detection),
                metric=self.metric(key),
                threshold=detection.threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            # The alarm reads the filter's metric: create the filter first.
            alarm.node.add_dependency(self.metric_filters[key])
            self._notify(alarm, detection.severity, insufficient_data_actions)
            self.alarms[key] = alarm

        #: Anomaly-detection band alarms by detection key.
        self.anomaly_alarms: dict[str, cloudwatch.AnomalyDetectionAlarm] = {}
        for key in anomaly_detection:
            detection = self.detections[key]
            group = self.node.find_child(detection.construct_id)
            detector = cloudwatch.CfnAnomalyDetector(
                group,
                "AnomalyDetector",
                single_metric_anomaly_detector=cloudwatch.CfnAnomalyDetector.SingleMetricAnomalyDetectorProperty(
                    namespace=metric_namespace, metric_name=detection.construct_id, stat="Sum"
                ),
            )
            anomaly = cloudwatch.AnomalyDetectionAlarm(
                group,
                "AnomalyAlarm",
                alarm_name=f"{alarm_name_prefix}-{key}-anomaly",
                alarm_description=f"{detection.name}: volume above the expected band "
                f"({anomaly_band_std_devs} standard deviations of the learned pattern).",
                metric=self.metric(key),
                evaluation_periods=1,
                std_devs=anomaly_band_std_devs,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            anomaly.node.add_dependency(detector)
            self._notify(anomaly, detection.severity, insufficient_data_actions)
            self.anomaly_alarms[key] = anomaly

        #: In ALARM while any detection alarm is.
        self.composite_alarm: cloudwatch.CompositeAlarm | None = None
        if composite_alarm:
            self.composite_alarm = cloudwatch.CompositeAlarm(
                self,
                "PostureAlarm",
                composite_alarm_name=f"{alarm_name_prefix}-posture",
                alarm_description="Security posture: in ALARM while any security detection alarm is.",
                alarm_rule=cloudwatch.AlarmRule.any_of(
                    *(cloudwatch.AlarmRule.from_alarm(a, cloudwatch.AlarmState.ALARM) for a in self.alarms.values())
                ),
            )
            if composite_alarm_severity is not None:
                self._notify(self.composite_alarm, composite_alarm_severity, insufficient_data_actions)

    def _notify(self, alarm: cloudwatch.AlarmBase, severity: Severity, insufficient_data: bool) -> None:
        action = cloudwatch_actions.SnsAction(self.topics[severity])
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        if insufficient_data:
            alarm.add_insufficient_data_action(action)

    def metric(self, name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """The metric of detection ``name`` (its key or its name).

        Default: Sum over the detection's period (five minutes for the built-in ones).

        :param options: ``cloudwatch.MetricOptions`` overrides (``period``, ``label``, ...).
        """
        detection = self._find(name)
        return metric(
            f"SecurityAlarms({self.node.path}).metric",
            namespace=self.metric_namespace,
            metric_name=detection.construct_id,
            period=cdk.Duration.minutes(detection.period_minutes),
            options=options,
        )

    def _find(self, name: str) -> Detection:
        detection = self.detections.get(name)
        if detection is None:
            detection = next((d for d in self.detections.values() if d.name == name), None)
        if detection is None:
            raise ValueError(
                f"SecurityAlarms({self.node.path}).metric: {name!r} is not a deployed detection; "
                f"deployed: {', '.join(self.detections)}"
            )
        return detection


def _with_threshold(detection: Detection, threshold: int | None) -> Detection:
    if threshold is None or threshold == detection.threshold:
        return detection
    return dataclasses.replace(detection, threshold=threshold)


def _describe(detection: Detection) -> str:
    source = ", ".join(c for c in (detection.control, detection.security_hub_control) if c)
    what = detection.description or detection.name
    text = f"{detection.name}: {what}"
    if source:
        text += f" ({source})"
    minutes = detection.period_minutes
    text += f". ALARM at {detection.threshold} or more matching events in {minutes} minutes."
    return text[:1024]


def _check_mappings(owner: str, **values: object) -> None:
    problems = Problems(owner)
    for prop, value in values.items():
        problems.check_mapping(prop, value)
    problems.raise_if_any()


def _check_emails(problems: Problems, emails: Mapping[Severity, Sequence[str]]) -> None:
    for severity, addresses in emails.items():
        if not isinstance(severity, Severity):
            problems.add(f"emails: key {severity!r} is not a Severity")
            continue
        if not problems.check_sequence(f"emails[{severity.name}]", addresses, str):
            continue
        for address in addresses:
            problems.check(bool(_EMAIL.match(address)), f"emails[{severity.name}]: {address!r} is not an email address")


def _severity_topics(
    scope: Construct,
    *,
    emails: Mapping[Severity, Sequence[str]],
    encryption_key: kms.IKey | None,
    removal_policy: cdk.RemovalPolicy,
) -> tuple[kms.IKey, dict[Severity, sns.Topic]]:
    """One KMS-encrypted, TLS-only topic per severity, children of ``scope`` (their ids are pinned by
    the templates that already hold them), with a key CloudWatch alarms and EventBridge rules of this
    account may publish through, and the email subscriptions."""
    stack = cdk.Stack.of(scope)
    # Key: the AWS-managed aws/sns key cannot grant CloudWatch or EventBridge anything.

    if encryption_key is None:
        encryption_key = _log_groups.new_key(
            scope,
            description="Encrypts the security alarm topics; CloudWatch and EventBridge may publish through it",
            removal_policy=removal_policy,
        )
    # Identical statements on a key several constructs share are merged by aws-cdk, so the Sids stay.
    _brought.add_statements(
        scope,
        encryption_key,
        [
            policies.service_publish_key_statement(
                sid="AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                services=["cloudwatch.amazonaws.com"],
                account_id=stack.account,
                source_arns=[
                    stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            policies.eventbridge_publish_key_statement(),
        ],
        prop="encryption_key",
        helper="service_publish_key_statement and eventbridge_publish_key_statement",
        consequence="the encrypted topics silently drop every alarm notification and routed event",
    )

    topics: dict[Severity, sns.Topic] = {}
    for severity in Severity:
        title = severity.value.capitalize()
        topic = sns.Topic(
            scope,
            f"{title}Topic",
            display_name=f"Security alarms: {severity.value}",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarmsAndRulesToPublish",
                principals=[iam.ServicePrincipal(service) for service in _PUBLISHERS],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        for address in emails.get(severity, ()):
            sns.Subscription(
                topic,
                f"Email{address}",
                topic=topic,
                protocol=sns.SubscriptionProtocol.EMAIL,
                endpoint=address,
            )
        topics[severity] = topic

    return encryption_key, topics


class NotificationTopics(Construct):
    """Topics per severity that CloudWatch alarms and EventBridge rules can really publish to.

    The same topics ``SecurityAlarms`` creates, for a stack that has no alarms of its own, such as
    the audit account's central event bus (``routes_by_severity(critical=topics.topics[...])``).

    Example::

        topics = NotificationTopics(stack, "Notifications", emails={Severity.CRITICAL: ["soc@example.com"]})
        EventRouting(stack, "Events", notification_routes=routes_by_severity(
            critical=topics.topics[Severity.CRITICAL], high=topics.topics[Severity.HIGH]))
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        emails: Mapping[Severity, Sequence[str]] | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param emails: recipients per severity. Default: none (subscribe later).
        :param encryption_key: Default: a new key with rotation that CloudWatch and EventBridge may use.
        :param removal_policy: of the key created here. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        _check_mappings(f"NotificationTopics({self.node.path})", emails=emails)
        emails = dict(emails or {})
        problems = Problems(f"NotificationTopics({self.node.path})")
        problems.check_resource("encryption_key", encryption_key, "kms.IKey")
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy, optional=True)
        _check_emails(problems, emails)
        problems.raise_if_any()
        self.encryption_key, self.topics = _severity_topics(
            self,
            emails=emails,
            encryption_key=encryption_key,
            removal_policy=removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN,
        )
