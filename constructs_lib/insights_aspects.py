"""Container Insights and Lambda Insights for the workloads platform teams build, as CDK Aspects.

Apply an aspect to any scope (an app, a stage, a stack, a construct) and every ECS cluster or
Lambda function inside it gets the insights, including those added later in the app::

    import aws_cdk as cdk
    from constructs_lib import ContainerInsights, LambdaInsights

    cdk.Aspects.of(app).add(ContainerInsights())
    cdk.Aspects.of(app).add(LambdaInsights())

For EKS, ``CloudWatchObservabilityAddon`` installs the ``amazon-cloudwatch-observability`` add-on
(Container Insights with enhanced observability and the CloudWatch agent) on a cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_eks as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import region_info
from constructs import Construct, IConstruct

from constructs_lib import _nag
from constructs_lib._errors import Problems

#: Lambda Insights extension version (the versions ``lambda.LambdaInsightsVersion`` names, as text).
DEFAULT_LAMBDA_INSIGHTS_VERSION = "1.0.498.0"
#: The cdk-nag finding the managed policy raises on a function's role (acknowledge it on your function).
LAMBDA_INSIGHTS_NAG_FINDING = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy]"
)
LAMBDA_INSIGHTS_POLICY = "CloudWatchLambdaInsightsExecutionRolePolicy"
CLOUDWATCH_OBSERVABILITY_ADDON = "amazon-cloudwatch-observability"

_CONTAINER_INSIGHTS_VALUES = {
    ecs.ContainerInsights.ENHANCED: "enhanced",
    ecs.ContainerInsights.ENABLED: "enabled",
    ecs.ContainerInsights.DISABLED: "disabled",
}
_ARCHITECTURES = {"x86_64": "x86x64", "arm64": "arm64"}


def _setting_name(setting: Any) -> str | None:
    if isinstance(setting, dict):
        return setting.get("name") or setting.get("Name")
    return getattr(setting, "name", None)


@jsii.implements(cdk.IAspect)
class ContainerInsights:
    """Turns on Container Insights (enhanced observability by default) on every ECS cluster in scope.

    Works on ``ecs.Cluster`` and ``ecs.CfnCluster`` alike; other cluster settings are kept.
    """

    def __init__(self, *, level: ecs.ContainerInsights = ecs.ContainerInsights.ENHANCED) -> None:
        """
        :param level: ENHANCED (per-container metrics, billed per observation) or ENABLED.
            Default: ENHANCED.
        """
        problems = Problems("ContainerInsights")
        if problems.check_enum("level", level, ecs.ContainerInsights):
            problems.check(
                level in (ecs.ContainerInsights.ENHANCED, ecs.ContainerInsights.ENABLED),
                f"level {level!r} must be ContainerInsights.ENHANCED or ENABLED (to disable, do not apply the aspect)",
            )
        problems.raise_if_any()
        self.value = _CONTAINER_INSIGHTS_VALUES[level]

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, ecs.CfnCluster):
            return
        current = node.cluster_settings
        if current is not None and not isinstance(current, list):
            # A token: replace the whole property, since we cannot merge what we cannot read.
            current = []
        kept = [s for s in (current or []) if _setting_name(s) != "containerInsights"]
        node.cluster_settings = [
            *kept,
            ecs.CfnCluster.ClusterSettingsProperty(name="containerInsights", value=self.value),
        ]


@jsii.implements(cdk.IAspect)
class LambdaInsights:
    """Adds the Lambda Insights extension layer and its managed policy to every ``lambda.Function`` in scope.

    The layer matches the function's region and architecture (x86_64 or arm64), from the same
    fact table ``lambda.LambdaInsightsVersion`` uses; in a stack without a concrete region the
    ARN is looked up from a mapping at deploy time. The execution role gets the AWS managed
    ``CloudWatchLambdaInsightsExecutionRolePolicy`` (the extension writes to ``/aws/lambda-insights``).
    Functions with an imported role get the layer and a warning: grant the policy yourself.
    """

    def __init__(self, *, version: str | lambda_.LambdaInsightsVersion = DEFAULT_LAMBDA_INSIGHTS_VERSION) -> None:
        """
        :param version: ``lambda.LambdaInsightsVersion.VERSION_1_0_498_0`` or its text ``1.0.498.0``
            (the layer then follows each function's region and architecture), or
            ``LambdaInsightsVersion.from_insight_version_arn(arn)`` (that one layer for every
            function). Default: ``DEFAULT_LAMBDA_INSIGHTS_VERSION``.
        """
        self.fixed_arn: str | None = None
        self.version: str | None = None
        problems = Problems("LambdaInsights")
        if problems.check_type("version", version, (str, lambda_.LambdaInsightsVersion)):
            if isinstance(version, lambda_.LambdaInsightsVersion):
                self.version, self.fixed_arn = _from_insights_version(version)
            else:
                problems.check(
                    any(
                        region.cloudwatch_lambda_insights_arn(version, "x86_64")
                        for region in region_info.RegionInfo.regions
                    ),
                    f"version {version!r} is not a published Lambda Insights version; use a "
                    f"lambda.LambdaInsightsVersion or its text, like {DEFAULT_LAMBDA_INSIGHTS_VERSION!r}",
                )
                self.version = version
        problems.raise_if_any()
        self._done: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, lambda_.Function) or node.node.path in self._done:
            return
        self._done.add(node.node.path)
        stack = cdk.Stack.of(node)
        if _has_insights_layer(stack, node):
            return  # built with insights_version=...: aws-cdk added the layer and the policy already
        architecture = node.architecture.name
        if architecture not in _ARCHITECTURES:
            cdk.Annotations.of(node).add_error(
                f"LambdaInsights: architecture {architecture!r} has no Lambda Insights layer (x86_64 or arm64)"
            )
            return
        arn = self.fixed_arn if self.fixed_arn is not None else self._layer_arn(stack, architecture)
        if arn is None:
            cdk.Annotations.of(node).add_error(
                f"LambdaInsights: no Lambda Insights {self.version} layer for {architecture} in region "
                f"{stack.region!r}; pick another version or exclude this function"
            )
            return
        node.add_layers(lambda_.LayerVersion.from_layer_version_arn(node, "LambdaInsightsLayer", arn))
        role = node.role
        if isinstance(role, iam.Role):
            # The role is the caller's: cdk-nag's AwsSolutions-IAM4 finding for this managed policy is
            # theirs to acknowledge (LAMBDA_INSIGHTS_NAG_FINDING names it), not ours to hide.
            role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(LAMBDA_INSIGHTS_POLICY))
        else:
            cdk.Annotations.of(node).add_warning_v2(
                "constructs-lib:lambdaInsightsImportedRole",
                f"LambdaInsights: the role of this function is imported; attach {LAMBDA_INSIGHTS_POLICY} to it",
            )

    def _layer_arn(self, stack: cdk.Stack, architecture: str) -> str | None:
        assert self.version is not None
        if not cdk.Token.is_unresolved(stack.region):
            return region_info.RegionInfo.get(stack.region).cloudwatch_lambda_insights_arn(self.version, architecture)
        # Region known only at deploy time: one mapping per stack, region -> layer ARN.
        mapping_id = "LambdaInsightsLayers"
        mapping = stack.node.try_find_child(mapping_id)
        key = f"v{self.version.replace('.', 'x')}{_ARCHITECTURES[architecture]}"
        if mapping is None:
            mapping = cdk.CfnMapping(stack, mapping_id)
        assert isinstance(mapping, cdk.CfnMapping)
        for region in region_info.RegionInfo.regions:
            found = region.cloudwatch_lambda_insights_arn(self.version, architecture)
            if found:
                mapping.set_value(region.name, key, found)
        return mapping.find_in_map(cdk.Aws.REGION, key)


def _has_insights_layer(stack: cdk.Stack, function: lambda_.Function) -> bool:
    resource = function.node.default_child
    layers = stack.resolve(resource.layers) if isinstance(resource, lambda_.CfnFunction) else None
    return "lambdainsights" in json.dumps(layers).lower()


def _from_insights_version(version: lambda_.LambdaInsightsVersion) -> tuple[str | None, str | None]:
    """(version text, None) for a ``VERSION_x`` member; (None, layer ARN) for ``from_insight_version_arn``.

    The members hide their version text; rendered in a stack whose region is unknown, their ARN
    is a mapping lookup keyed by it (``1x0x498x0xx86x64``), which is where it is read from.
    """
    scratch = cdk.Stack(cdk.App(), "LambdaInsightsVersionProbe")
    resolved = scratch.resolve(version.layer_version_arn)
    if isinstance(resolved, str):
        return None, version.layer_version_arn
    try:
        key = resolved["Fn::FindInMap"][2]
    except (KeyError, IndexError, TypeError):
        key = ""
    match = re.match(r"^(\d+)x(\d+)x(\d+)x(\d+)xx86x64$", str(key))
    if match is None:
        raise ValueError(
            f"LambdaInsights: cannot tell the version of {resolved!r}; pass its text, like "
            f"{DEFAULT_LAMBDA_INSIGHTS_VERSION!r}"
        )
    return ".".join(match.groups()), None


class CloudWatchObservabilityAddon(Construct):
    """The ``amazon-cloudwatch-observability`` EKS add-on: Container Insights (enhanced) and the agent.

    By default the agent's service account gets a role through EKS Pod Identity (the cluster
    needs the ``eks-pod-identity-agent`` add-on) with the AWS managed policies the add-on
    documents: ``CloudWatchAgentServerPolicy`` and ``AWSXrayWriteOnlyAccess``.

    Example::

        CloudWatchObservabilityAddon(stack, "Observability", cluster_name=cluster.cluster_name)
    """

    SERVICE_ACCOUNT = "cloudwatch-agent"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        addon_version: str | None = None,
        role: iam.IRole | None = None,
        use_pod_identity: bool = True,
        configuration_values: str | None = None,
    ) -> None:
        """
        :param cluster_name: the EKS cluster.
        :param addon_version: like ``v4.1.0-eksbuild.1``. Default: the version EKS picks.
        :param role: role for the agent's service account. Default: a new Pod Identity role.
        :param use_pod_identity: associate the role through EKS Pod Identity; False leaves
            permissions to the node role (or IRSA through ``role`` as service-account role).
            Default: True.
        :param configuration_values: add-on configuration JSON. Default: the add-on defaults.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"CloudWatchObservabilityAddon({self.node.path})")
        problems.check_resource("role", role, "iam.IRole")
        problems.check_type("use_pod_identity", use_pod_identity, bool)
        if problems.check_type("cluster_name", cluster_name, str) and not cdk.Token.is_unresolved(cluster_name):
            problems.check(
                bool(re.match(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$", cluster_name)),
                f"cluster_name {cluster_name!r} is not an EKS cluster name (1-100 letters, digits, '-' or '_')",
            )
        problems.check_type("configuration_values", configuration_values, str, optional=True)
        if problems.check_type("addon_version", addon_version, str, optional=True) and addon_version is not None:
            problems.check(
                bool(re.match(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$", addon_version)),
                f"addon_version {addon_version!r} is not an add-on version like 'v4.1.0-eksbuild.1'",
            )
        problems.raise_if_any()

        self.role: iam.IRole | None = role
        if role is None and use_pod_identity:
            new_role = iam.Role(
                self,
                "AgentRole",
                # Pod Identity tags its sessions: the trust policy allows sts:TagSession too.
                assumed_by=iam.ServicePrincipal("pods.eks.amazonaws.com").with_session_tags(),
                description=f"CloudWatch agent of the {CLOUDWATCH_OBSERVABILITY_ADDON} add-on",
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("CloudWatchAgentServerPolicy"),
                    iam.ManagedPolicy.from_aws_managed_policy_name("AWSXrayWriteOnlyAccess"),
                ],
            )
            _nag.acknowledge(
                new_role,
                "The amazon-cloudwatch-observability add-on documents these AWS managed policies for its agent; "
                "AWS keeps them in step with the agent's metrics, logs and traces.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSXrayWriteOnlyAccess]",
            )
            self.role = new_role

        associations: Sequence[eks.CfnAddon.PodIdentityAssociationProperty] | None = None
        service_account_role_arn = None
        if self.role is not None:
            if use_pod_identity:
                associations = [
                    eks.CfnAddon.PodIdentityAssociationProperty(
                        role_arn=self.role.role_arn, service_account=self.SERVICE_ACCOUNT
                    )
                ]
            else:
                service_account_role_arn = self.role.role_arn
        self.addon = eks.CfnAddon(
            self,
            "Resource",
            addon_name=CLOUDWATCH_OBSERVABILITY_ADDON,
            cluster_name=cluster_name,
            addon_version=addon_version,
            resolve_conflicts="OVERWRITE",
            pod_identity_associations=associations,
            service_account_role_arn=service_account_role_arn,
            configuration_values=configuration_values,
        )
