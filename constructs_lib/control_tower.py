"""AccountFactoryRollout: a service-managed StackSet reaches accounts AWS Control Tower vends, after Control Tower is done.

A StackSet's automatic deployment fires as soon as an account lands in a target OU. Account
Factory moves a new account into its OU *before* Control Tower's own baseline StackSets have
created the account's AWS Config recorder, so a template with Config rules fails there
(``NoAvailableConfigurationRecorderException``). Control Tower announces the end of its work with
a lifecycle event in the management account's home region: ``CreateManagedAccount`` (a vended or
enrolled account) and ``UpdateManagedAccount`` (an account updated or moved to another OU), each
with ``state`` ``SUCCEEDED`` or ``FAILED`` (Control Tower User Guide, "Lifecycle events").

This construct turns each SUCCEEDED event into ``cloudformation:CreateStackInstances`` for that
one account (its OU intersected with the account, every given region), through the Step Functions
AWS SDK integration: no Lambda function. CreateStackInstances is a no-op for instances that
exist, so an UpdateManagedAccount of an account that has the baseline changes nothing. The state
machine retries while another operation runs on the StackSet (StackSets runs one at a time, and
Account Factory may vend several accounts in a row), waits for the operation's outcome, and fails
when it fails: an alarm on failed, timed-out or aborted executions, and one on the rules' dead-letter
queue, notify ``alarm_topic``.

Deploy it in the management account (the StackSet's administrator), in Control Tower's home region,
with the StackSet's automatic deployment off. SCPs never restrict the management account, so the
roll-out's own calls cannot be denied by them.

Example::

    from aws_cdk import aws_sns as sns
    from constructs_lib import AccountFactoryRollout

    topic = sns.Topic(stack, "Alerts", enforce_ssl=True)
    AccountFactoryRollout(
        stack,
        "Rollout",
        stack_set_name="acme-workload-baseline",
        regions=["eu-west-1", "us-east-1"],
        organizational_unit_ids=["ou-a1b2-c3d4e5f6"],
        alarm_topic=topic,
    )
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib import _log_groups, _nag
from constructs_lib._errors import Problems
from constructs_lib._metrics import any_in_five_minutes

#: The lifecycle events that end with an account Control Tower manages, and where their status lives.
LIFECYCLE_EVENTS: dict[str, str] = {
    "CreateManagedAccount": "createManagedAccountStatus",
    "UpdateManagedAccount": "updateManagedAccountStatus",
}
LIFECYCLE_DETAIL_TYPE = "AWS Service Event via CloudTrail"

STACK_SET_NAME_PATTERN = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
OU_ID_PATTERN = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

#: What a state machine needs to write its execution log (Step Functions Developer Guide, logging).
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)
#: What it needs to send X-Ray traces.
TRACING_ACTIONS = (
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
)


def lifecycle_event_pattern(event_name: str, organizational_unit_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """EventBridge pattern of a SUCCEEDED ``event_name`` lifecycle event, optionally for accounts of these OUs."""
    if event_name not in LIFECYCLE_EVENTS:
        raise ValueError(f"event_name: {event_name!r} is not one of {', '.join(LIFECYCLE_EVENTS)}")
    status: dict[str, Any] = {"state": ["SUCCEEDED"]}
    if organizational_unit_ids is not None:
        status["organizationalUnit"] = {"organizationalUnitId": list(organizational_unit_ids)}
    return {
        "source": ["aws.controltower"],
        "detail-type": [LIFECYCLE_DETAIL_TYPE],
        "detail": {
            "eventSource": ["controltower.amazonaws.com"],
            "eventName": [event_name],
            "serviceEventDetails": {LIFECYCLE_EVENTS[event_name]: status},
        },
    }


class AccountFactoryRollout(Construct):
    """Adds a service-managed StackSet's instances for each account Control Tower finishes creating or updating.

    See the module docstring for why (and an example).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_set_name: str,
        regions: Sequence[str],
        alarm_topic: sns.ITopic,
        organizational_unit_ids: Sequence[str] | None = None,
        key: kms.IKey | None = None,
        log_retention: logs.RetentionDays | None = None,
        timeout: cdk.Duration | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param stack_set_name: the service-managed StackSet, administered by this stack's account.
        :param regions: regions of the new stack instances (the StackSet's regions).
        :param alarm_topic: where failed roll-outs and undeliverable events are reported.
        :param organizational_unit_ids: only accounts Control Tower places in these OUs (list the
            StackSet's target OUs and the OUs below them). Default: accounts of any OU.
        :param key: encrypts the execution log group. Default: a new key with rotation.
        :param log_retention: of the execution log group. Default: one year.
        :param timeout: of one roll-out, waits for a busy StackSet included. Default: six hours.
        :param removal_policy: of the key and log group. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"AccountFactoryRollout({self.node.path})")
        if not isinstance(stack_set_name, str) or not (
            cdk.Token.is_unresolved(stack_set_name) or STACK_SET_NAME_PATTERN.match(stack_set_name)
        ):
            problems.add(
                f"stack_set_name: {stack_set_name!r} is not a StackSet name "
                "(a letter, then up to 127 letters, digits or '-')"
            )
        if problems.check_sequence("regions", regions, str):
            problems.check(bool(regions), "regions: [] is empty; give the StackSet's regions, like ['eu-west-1']")
            for index, region in enumerate(regions):
                problems.check(
                    cdk.Token.is_unresolved(region) or bool(REGION_PATTERN.match(region)),
                    f"regions[{index}]: {region!r} is not a region like 'eu-west-1'",
                )
            duplicates = sorted({r for r in regions if list(regions).count(r) > 1})
            problems.check(not duplicates, f"regions: {duplicates} listed more than once")
        if organizational_unit_ids is not None and problems.check_sequence(
            "organizational_unit_ids", organizational_unit_ids, str
        ):
            problems.check(
                bool(organizational_unit_ids),
                "organizational_unit_ids: [] matches no account; give the OU ids, or None for every OU",
            )
            for index, unit in enumerate(organizational_unit_ids):
                problems.check(
                    cdk.Token.is_unresolved(unit) or bool(OU_ID_PATTERN.match(unit)),
                    f"organizational_unit_ids[{index}]: {unit!r} is not an OU id like 'ou-a1b2-c3d4e5f6'",
                )
        problems.check_resource("alarm_topic", alarm_topic, "sns.ITopic", optional=False)
        problems.check_resource("key", key, "kms.IKey")
        if timeout is not None:
            minutes = timeout.to_minutes() if isinstance(timeout, cdk.Duration) else None
            problems.check(
                minutes is not None and 15 <= minutes <= 7 * 24 * 60,
                f"timeout: {timeout!r} must be a cdk.Duration between 15 minutes and 7 days",
            )
        problems.raise_if_any()

        stack = cdk.Stack.of(self)
        removal = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        self.stack_set_name = stack_set_name
        stack_set_arn = _stack_set_arn(self, stack_set_name)
        # Service-managed StackSets also authorize the deployment target and the template's resource
        # types (AWSControlTowerServiceRolePolicy grants CreateStackInstances on the same three).
        deploy_arns = [stack_set_arn, _target_arn(self, stack_set_name), _type_arn(self)]

        # The roll-out: start the operation (retried while the StackSet is busy), then poll it.
        create = tasks.CallAwsService(
            self,
            "CreateStackInstances",
            service="cloudformation",
            action="createStackInstances",
            parameters={
                "StackSetName": stack_set_name,
                "Regions": list(regions),
                "DeploymentTargets": {
                    "Accounts": sfn.JsonPath.array(sfn.JsonPath.string_at("$.accountId")),
                    "OrganizationalUnitIds": sfn.JsonPath.array(sfn.JsonPath.string_at("$.organizationalUnitId")),
                    # Only this account of its OU: the OU's other accounts have their instances.
                    "AccountFilterType": "INTERSECTION",
                },
                "OperationPreferences": {"RegionConcurrencyType": "PARALLEL", "FailureToleranceCount": 0},
                "CallAs": "SELF",
            },
            iam_resources=deploy_arns,
            iam_action="cloudformation:CreateStackInstances",
            result_selector={"OperationId": sfn.JsonPath.string_at("$.OperationId")},
            result_path="$.operation",
        )
        create.add_retry(
            errors=["CloudFormation.OperationInProgressException"],
            interval=cdk.Duration.minutes(1),
            backoff_rate=1.5,
            max_attempts=20,
            max_delay=cdk.Duration.minutes(10),
        )
        create.add_retry(
            errors=["CloudFormation.CloudFormationException", "States.Timeout"],
            interval=cdk.Duration.seconds(30),
            backoff_rate=2,
            max_attempts=5,
        )
        wait = sfn.Wait(self, "WaitForOperation", time=sfn.WaitTime.duration(cdk.Duration.minutes(1)))
        describe = tasks.CallAwsService(
            self,
            "DescribeStackSetOperation",
            service="cloudformation",
            action="describeStackSetOperation",
            parameters={
                "StackSetName": stack_set_name,
                "OperationId": sfn.JsonPath.string_at("$.operation.OperationId"),
                "CallAs": "SELF",
            },
            iam_resources=[stack_set_arn],
            iam_action="cloudformation:DescribeStackSetOperation",
            result_selector={"Status": sfn.JsonPath.string_at("$.StackSetOperation.Status")},
            result_path="$.operation.result",
        )
        describe.add_retry(
            errors=["CloudFormation.CloudFormationException"],
            interval=cdk.Duration.seconds(30),
            backoff_rate=2,
            max_attempts=5,
        )
        status = "$.operation.result.Status"
        outcome = (
            sfn.Choice(self, "OperationDone")
            .when(sfn.Condition.string_equals(status, "SUCCEEDED"), sfn.Succeed(self, "Deployed"))
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals(status, "FAILED"), sfn.Condition.string_equals(status, "STOPPED")
                ),
                sfn.Fail(
                    self,
                    "RolloutFailed",
                    error="StackSetOperationFailed",
                    cause=f"The StackSet {stack_set_name} operation did not succeed; see its stack instances' "
                    "status reason (aws cloudformation list-stack-instances)",
                ),
            )
            .otherwise(wait)
        )

        self.key = (
            key
            if key is not None
            else _log_groups.new_key(
                self, description=f"Encrypts the roll-out log of the StackSet {stack_set_name}", removal_policy=removal
            )
        )
        log_group_name = f"/aws/vendedlogs/states/{stack_set_name}-account-factory-rollout"
        _log_groups.allow_logs(self, self.key, [log_group_name], own_key=key is None)
        self.log_group = _log_groups.new_log_group(
            self,
            "ExecutionLog",
            log_group_name=log_group_name,
            key=self.key,
            retention=log_retention,
            removal_policy=removal,
        )
        # Exactly the calls the roll-out makes, in customer-managed policies (no inline policy); the
        # roles ignore what aws-cdk would add to them on its own.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Adds stack instances of the StackSet {stack_set_name} for accounts Control Tower vends",
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="CreateStackInstances", actions=["cloudformation:CreateStackInstances"], resources=deploy_arns
                ),
                iam.PolicyStatement(
                    sid="WatchOperation",
                    actions=["cloudformation:DescribeStackSetOperation"],
                    resources=[stack_set_arn],
                ),
                iam.PolicyStatement(sid="DeliverExecutionLogs", actions=list(LOG_DELIVERY_ACTIONS), resources=["*"]),
                iam.PolicyStatement(sid="Tracing", actions=list(TRACING_ACTIONS), resources=["*"]),
            ],
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            role=self.role.without_policy_updates(),
            comment=f"Adds the StackSet {stack_set_name}'s instances for an account Control Tower has finished",
            definition_body=sfn.DefinitionBody.from_chainable(create.next(wait).next(describe).next(outcome)),
            timeout=timeout if timeout is not None else cdk.Duration.hours(6),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )

        # Step Functions checks the log-delivery permissions when it creates the state machine: it
        # waits for the policy (the role it already references).
        machine = self.state_machine.node.default_child
        assert isinstance(machine, cdk.CfnResource)
        machine.add_override("DependsOn", [stack.get_logical_id(self.policy.node.default_child)])

        # One rule per lifecycle event: each maps its own status field to the same input.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            removal_policy=removal,
        )
        self.events_role = iam.Role(
            self,
            "EventsRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Starts the roll-out of the StackSet {stack_set_name} on Control Tower lifecycle events",
        )
        iam.ManagedPolicy(
            self,
            "EventsPolicy",
            roles=[self.events_role],
            statements=[
                iam.PolicyStatement(
                    sid="StartRollout",
                    actions=["states:StartExecution"],
                    resources=[self.state_machine.state_machine_arn],
                )
            ],
        )
        self.rules: dict[str, events.Rule] = {}
        for event_name, status_key in LIFECYCLE_EVENTS.items():
            details = f"$.detail.serviceEventDetails.{status_key}"
            rule = events.Rule(
                self,
                f"On{event_name}",
                description=f"Control Tower finished {event_name}: roll out the StackSet {stack_set_name}",
                event_pattern=events.EventPattern(
                    **_cdk_pattern(lifecycle_event_pattern(event_name, organizational_unit_ids))
                ),
            )
            rule.add_target(
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(
                        {
                            "accountId": events.EventField.from_path(f"{details}.account.accountId"),
                            "accountName": events.EventField.from_path(f"{details}.account.accountName"),
                            "organizationalUnitId": events.EventField.from_path(
                                f"{details}.organizationalUnit.organizationalUnitId"
                            ),
                            "lifecycleEvent": event_name,
                        }
                    ),
                    dead_letter_queue=self.dead_letter_queue,
                    role=self.events_role.without_policy_updates(),
                    retry_attempts=10,
                    max_event_age=cdk.Duration.hours(24),
                )
            )
            self.rules[event_name] = rule

        action = cloudwatch_actions.SnsAction(alarm_topic)
        self.failure_alarm = any_in_five_minutes(
            self,
            "FailureAlarm",
            description=f"A roll-out of the StackSet {stack_set_name} to an account Control Tower vended "
            "failed, timed out or was aborted: the account lacks the baseline; see the execution in Step Functions",
            metric=cloudwatch.MathExpression(
                expression="failed + timedOut + aborted",
                using_metrics={
                    "failed": self.state_machine.metric_failed(statistic="Sum"),
                    "timedOut": self.state_machine.metric_timed_out(statistic="Sum"),
                    "aborted": self.state_machine.metric_aborted(statistic="Sum"),
                },
                period=cdk.Duration.minutes(5),
            ),
        )
        self.dead_letter_alarm = any_in_five_minutes(
            self,
            "DeadLetterAlarm",
            description=f"A Control Tower lifecycle event could not start the roll-out of {stack_set_name}; "
            "the event waits in the dead-letter queue",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=cdk.Duration.minutes(5)
            ),
        )
        for alarm in (self.failure_alarm, self.dead_letter_alarm):
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self._acknowledge(stack_set_name)

    def _acknowledge(self, stack_set_name: str) -> None:
        _nag.acknowledge(
            self.policy,
            "Step Functions log delivery (logs:CreateLogDelivery and the rest) and X-Ray tracing accept only "
            "Resource '*' (Step Functions Developer Guide, 'IAM policies for logging' and 'X-Ray'); the StackSet "
            f"actions are on this account's StackSet {stack_set_name} (any of its generated ids), its deployment "
            "targets (its OUs and accounts) and its template's resource types, which service-managed StackSets "
            "authorize by these patterns",
            "AwsSolutions-IAM5[Resource::*]",
            *(
                f"AwsSolutions-IAM5[Resource::{_nag.rendered(self, arn)}]"
                for arn in (_stack_set_arn(self, stack_set_name), _target_arn(self, stack_set_name), _type_arn(self))
            ),
        )
        _nag.acknowledge(
            self.dead_letter_queue.node.default_child,
            "This queue is itself the dead-letter queue of the lifecycle rules' targets; an alarm reports any "
            "message in it",
            "AwsSolutions-SQS3",
        )


def _stack_set_arn(scope: Construct, name: str) -> str:
    return cdk.Stack.of(scope).format_arn(
        service="cloudformation",
        resource="stackset",
        resource_name=f"{name}:*",
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def _target_arn(scope: Construct, name: str) -> str:
    """The StackSet's deployment targets, ``stackset-target/<name>:<id>/<OU or account>``, in any region
    (Service Authorization Reference, CloudFormation; the CloudFormation User Guide's StackSets examples)."""
    return cdk.Stack.of(scope).format_arn(
        service="cloudformation", region="*", resource="stackset-target", resource_name=f"{name}:*"
    )


def _type_arn(scope: Construct) -> str:
    return cdk.Stack.of(scope).format_arn(service="cloudformation", region="*", account="", resource="type/resource/*")


def _cdk_pattern(pattern: dict[str, Any]) -> dict[str, Any]:
    """A pattern as ``events.EventPattern`` keyword arguments (``detail-type`` is ``detail_type``)."""
    return {key.replace("-", "_"): value for key, value in pattern.items()}
