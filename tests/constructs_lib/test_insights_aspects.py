"""ContainerInsights and LambdaInsights aspects on small sample workloads; the EKS observability add-on."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import region_info
from aws_cdk.assertions import Match, Template
from constructs import Construct

from constructs_lib.insights_aspects import (
    CloudWatchObservabilityAddon,
    ContainerInsights,
    LambdaInsights,
)
from tests.conftest import new_app

INSIGHTS_POLICY = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy"],
    ]
}


class SampleWorkload(Construct):
    """What a platform team might deploy: two functions (x86 and arm) and an ECS cluster."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
        self.x86 = lambda_.Function(
            self, "Api", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler", code=code
        )
        self.arm = lambda_.Function(
            self,
            "Worker",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=code,
            architecture=lambda_.Architecture.ARM_64,
        )
        self.cluster = ecs.CfnCluster(
            self,
            "Cluster",
            cluster_settings=[ecs.CfnCluster.ClusterSettingsProperty(name="containerInsights", value="disabled")],
        )


def functions(template: Template) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template.find_resources("AWS::Lambda::Function").items()}


@pytest.fixture(scope="module")
def concrete() -> Template:
    app = new_app()
    stack = cdk.Stack(app, "Workload", env=cdk.Environment(account="444444444444", region="eu-west-1"))
    SampleWorkload(stack, "Shop")
    cdk.Aspects.of(app).add(LambdaInsights())
    cdk.Aspects.of(app).add(ContainerInsights())
    return Template.from_stack(stack)


class TestLambdaInsights:
    def test_layer_matches_region_and_architecture(self, concrete):
        layers = {k: v["Layers"] for k, v in functions(concrete).items()}
        (x86,) = [v for k, v in layers.items() if k.startswith("ShopApi")]
        (arm,) = [v for k, v in layers.items() if k.startswith("ShopWorker")]
        assert x86 == ["arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension:60"]
        assert arm == ["arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension-Arm64:25"]

    def test_x86_layer_is_the_one_lambda_insights_version_names(self):
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        expected = stack.resolve(lambda_.LambdaInsightsVersion.VERSION_1_0_498_0.layer_version_arn)
        fn = SampleWorkload(stack, "Shop").x86
        cdk.Aspects.of(stack).add(LambdaInsights(version="1.0.498.0"))
        template = Template.from_stack(stack)
        assert functions(template)[stack.get_logical_id(fn.node.default_child)]["Layers"] == [expected]

    def test_every_role_gets_the_managed_policy(self, concrete):
        roles = concrete.find_resources("AWS::IAM::Role")
        assert len(roles) == 2
        for role in roles.values():
            assert INSIGHTS_POLICY in role["Properties"]["ManagedPolicyArns"]

    def test_unknown_region_looks_the_layer_up_in_a_mapping(self):
        app = new_app()
        stack = cdk.Stack(app, "Anywhere")
        SampleWorkload(stack, "Shop")
        cdk.Aspects.of(stack).add(LambdaInsights())
        template = Template.from_stack(stack)
        layers = sorted(json.dumps(v["Layers"]) for v in functions(template).values())
        assert layers == [
            json.dumps([{"Fn::FindInMap": ["LambdaInsightsLayers", {"Ref": "AWS::Region"}, "v1x0x498x0arm64"]}]),
            json.dumps([{"Fn::FindInMap": ["LambdaInsightsLayers", {"Ref": "AWS::Region"}, "v1x0x498x0x86x64"]}]),
        ]
        mapping = template.to_json()["Mappings"]["LambdaInsightsLayers"]
        prefix = "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension"
        assert mapping["us-east-1"]["v1x0x498x0x86x64"].startswith(prefix + ":")
        assert mapping["us-east-1"]["v1x0x498x0arm64"].startswith(prefix + "-Arm64:")

    def test_only_functions_in_scope_are_changed(self):
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        inside = SampleWorkload(stack, "Inside")
        SampleWorkload(stack, "Outside")
        cdk.Aspects.of(inside).add(LambdaInsights())
        cdk.Aspects.of(inside).add(ContainerInsights())
        template = Template.from_stack(stack)
        with_layers = sorted(k for k, v in functions(template).items() if v.get("Layers"))
        assert with_layers and all(k.startswith("Inside") for k in with_layers)
        settings = {
            k: v["Properties"]["ClusterSettings"] for k, v in template.find_resources("AWS::ECS::Cluster").items()
        }
        assert settings[next(k for k in settings if k.startswith("Inside"))] == [
            {"Name": "containerInsights", "Value": "enhanced"}
        ]
        assert settings[next(k for k in settings if k.startswith("Outside"))] == [
            {"Name": "containerInsights", "Value": "disabled"}
        ]

    def test_imported_role_gets_the_layer_and_a_warning(self):
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        role = iam.Role.from_role_arn(stack, "Existing", "arn:aws:iam::444444444444:role/app", mutable=False)
        lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline("x=1"),
            role=role,
        )
        cdk.Aspects.of(stack).add(LambdaInsights())
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::Lambda::Function", {"Layers": [Match.string_like_regexp("LambdaInsightsExtension")]}
        )
        annotations = cdk.assertions.Annotations.from_stack(stack)
        annotations.has_warning("/S/Fn", Match.string_like_regexp("attach CloudWatchLambdaInsightsExecutionRolePolicy"))

    def test_a_lambda_insights_version_member_follows_region_and_architecture(self):
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        workload = SampleWorkload(stack, "Shop")
        aspect = LambdaInsights(version=lambda_.LambdaInsightsVersion.VERSION_1_0_333_0)
        assert aspect.version == "1.0.333.0"
        cdk.Aspects.of(stack).add(aspect)
        found = functions(Template.from_stack(stack))
        x86 = found[stack.get_logical_id(workload.x86.node.default_child)]["Layers"]
        arm = found[stack.get_logical_id(workload.arm.node.default_child)]["Layers"]
        assert x86 == [stack.resolve(lambda_.LambdaInsightsVersion.VERSION_1_0_333_0.layer_version_arn)]
        assert arm == [region_info.RegionInfo.get("eu-west-1").cloudwatch_lambda_insights_arn("1.0.333.0", "arm64")]
        assert "Arm64" in arm[0]

    def test_a_function_built_with_insights_keeps_its_one_layer(self):
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline("x=1"),
            insights_version=lambda_.LambdaInsightsVersion.VERSION_1_0_333_0,
        )
        cdk.Aspects.of(stack).add(LambdaInsights())
        template = Template.from_stack(stack)
        (props,) = functions(template).values()
        assert len(props["Layers"]) == 1
        (role,) = template.find_resources("AWS::IAM::Role").values()
        assert role["Properties"]["ManagedPolicyArns"].count(INSIGHTS_POLICY) == 1

    def test_a_version_from_an_arn_is_used_for_every_function(self):
        arn = "arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension:60"
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        SampleWorkload(stack, "Shop")
        cdk.Aspects.of(stack).add(LambdaInsights(version=lambda_.LambdaInsightsVersion.from_insight_version_arn(arn)))
        assert [v["Layers"] for v in functions(Template.from_stack(stack)).values()] == [[arn], [arn]]

    @pytest.mark.parametrize("version", ["1.0", "9.9.9.9"])
    def test_unknown_version(self, version):
        with pytest.raises(
            ValueError, match=r"LambdaInsights: version '.*' is not a published Lambda Insights version"
        ):
            LambdaInsights(version=version)


