"""HybridActivation: on-premises (and other clouds') servers as Systems Manager managed nodes.

A server joins Systems Manager with an activation id and code (``amazon-ssm-agent -register``)
and becomes a managed node ``mi-…`` that assumes the activation's service role. From then on State
Manager associations reach it like an EC2 instance, so the CloudWatch agent is installed and
configured the same way (``CloudWatchAgent(mode=AgentMode.ON_PREMISES)``).

CloudFormation has no resource type for an activation, so this construct creates it through one
custom resource backed by a small inline Lambda function (no asset, no bundling). The activation
code is a credential: the function writes it straight into a KMS-encrypted Secrets Manager secret
and answers CloudFormation with the activation id only, so the code never appears in a template,
an output, a log or a custom-resource response that CloudFormation stores.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib import _nag, policies
from constructs_lib._activation_handler import SOURCE as HANDLER_SOURCE
from constructs_lib._errors import Problems
from constructs_lib.cloudwatch_agent import AgentConfig, Platform

#: CreateActivation limits (Systems Manager API reference).
MAX_REGISTRATION_LIMIT = 1000
MAX_EXPIRATION_DAYS = 30
#: Managed policies AWS documents for hybrid nodes (SSM core) and for the CloudWatch agent.
NODE_MANAGED_POLICIES = ("AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy")
_INSTANCE_NAME = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")
_TAG_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")


def hybrid_service_role(scope: Construct, construct_id: str, *, description: str | None = None) -> iam.Role:
    """The IAM service role hybrid managed nodes assume, as AWS documents it.

    Trusted by ``ssm.amazonaws.com`` for this account and region only (``aws:SourceAccount`` and
    ``aws:SourceArn``), with ``AmazonSSMManagedInstanceCore`` (Systems Manager) and
    ``CloudWatchAgentServerPolicy`` (the agent: metrics, logs, ``AmazonCloudWatch-*`` parameters).
    """
    stack = cdk.Stack.of(scope)
    managed = [iam.ManagedPolicy.from_aws_managed_policy_name(name) for name in NODE_MANAGED_POLICIES]
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("ssm.amazonaws.com").with_conditions(
            {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnEquals": {"aws:SourceArn": f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:*"},
            }
        ),
        description=description or "Hybrid managed nodes: SSM core and CloudWatch agent metrics and logs",
        managed_policies=managed,
    )
    _nag.acknowledge(
        role,
        "AWS documents these managed policies for hybrid managed nodes (AmazonSSMManagedInstanceCore) and for the "
        "CloudWatch agent (CloudWatchAgentServerPolicy); AWS maintains them as SSM Agent and the agent change.",
        *(f"AwsSolutions-IAM4[Policy::{_nag.rendered(role, p.managed_policy_arn)}]" for p in managed),
    )
    return role


class HybridActivation(Construct):
    """A Systems Manager hybrid activation whose code is kept in a KMS-encrypted secret.

    Creates the service role (unless given), a KMS key (unless given), the secret, the custom
    resource's function with its own encrypted log group and least-privilege role, and the
    activation. Servers register with ``scripts/register-on-premises.sh`` (Linux) or
    ``scripts/register-on-premises.ps1`` (Windows), which read the secret.

    Example::

        from constructs_lib import HybridActivation

        activation = HybridActivation(
            stack,
            "OnPrem",
            registration_limit=20,
            expiration=cdk.Duration.days(30),
            default_instance_name="datacenter-1",
            node_tags={"CloudWatchAgent": "on-premises-linux"},
        )
        activation.grant_read_activation(operators_role)

    An activation expires (at most 30 days); registered nodes stay registered. To register more
    servers later, change ``renewal`` (any new value): the next deploy creates a new activation,
    stores its code in the same secret and deletes the old activation.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.IRole | None = None,
        registration_limit: int = 10,
        expiration: cdk.Duration | None = None,
        default_instance_name: str | None = None,
        description: str | None = None,
        node_tags: Mapping[str, str] | None = None,
        secret_name: str | None = None,
        key: kms.IKey | None = None,
        renewal: str = "1",
        log_retention: logs.RetentionDays | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param role: the service role the registered nodes assume. Default: ``hybrid_service_role``.
        :param registration_limit: how many servers may register with this activation (1-1000). Default: 10.
        :param expiration: how long the activation accepts registrations (1-30 days, whole days).
            Default: 30 days.
        :param default_instance_name: the managed nodes' name in Systems Manager. Default: none.
        :param description: of the activation. Default: the construct path.
        :param node_tags: tags Systems Manager copies onto every node registered with this
            activation; State Manager associations select the nodes by them. Default: none.
        :param secret_name: name of the secret holding ``ActivationId``, ``ActivationCode`` and
            ``Region``. Default: generated by CloudFormation.
        :param key: encrypts the secret and the function's log group. Default: a new key with rotation.
        :param renewal: change it to create a new activation on the next deploy. Default: ``"1"``.
        :param log_retention: of the function's log group. Default: one year.
        :param removal_policy: of the key, secret and log group. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        expiration = expiration if expiration is not None else cdk.Duration.days(MAX_EXPIRATION_DAYS)
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        node_tags = dict(node_tags) if node_tags is not None else {}
        description = description if description is not None else f"CloudWatch agent hybrid nodes: {self.node.path}"

        problems = Problems(f"HybridActivation({self.node.path})")
        problems.check(
            isinstance(registration_limit, int)
            and not isinstance(registration_limit, bool)
            and 1 <= registration_limit <= MAX_REGISTRATION_LIMIT,
            f"registration_limit must be a whole number from 1 to {MAX_REGISTRATION_LIMIT} (got {registration_limit!r})",
        )
        seconds = expiration.to_seconds(integral=False)
        days = None if cdk.Token.is_unresolved(seconds) else seconds / 86400
        problems.check(
            days is not None and days == int(days) and 1 <= days <= MAX_EXPIRATION_DAYS,
            f"expiration must be whole days from 1 to {MAX_EXPIRATION_DAYS} (got {expiration.to_human_string()})",
        )
        if default_instance_name is not None:
            problems.check(
                bool(_INSTANCE_NAME.match(default_instance_name)),
                f"default_instance_name {default_instance_name!r} must be up to 256 letters, digits, spaces "
                "and _.:/=+-@",
            )
        problems.check(len(description) <= 256, f"description must be at most 256 characters (got {len(description)})")
        for tag_key, tag_value in node_tags.items():
            problems.check(
                bool(_TAG_KEY.match(tag_key)) and not tag_key.startswith("aws:"),
                f"node_tags: {tag_key!r} is not a tag key (1-128 characters, not starting with 'aws:')",
            )
            problems.check(
                isinstance(tag_value, str) and len(tag_value) <= 256,
                f"node_tags[{tag_key!r}]: {tag_value!r} is not a tag value (0-256 characters)",
            )
        problems.check(
            isinstance(renewal, str) and 0 < len(renewal) <= 64,
            f"renewal must be 1-64 characters (got {renewal!r})",
        )
        problems.raise_if_any()

        self.role: iam.IRole = role if role is not None else hybrid_service_role(self, "ServiceRole")
        if key is None:
            key = kms.Key(
                self,
                "Key",
                description=f"Encrypts the hybrid activation code of {self.node.path} and its function's logs",
                enable_key_rotation=True,
                removal_policy=removal_policy,
            )
            shared_key = False
        else:
            shared_key = True
        self.key = key

        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=secret_name,
            description="Systems Manager hybrid activation (ActivationId, ActivationCode, Region) for "
            "registering on-premises servers; written by the activation custom resource",
            encryption_key=key,
            removal_policy=removal_policy,
        )
        _nag.acknowledge(
            self.secret,
            "The secret holds a Systems Manager activation code that expires by itself (at most 30 days) and is "
            "replaced by a new activation on redeploy (renewal); a Secrets Manager rotation function cannot rotate "
            "it without also replacing the activation, which the custom resource already does.",
            "AwsSolutions-SMG4",
            *_nag.in_compliance_packs("SecretsManagerRotationEnabled"),
        )

        # A fixed name (not /aws/lambda/<function>) so the key policy can name it without a cycle.
        log_group_name = f"/hybrid-activation/{cdk.Names.unique_id(self)}"
        self.log_group = logs.LogGroup(
            self,
            "FunctionLogGroup",
            log_group_name=log_group_name,
            encryption_key=key,
            retention=log_retention if log_retention is not None else logs.RetentionDays.ONE_YEAR,
            removal_policy=removal_policy,
        )
        key.add_to_resource_policy(
            policies.logs_key_statement(
                log_group_arns=[policies.log_group_arn(stack, log_group_name)],
                region=stack.region,
                # Sids are unique within a policy: on a key others share, one of this construct's own.
                sid=f"AllowCloudWatchLogs{cdk.Names.unique_id(self)}"[:100]
                if shared_key
                else "AllowCloudWatchLogsToUseKey",
            )
        )

        statements = [
            iam.PolicyStatement(
                sid="Logs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group ARN as IAM evaluates it (name:*) covers its streams too.
                resources=[policies.log_group_arn(stack, f"{log_group_name}:*")],
            ),
            iam.PolicyStatement(
                sid="Activations",
                # CreateActivation and DeleteActivation have no resource type (Service Authorization Reference).
                actions=["ssm:CreateActivation", "ssm:DeleteActivation"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PassServiceRole",
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ActivationSecret",
                actions=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                resources=[self.secret.secret_arn],
            ),
            iam.PolicyStatement(
                sid="ActivationSecretKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}},
            ),
        ]
        # A customer-managed policy rather than an inline one (NIST/HIPAA/PCI IAMNoInlinePolicy).
        self.function_policy = iam.ManagedPolicy(
            self,
            "FunctionPolicy",
            description="Create and delete one SSM hybrid activation; write its code to one secret",
            statements=statements,
        )
        function_role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates and deletes one SSM hybrid activation and stores its code in one secret",
            managed_policies=[self.function_policy],
        )
        self.function_role = function_role
        _nag.acknowledge(
            self.function_policy,
            "ssm:CreateActivation and ssm:DeleteActivation support no resource-level permissions (Service "
            "Authorization Reference: no resource type), so they need Resource '*'; the log-group wildcard is "
            "confined to the function's own log group (the ARN form name:* that covers its streams).",
            "AwsSolutions-IAM5[Resource::*]",
            "AwsSolutions-IAM5[Resource::"
            + _nag.rendered(self, policies.log_group_arn(stack, f"{log_group_name}:*"))
            + "]",
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description="Custom resource: SSM hybrid activation whose code goes to Secrets Manager only",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER_SOURCE),
            timeout=cdk.Duration.minutes(2),
            role=function_role,
            # Its own log group, not /aws/lambda/<name>: the function cannot race a log group of that name.
            log_group=self.log_group,
        )
        _nag.acknowledge_deploy_time_function(self.function, "the Systems Manager and Secrets Manager APIs")

        # CloudFormation has no AWS::SSM::Activation: this custom resource is the only way to create one
        # in a stack. Its properties hold no secret; the response carries the activation id only.
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::SsmHybridActivation",
            service_timeout=cdk.Duration.minutes(3),
            properties={
                "IamRole": self.role.role_name,
                "RegistrationLimit": registration_limit,
                "ExpirationDays": int(days or MAX_EXPIRATION_DAYS),
                "DefaultInstanceName": default_instance_name or "",
                "Description": description,
                "Tags": node_tags,
                "SecretId": self.secret.secret_arn,
                "Region": stack.region,
                "Renewal": renewal,
            },
        )
        # The role's policies must exist before the function runs, and the log group before it logs.
        self.resource.node.add_dependency(self.function_policy, self.log_group)
        self.activation_id = self.resource.get_att_string("ActivationId")
        self.node_tags = node_tags
        self.registration_limit = registration_limit

    def grant_read_activation(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (the operators who register servers) read the activation id and code."""
        return self.secret.grant_read(grantee)


def on_premises_agent_config(platform: Platform, *, log_group_prefix: str, **overrides: Any) -> AgentConfig:
    """``AgentConfig.linux`` / ``AgentConfig.windows`` for hybrid nodes.

    No EC2 dimensions (the agent tags every metric with ``host`` instead) and log streams named
    ``{hostname}``, since ``{instance_id}`` exists on EC2 only. Use with
    ``CloudWatchAgent(mode=AgentMode.ON_PREMISES, create_role=False)``.
    """
    preset = AgentConfig.linux if platform is Platform.LINUX else AgentConfig.windows
    base = preset(log_group_prefix=log_group_prefix, append_dimensions=())
    options: dict[str, Any] = {
        "log_files": tuple(dataclasses.replace(f, log_stream_name="{hostname}") for f in base.log_files),
        "windows_event_logs": tuple(
            dataclasses.replace(e, log_stream_name="{hostname}") for e in base.windows_event_logs
        ),
    }
    options.update(overrides)
    return dataclasses.replace(base, **options)
