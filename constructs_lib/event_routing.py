"""EventBridge routing of security events: a central bus in the audit account, forwarding from the others.

``EventRouting`` (audit account, home region) owns the central bus. Its resource policy admits
only the organization (or, in single-account mode, only its own account). Rules on it deliver
every event to an encrypted log group and an encrypted queue, and the events of chosen patterns
to the caller's SNS topics; an archive keeps every event for replay.

``EventForwarding`` (every other account and governed region) puts rules on the default bus
that forward security-relevant events to the central bus, whose ARN is built from its name
(``EventRouting.bus_name``) and the audit account id (``central_bus_arn``), never looked up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from constructs_lib import _brought, _log_groups, _names, event_patterns, policies
from constructs_lib._errors import Problems
from constructs_lib.event_patterns import SecurityEventPattern, check_unique_names, default_security_patterns

_BUS_NAME = re.compile(r"^[A-Za-z0-9._-]{1,256}$")
_ROUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")
_BUS_ARN = re.compile(r"^arn:[a-z-]+:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._-]{1,256}$")


def central_bus_arn(scope: IConstruct, *, bus_name: str, account: str, region: str) -> str:
    """ARN of the central bus, built from its name (``EventRouting.bus_name``), the audit account and its region."""
    return cdk.Stack.of(scope).format_arn(
        service="events",
        resource="event-bus",
        resource_name=bus_name,
        account=account,
        region=region,
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


@jsii.implements(events.IRuleTarget)
class _ArnTarget:
    """A rule target by ARN with exactly the role and dead-letter queue given.

    The aws-cdk ``CloudWatchLogGroup`` target installs its log-group resource policy through a
    Lambda-backed custom resource, and the ``EventBus`` target adds an inline policy to the
    role; CloudFormation can do both natively, so the constructs here do that instead.
    """

    def __init__(
        self,
        arn: str,
        *,
        role: iam.IRole | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        granted: set[str] | None = None,
        input: events.RuleTargetInput | None = None,
    ):
        self._arn = arn
        self._input = input
        self._role = role
        self._dead_letter_queue = dead_letter_queue
        self._granted = granted

    def bind(self, rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        dead_letter = None
        if self._dead_letter_queue is not None:
            _allow_rule_to_send(self._dead_letter_queue, rule, self._granted)
            dead_letter = events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letter_queue.queue_arn)
        return events.RuleTargetConfig(
            arn=self._arn, role=self._role, dead_letter_config=dead_letter, input=self._input
        )


def _allow_rule_to_send(queue: sqs.IQueue, rule: events.IRule, granted: set[str] | None = None) -> None:
    """Let ``rule`` (and no other rule) send to ``queue``; ``granted`` remembers what was added."""
    sid = f"AllowRule{cdk.Names.node_unique_id(rule.node)}"[-100:]
    if granted is not None:
        if sid in granted:
            return
        granted.add(sid)
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
        )
    )


@dataclass(frozen=True, kw_only=True)
class NotificationRoute:
    """Events of ``patterns`` on the central bus go to ``topic``.

    The topic's key (if any) must let ``events.amazonaws.com`` use it (``kms:Decrypt``,
    ``kms:GenerateDataKey*``), or EventBridge drops the notifications silently.

    :param name: 1-40 letters, digits or '-'; rule ids come from it.
    :param topic: where matching events are published.
    :param patterns: which events; each becomes one rule.
    """

    name: str
    topic: sns.ITopic
    patterns: Sequence[SecurityEventPattern]


def routes_by_severity(
    *,
    critical: sns.ITopic | None = None,
    high: sns.ITopic | None = None,
    medium: sns.ITopic | None = None,
    config_compliance: sns.ITopic | None = None,
) -> list[NotificationRoute]:
    """The default patterns routed to one topic per severity (a topic left out drops its patterns).

    critical: root sign-in, CloudTrail/Config tampering, GuardDuty findings >= 7 (High).
    high: IAM changes, Security Hub CRITICAL and HIGH findings, GuardDuty 4.0-6.9 (Medium).
    medium: security-group changes, Config rules turning NON_COMPLIANT.

    :param config_compliance: route Config NON_COMPLIANT results here (a ``config-compliance``
        route) instead of with the medium ones. Default: with the medium ones.
    """
    guardduty_high = event_patterns.guardduty_findings(min_severity=7.0)
    guardduty_medium = event_patterns.SecurityEventPattern(
        name="guardduty-medium",
        description="GuardDuty findings with severity 4.0-6.9",
        source=["aws.guardduty"],
        detail_type=["GuardDuty Finding"],
        detail={"severity": [{"numeric": [">=", 4, "<", 7]}]},
    )
    compliance = [event_patterns.config_non_compliant()]
    plan = (
        ("critical", critical, [event_patterns.root_sign_in(), event_patterns.audit_tampering(), guardduty_high]),
        ("high", high, [event_patterns.iam_changes(), event_patterns.security_hub_findings(), guardduty_medium]),
        ("medium", medium, [event_patterns.security_group_changes(), *([] if config_compliance else compliance)]),
        ("config-compliance", config_compliance, compliance),
    )
    return [NotificationRoute(name=name, topic=topic, patterns=patterns) for name, topic, patterns in plan if topic]


class EventRouting(Construct):
    """The central security event bus with its routing rules, log group, queue and archive.

    Example::

        import aws_cdk as cdk
        from aws_cdk import aws_sns as sns
        from constructs_lib import EventRouting, NotificationRoute, event_patterns

        stack = cdk.Stack(app, "Audit", env=cdk.Environment(account="333333333333", region="eu-west-1"))
        critical = sns.Topic(stack, "Critical")
        routing = EventRouting(
            stack,
            "SecurityEvents",
            bus_name="security-events",  # fixed: forwarders in other apps build its ARN from it
            organization_id="o-a1b2c3d4e5",
            notification_routes=[
                NotificationRoute(
                    name="critical",
                    topic=critical,
                    patterns=[event_patterns.root_sign_in(), event_patterns.audit_tampering()],
                )
            ],
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus_name: str | None = None,
        organization_id: str | None = None,
        notification_routes: Sequence[NotificationRoute] = (),
        key: kms.IKey | None = None,
        log_group_name: str | None = None,
        log_retention: logs.RetentionDays | None = None,
        enable_queue: bool = True,
        archive_retention_days: int = 365,
        removal_policy: cdk.RemovalPolicy | None = None,
        all_events_exclusion: SecurityEventPattern | None = None,
    ) -> None:
        """
        :param bus_name: name of the central bus; forwarding rules in other accounts build its ARN
            from it (``central_bus_arn``), so give a fixed one when they live in another app.
            Default: derived from the construct path (``<stack>-<path>-<hash>``, read it from
            ``bus_name``), so two routings in one account and region never collide.
        :param organization_id: ``o-...``: every account of the organization may put events.
            Default: none, single-account mode: only this stack's account may.
        :param notification_routes: events to send to SNS topics. Default: none.
        :param key: encrypts the log group and queues. Default: a new key with rotation and the
            key policy CloudWatch Logs and EventBridge need.
        :param log_group_name: of the log group that keeps every event.
            Default: ``/aws/events/<bus_name>`` (the prefix the EventBridge console lists).
        :param log_retention: Default: one year.
        :param enable_queue: deliver every event to an SQS queue (with a dead-letter queue) for a
            SIEM or a ticketing integration. Default: True.
        :param archive_retention_days: days the archive keeps events for replay; 0 keeps them
            forever. Default: 365.
        :param removal_policy: of the key, log group, queues and archive. Default: RETAIN.
        :param all_events_exclusion: events kept out of the rule for every event (log group, queue)
            and the archive, such as a heartbeat counted elsewhere (``everything_but``). Routes still
            see them. Default: none, every event.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        routes = list(notification_routes) if isinstance(notification_routes, (list, tuple)) else notification_routes

        problems = Problems(f"EventRouting({self.node.path})")
        problems.check_type("bus_name", bus_name, str, optional=True)
        problems.check_type("organization_id", organization_id, str, optional=True)
        if problems.check_sequence("notification_routes", routes, NotificationRoute):
            for index, route in enumerate(routes):
                problems.check_type(f"notification_routes[{index}].name", route.name, str)
                problems.check_resource(
                    f"notification_routes[{index}].topic", route.topic, "sns.ITopic", optional=False
                )
                if problems.check_sequence(f"notification_routes[{index}].patterns", route.patterns):
                    for i, pattern in enumerate(route.patterns):
                        problems.check_type(
                            f"notification_routes[{index}].patterns[{i}]", pattern, SecurityEventPattern
                        )
        problems.check_resource("key", key, "kms.IKey")
        problems.check_type("log_group_name", log_group_name, str, optional=True)
        problems.check_enum("log_retention", log_retention, logs.RetentionDays, optional=True)
        problems.check_type("enable_queue", enable_queue, bool)
        problems.check_type("archive_retention_days", archive_retention_days, int)
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        problems.check_type("all_events_exclusion", all_events_exclusion, SecurityEventPattern, optional=True)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        if bus_name is None:
            bus_name = _names.unique(self, name_prefix=None, suffix="", max_length=256)
        problems.check(
            bool(_BUS_NAME.match(bus_name)) and bus_name != "default",
            f"bus_name {bus_name!r} is not a custom bus name: 1-256 letters, digits, '.', '_' or '-', not 'default'",
        )
        if organization_id is not None:
            problems.check(
                bool(policies.ORGANIZATION_ID_PATTERN.match(organization_id)),
                f"organization_id {organization_id!r} is not an organization id like 'o-a1b2c3d4e5'",
            )
        problems.check(
            isinstance(archive_retention_days, int) and 0 <= archive_retention_days <= 36500,
            f"archive_retention_days {archive_retention_days!r} must be a whole number of days from 0 "
            "(keep forever) to 36500",
        )
        seen: set[str] = set()
        for index, route in enumerate(routes):
            problems.check(
                bool(_ROUTE_NAME.match(route.name)),
                f"notification_routes[{index}].name {route.name!r} is not a route name: 1-40 letters, digits or '-'",
            )
            problems.check(route.name not in seen, f"notification_routes[{index}].name {route.name!r} is used twice")
            seen.add(route.name)
            problems.check(
                bool(route.patterns),
                f"notification_routes[{index}] ({route.name!r}) has no patterns: give at least one",
            )
            try:
                check_unique_names(f"notification_routes[{index}]", route.patterns)
            except ValueError as error:
                problems.add(str(error))
        every_event: dict[str, Any] | None = None
        if all_events_exclusion is not None:
            try:
                every_event = event_patterns.everything_but(all_events_exclusion)
            except ValueError as error:
                problems.add(f"all_events_exclusion: {error}")
        problems.raise_if_any()

        _names.claim(self, "EventBridge bus name", bus_name)
        self.bus_name = bus_name
        log_group_name = log_group_name if log_group_name is not None else f"/aws/events/{bus_name}"

        own_key = key is None
        if key is None:
            key = _log_groups.new_key(
                self,
                description=f"Encrypts the log group and queues that receive events of bus {bus_name}",
                removal_policy=removal_policy,
            )
        _log_groups.allow_logs(self, key, [log_group_name], own_key=own_key)
        sid = "AllowEventBridgeToUseEncryptedQueues"
        _brought.add_statements(
            self,
            key,
            [policies.eventbridge_publish_key_statement(sid=sid if own_key else _brought.unique_sid(self, sid))],
            prop="key",
            helper="eventbridge_publish_key_statement",
            consequence="EventBridge cannot deliver to the encrypted queues and drops every event",
        )
        self.key: kms.IKey = key

        self.bus = events.EventBus(
            self, "Bus", event_bus_name=bus_name, description="Security events of every account and region"
        )
        principal: iam.IPrincipal = (
            iam.AccountPrincipal(stack.account) if organization_id is None else iam.AnyPrincipal()
        )
        conditions = {} if organization_id is None else {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
        sid = "AllowOrganizationToPutEvents" if organization_id else "AllowAccountToPutEvents"
        statement = iam.PolicyStatement(
            sid=sid,
            principals=[principal],
            actions=["events:PutEvents"],
            resources=[self.bus.event_bus_arn],
            conditions=conditions or None,
        )
        # The L1 directly: EventBus.add_to_resource_policy builds the same resource but makes jsii
        # print a deprecation warning (of CfnEventBusPolicy's old principal/action props) on every synth.
        self.bus_policy = events.CfnEventBusPolicy(
            self,
            "BusPolicy",
            event_bus_name=self.bus.event_bus_name,
            statement_id=sid,
            statement=statement.to_statement_json(),
        )

        self.archive = events.CfnArchive(
            self,
            "Archive",
            source_arn=self.bus.event_bus_arn,
            description=f"Every event of bus {bus_name}, for replay",
            retention_days=archive_retention_days,
            event_pattern=every_event,
        )
        # The archive holds the events kept for replay: stateful, retained like the log group.
        self.archive.apply_removal_policy(removal_policy)

        self.log_group = _log_groups.new_log_group(
            self,
            "LogGroup",
            log_group_name=log_group_name,
            key=key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self.log_group.add_to_resource_policy(
            policies.eventbridge_log_group_statement(
                log_group_arn=self.log_group.log_group_arn, sid="AllowEventBridgeToWriteEvents"
            )
        )

        queue_options = {
            "encryption": sqs.QueueEncryption.KMS,
            "encryption_master_key": key,
            "enforce_ssl": True,
            "removal_policy": removal_policy,
        }
        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetterQueue", retention_period=cdk.Duration.days(14), **queue_options
        )
        self.queue: sqs.Queue | None = None
        if enable_queue:
            self.queue = sqs.Queue(
                self,
                "Queue",
                retention_period=cdk.Duration.days(14),
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=self.dead_letter_queue),
                **queue_options,
            )

        # Every event: the empty prefix matches any source.
        self.all_events_rule = events.Rule(
            self,
            "AllEvents",
            event_bus=self.bus,
            description=f"Every event of bus {bus_name} to its log group and queue",
            event_pattern=events.EventPattern(source=events.Match.prefix("")),
        )
        if every_event is not None:
            # A top-level $or is not an events.EventPattern field: the pattern as EventBridge reads it.
            cfn_rule = self.all_events_rule.node.default_child
            assert isinstance(cfn_rule, events.CfnRule)
            cfn_rule.add_property_override("EventPattern.$or", every_event["$or"])
            cfn_rule.add_property_deletion_override("EventPattern.source")
        dead_letter_grants: set[str] = set()
        self.all_events_rule.add_target(
            _ArnTarget(
                self._log_group_target_arn(log_group_name),
                dead_letter_queue=self.dead_letter_queue,
                granted=dead_letter_grants,
            )
        )
        if self.queue is not None:
            # Not targets.SqsQueue: it grants events.amazonaws.com on the queue and key without any
            # condition; here only this rule may send, and the key statement above checks the account.
            _allow_rule_to_send(self.queue, self.all_events_rule)
            self.all_events_rule.add_target(
                _ArnTarget(self.queue.queue_arn, dead_letter_queue=self.dead_letter_queue, granted=dead_letter_grants)
            )

        self.notification_rules: dict[str, list[events.Rule]] = {}
        for index, route in enumerate(routes):
            route_scope = Construct(self, f"Route-{route.name}")
            rules = []
            for pattern in route.patterns:
                rule = events.Rule(
                    route_scope,
                    pattern.name,
                    event_bus=self.bus,
                    description=f"{pattern.description} -> {route.name}"[:512],
                    event_pattern=pattern.to_cdk(),
                )
                rule.add_target(targets.SnsTopic(route.topic, dead_letter_queue=self.dead_letter_queue))
                rules.append(rule)
            self._wire_route_topic(index, route)
            self.notification_rules[route.name] = rules

    def _wire_route_topic(self, index: int, route: NotificationRoute) -> None:
        """EventBridge must be let publish to the route's topic and use its key.

        ``targets.SnsTopic`` adds the topic-policy statement to a topic of this app; an imported
        one gets a warning here. The topic's key (when the topic is of this app) gets the key
        statement; an imported key gets a warning.
        """
        prop = f"notification_routes[{index}].topic"
        if not isinstance(route.topic, sns.Topic):
            _brought.add_statements(
                self,
                route.topic,
                [
                    policies.service_publish_topic_statement(
                        sid="AllowEventBridgeToPublish",
                        topic_arn=route.topic.topic_arn,
                        services=["events.amazonaws.com"],
                    )
                ],
                prop=prop,
                helper="service_publish_topic_statement",
                consequence="EventBridge cannot publish the route's events (they go to the dead-letter queue)",
            )
        if route.topic.master_key is not None:
            _brought.add_statements(
                self,
                route.topic.master_key,
                [policies.eventbridge_publish_key_statement()],
                prop=f"{prop} key",
                helper="eventbridge_publish_key_statement",
                consequence="EventBridge cannot publish to the encrypted topic and the events go to the "
                "dead-letter queue",
            )

    def _log_group_target_arn(self, log_group_name: str) -> str:
        # EventBridge wants the log group ARN without the trailing ':*' that LogGroup.log_group_arn has.
        return policies.log_group_arn(self, log_group_name)

    @property
    def event_bus_arn(self) -> str:
        return self.bus.event_bus_arn


class EventForwarding(Construct):
    """Rules on this account's default bus that forward security events to the central bus.

    Deploy in every account and governed region (``us-east-1`` too: IAM and root sign-in events
    arrive there). The role EventBridge assumes may only put events on the central bus.

    Example::

        from constructs_lib import EventForwarding, central_bus_arn, event_patterns

        EventForwarding(
            stack,
            "ForwardSecurityEvents",
            central_bus_arn=central_bus_arn(
                stack, bus_name="security-events", account="333333333333", region="eu-west-1"
            ),
            patterns=[event_patterns.root_sign_in(), event_patterns.guardduty_findings(min_severity=7)],
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        central_bus_arn: str,
        patterns: Sequence[SecurityEventPattern] | None = None,
        role_name: str | None = None,
    ) -> None:
        """
        :param central_bus_arn: ARN of the central bus (see ``central_bus_arn()``).
        :param patterns: events to forward, one rule each. Default: ``default_security_patterns()``.
        :param role_name: name of the role EventBridge assumes (role names are global per account:
            give one only if this construct exists once per account). Default: generated.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        patterns = (
            default_security_patterns()
            if patterns is None
            else (list(patterns) if isinstance(patterns, (list, tuple)) else patterns)
        )

        problems = Problems(f"EventForwarding({self.node.path})")
        problems.check_type("central_bus_arn", central_bus_arn, str)
        if patterns is not None and problems.check_sequence("patterns", patterns):
            for i, pattern in enumerate(patterns):
                problems.check_type(f"patterns[{i}]", pattern, SecurityEventPattern)
        problems.check_type("role_name", role_name, str, optional=True)
        problems.raise_if_any()
        if not cdk.Token.is_unresolved(central_bus_arn):
            problems.check(
                bool(_BUS_ARN.match(central_bus_arn)),
                f"central_bus_arn {central_bus_arn!r} is not an event bus ARN like "
                "'arn:aws:events:eu-west-1:333333333333:event-bus/security-events'",
            )
            problems.check(
                not central_bus_arn.endswith("event-bus/default"),
                f"central_bus_arn {central_bus_arn!r} names a default bus: forward to the central custom bus",
            )
        problems.check(bool(patterns), "patterns is empty: forward at least one pattern (or leave it None)")
        try:
            check_unique_names("patterns", patterns)
        except ValueError as error:
            problems.add(str(error))
        problems.raise_if_any()

        self.central_bus_arn = central_bus_arn
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Lets EventBridge forward security events to the central bus",
        )
        # A customer-managed policy rather than an inline one (NIST/HIPAA/PCI IAMNoInlinePolicy).
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Put events on the central security bus, nothing else",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="PutEventsOnCentralBus", actions=["events:PutEvents"], resources=[central_bus_arn]
                )
            ],
        )
        self.rules: dict[str, events.Rule] = {}
        for pattern in patterns:
            rule = events.Rule(
                self,
                pattern.name,
                description=f"Forward to the central bus: {pattern.description}"[:512],
                event_pattern=pattern.to_cdk(),
            )
            rule.add_target(_ArnTarget(central_bus_arn, role=self.role))
            rule.node.add_dependency(self.policy)
            self.rules[pattern.name] = rule
