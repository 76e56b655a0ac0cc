"""The ``telemetry.on_premises`` section: the CloudWatch agent on servers outside AWS.

One service role for the hybrid nodes, and per platform (linux, windows) a hybrid activation whose
code goes to a KMS-encrypted secret, an agent configuration ``AmazonCloudWatch-<prefix>-onprem-<platform>``
and the install and configure associations. Each activation tags its nodes
``<tag_key>=on-premises-<platform>``; the associations target that tag, so a server gets the agent
and the configuration of its platform as soon as it registers.

Single-account mode: in the single-account stack. Organization mode: in the account the config
names, home region only: through the StackSet template gated by a condition on the account id, or
the management account's own baseline stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib import (
    AgentMode,
    CloudWatchAgent,
    HybridActivation,
    Platform,
    hybrid_service_role,
    on_premises_agent_config,
    retention_from_days,
)
from stacks.config import BaselineConfig
from stacks.telemetry import gate


@dataclass
class OnPremises:
    """What ``add_on_premises`` created."""

    role: iam.Role
    key: kms.Key | None
    activations: dict[str, HybridActivation]
    agents: dict[str, CloudWatchAgent]


def activation_secret_name(config: BaselineConfig, platform: str) -> str:
    """The fixed name of a platform's activation secret: the install scripts take it."""
    return f"{config.naming.prefix}/on-premises/{platform}/activation"


def add_on_premises(
    stack: cdk.Stack, config: BaselineConfig, *, condition: cdk.CfnCondition | None = None
) -> OnPremises | None:
    """Service role, activations, agent configurations and associations for on-premises servers.

    :param condition: gate everything (the StackSet template: the registering account, home region).
    """
    settings = config.telemetry.on_premises
    if not settings.enabled:
        return None
    prefix = config.naming.prefix
    scope = Construct(stack, "OnPremises")
    role = hybrid_service_role(scope, "ServiceRole")
    key = (
        kms.Key(
            scope,
            "Key",
            description="Encrypts the hybrid activation codes and the activation functions' logs",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if settings.create_activation
        else None
    )
    retention = retention_from_days(settings.log_group_retention_days)
    created = OnPremises(role=role, key=key, activations={}, agents={})
    for platform in settings.platforms:
        tag_value = f"on-premises-{platform}"
        if settings.create_activation:
            created.activations[platform] = HybridActivation(
                scope,
                f"Activation-{platform}",
                role=role,
                key=key,
                registration_limit=settings.registration_limit,
                expiration=cdk.Duration.days(settings.expiration_days),
                default_instance_name=settings.default_instance_name,
                description=f"{prefix}: {platform} servers outside AWS with the CloudWatch agent",
                node_tags={settings.tag_key: tag_value},
                secret_name=activation_secret_name(config, platform),
                renewal=settings.renewal,
                log_retention=retention,
            )
        created.agents[platform] = CloudWatchAgent(
            scope,
            f"Agent-{platform}",
            config=on_premises_agent_config(Platform(platform), log_group_prefix=f"/{prefix}/on-premises/{platform}"),
            name=f"{prefix}-onprem-{platform}",
            mode=AgentMode.ON_PREMISES,
            create_role=False,
            target_tag_key=settings.tag_key,
            target_tag_values=[tag_value],
            schedule=config.telemetry.cloudwatch_agent.schedule,
            log_retention=retention,
        )
    if condition is not None:
        gate(scope, condition)
    else:
        cdk.CfnOutput(stack, "OnPremisesServiceRoleName", value=role.role_name)
        for platform, activation in created.activations.items():
            cdk.CfnOutput(
                stack,
                f"OnPremisesActivationSecret{platform.capitalize()}",
                value=activation.secret.secret_name,
                description=f"Secret with the {platform} activation (read by scripts/register-on-premises.*)",
            )
    return created
