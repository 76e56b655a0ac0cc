"""ConfigRuleTags: tag AWS Config rules, which CloudFormation cannot, so SCPs can protect them by tag.

A Config rule's ARN carries a generated id (``config-rule/config-rule-ab12cd``), so an SCP cannot
name the baseline's rules by ARN, and ``AWS::Config::ConfigRule`` has no ``Tags`` property. AWS
Config does support tags on rules and the ``aws:ResourceTag`` condition key on ``PutConfigRule``,
``DeleteConfigRule``, ``DeleteEvaluationResults`` and ``UntagResource``: tagged once, the baseline's
rules can be protected by ``scp.protect_audit_logging_policy(resources=MonitoringResources(
config_rule_tag=(key, value)))`` while every other rule of the account stays manageable by its team.

CloudFormation has nothing to tag a Config rule with, hence one custom resource, backed by a small
function whose code is inline in the template (no asset: it works inside StackSet templates). It
tags the rules that lack the tag (ListTagsForResource first, so a re-run changes nothing) and does
nothing on delete: a deleted rule takes its tags with it.

Example::

    from constructs_lib import ConfigRules, ConfigRuleTags

    rules = ConfigRules(stack, "Rules", recorder=recorder)
    ConfigRuleTags(stack, "RuleTags", rules=rules.rules.values(), tag=("monitoring-baseline", "acme"))
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib import _nag
from constructs_lib._errors import Problems

_TAG_KEY = re.compile(r"^(?!aws:)[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")

#: The function: tag each rule that lacks the tag; report to CloudFormation through cfnresponse
#: (available to inline Python code).
HANDLER = """\
import boto3
import cfnresponse

config = boto3.client("config")


def handler(event, context):
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        if event["RequestType"] != "Delete":
            properties = event["ResourceProperties"]
            tag = {"Key": properties["TagKey"], "Value": properties["TagValue"]}
            for arn in properties.get("RuleArns", []):
                tags = config.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
                if tag not in tags:
                    config.tag_resource(ResourceArn=arn, Tags=[tag])
                    print("tagged", arn)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, physical_id)
    except Exception as error:  # report every failure to CloudFormation instead of timing out
        print("failed:", error)
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, physical_id, reason=str(error)[:200])
"""


class ConfigRuleTags(Construct):
    """Tags AWS Config rules created in the same stack with one ``(key, value)`` tag."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: Iterable[config.IRule],
        tag: tuple[str, str],
        log_retention: logs.RetentionDays | None = None,
    ) -> None:
        """
        :param rules: the rules to tag (``config.ManagedRule`` and the like, in this stack). A rule
            whose resource has a CloudFormation condition is tagged only where it exists.
        :param tag: ``(key, value)``; the key may not start with ``aws:``.
        :param log_retention: of the function's log group. Default: one year.
        """
        super().__init__(scope, construct_id)
        rules = list(rules)
        problems = Problems(f"ConfigRuleTags({self.node.path})")
        if not (isinstance(tag, tuple) and len(tag) == 2 and all(isinstance(p, str) for p in tag)):
            problems.add(f"tag: expected (key, value), got {tag!r}")
        else:
            problems.check(
                bool(_TAG_KEY.match(tag[0])),
                f"tag: key {tag[0]!r} is not a tag key (1-128 characters, not starting with 'aws:')",
            )
            problems.check(bool(_TAG_VALUE.match(tag[1])), f"tag: value {tag[1]!r} is not a tag value (0-256)")
        problems.check(bool(rules), "rules: nothing to tag; pass at least one rule")
        problems.raise_if_any()

        stack = cdk.Stack.of(self)
        rule_arns = stack.format_arn(service="config", resource="config-rule", resource_name="*")
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=log_retention if log_retention is not None else logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Tags the baseline's AWS Config rules (CloudFormation cannot)",
            inline_policies={
                "TagConfigRules": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["config:ListTagsForResource", "config:TagResource"], resources=[rule_arns]
                        ),
                        iam.PolicyStatement(
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[f"{self.log_group.log_group_arn}"],
                        ),
                    ]
                )
            },
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER),
            timeout=cdk.Duration.minutes(2),
            role=self.role,
            log_group=self.log_group,  # a group the stack owns: no race with Lambda creating its own
            description="Tags the baseline's AWS Config rules so SCPs can protect them by tag",
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::ConfigRuleTags",
            properties={"TagKey": tag[0], "TagValue": tag[1], "RuleArns": [_arn_where_it_exists(r) for r in rules]},
        )
        self.resource.node.add_dependency(self.role)
        _nag.acknowledge_deploy_time_function(self.function, "the AWS Config tagging API")
        self._acknowledge(rule_arns)

    def _acknowledge(self, rule_arns: str) -> None:
        _nag.acknowledge(
            self.role,
            "Config rule ARNs carry generated ids, and the rules are tagged right after CloudFormation creates them; "
            "the wildcard stays inside this account's and region's config-rule ARNs and the actions only read and add tags",
            f"AwsSolutions-IAM5[Resource::{_nag.rendered(self, rule_arns)}]",
        )
        _nag.acknowledge(
            self.role,
            "One inline policy scoped to this function's two needs (tag the rules, write its own log group), next to it",
            *_nag.in_compliance_packs("IAMNoInlinePolicy"),
        )
        _nag.acknowledge(
            self.log_group,
            "Holds only which rule ARNs were tagged (no secrets or audit data); CloudWatch Logs encrypts it at rest",
            *_nag.in_compliance_packs("CloudWatchLogGroupEncrypted"),
        )


def _arn_where_it_exists(rule: config.IRule) -> str:
    """The rule's ARN; ``AWS::NoValue`` where the rule's CloudFormation condition is false."""
    resource = rule.node.default_child
    arn = rule.config_rule_arn
    condition = resource.cfn_options.condition if isinstance(resource, cdk.CfnResource) else None
    if condition is None:
        return arn
    return cdk.Token.as_string(cdk.Fn.condition_if(condition.logical_id, arn, cdk.Aws.NO_VALUE))