class TestContainerInsights:
    def test_existing_setting_is_replaced_by_enhanced(self, concrete):
        concrete.has_resource_properties(
            "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]}
        )

    def test_l2_cluster_without_settings_gets_it_and_enabled_level(self):
        stack = cdk.Stack(new_app(), "S")
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
        ecs.Cluster(stack, "Cluster", vpc=vpc)
        cdk.Aspects.of(stack).add(ContainerInsights(level=ecs.ContainerInsights.ENABLED))
        Template.from_stack(stack).has_resource_properties(
            "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}
        )

    def test_disabled_is_refused(self):
        with pytest.raises(ValueError, match=r"level .* must be ContainerInsights.ENHANCED or ENABLED"):
            ContainerInsights(level=ecs.ContainerInsights.DISABLED)


class TestEksAddon:
    def test_addon_with_a_pod_identity_role_for_the_agent(self):
        stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        addon = CloudWatchObservabilityAddon(stack, "Observability", cluster_name="prod")
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::EKS::Addon",
            {
                "AddonName": "amazon-cloudwatch-observability",
                "ClusterName": "prod",
                "ResolveConflicts": "OVERWRITE",
                "PodIdentityAssociations": [
                    {
                        "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^ObservabilityAgentRole"), "Arn"]},
                        "ServiceAccount": "cloudwatch-agent",
                    }
                ],
            },
        )
        template.has_resource_properties(
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": ["sts:AssumeRole", "sts:TagSession"],
                            "Effect": "Allow",
                            "Principal": {"Service": "pods.eks.amazonaws.com"},
                        }
                    ]
                },
                "ManagedPolicyArns": Match.array_with(
                    [
                        {
                            "Fn::Join": [
                                "",
                                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/CloudWatchAgentServerPolicy"],
                            ]
                        }
                    ]
                ),
            },
        )
        assert addon.role is not None

    def test_irsa_role_and_version(self):
        stack = cdk.Stack(new_app(), "S")
        role = iam.Role.from_role_arn(stack, "Irsa", "arn:aws:iam::444444444444:role/cw-agent")
        CloudWatchObservabilityAddon(
            stack,
            "Observability",
            cluster_name="prod",
            role=role,
            use_pod_identity=False,
            addon_version="v4.1.0-eksbuild.1",
        )
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::EKS::Addon",
            {
                "AddonVersion": "v4.1.0-eksbuild.1",
                "ServiceAccountRoleArn": "arn:aws:iam::444444444444:role/cw-agent",
                "PodIdentityAssociations": Match.absent(),
            },
        )
        template.resource_count_is("AWS::IAM::Role", 0)

    def test_node_role_only(self):
        stack = cdk.Stack(new_app(), "S")
        CloudWatchObservabilityAddon(stack, "Observability", cluster_name="prod", use_pod_identity=False)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::IAM::Role", 0)
        template.has_resource_properties(
            "AWS::EKS::Addon", {"ServiceAccountRoleArn": Match.absent(), "PodIdentityAssociations": Match.absent()}
        )

    def test_errors_are_reported_together(self):
        with pytest.raises(ValueError, match=r"2 problems") as error:
            CloudWatchObservabilityAddon(
                cdk.Stack(new_app(), "S"), "O", cluster_name="bad name", addon_version="latest"
            )
        assert "cluster_name 'bad name'" in str(error.value) and "addon_version 'latest'" in str(error.value)
