"""Organization: OU tree, accounts, SCPs and their targets, custom resources, errors, nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib import scp
from constructs_lib.organization import (
    AccountSpec,
    DelegatedService,
    Organization,
    OrganizationalUnitSpec,
    PolicyTarget,
    ServiceControlPolicy,
)
from stacks.compliance import add_compliance_checks
from tests.conftest import CDK_CONTEXT, cfn_lint, new_stack

EXEMPT = ["BreakGlass"]
GUARDRAILS = scp.guardrails_policy(exempt_role_names=EXEMPT)
TREE = [
    OrganizationalUnitSpec(name="Security"),
    OrganizationalUnitSpec(name="Workloads", children=[OrganizationalUnitSpec(name="Prod")]),
]
ACCOUNTS = [
    AccountSpec(name="audit", account_id="333333333333"),
    AccountSpec(name="shop-new", email="shop@acme.example", parent_ou="Prod"),
]
ORG = "Organization29A5FC3F"
ROOT_ID = {"Fn::GetAtt": [ORG, "RootId"]}


def build(stack: cdk.Stack, **overrides: Any) -> Organization:
    props: dict[str, Any] = {
        "organizational_units": TREE,
        "accounts": ACCOUNTS,
        "service_control_policies": [
            ServiceControlPolicy(
                name="guardrails",
                description="Organization guardrails",
                document=GUARDRAILS,
                targets=[PolicyTarget.root(), PolicyTarget.organizational_unit("Prod"), PolicyTarget.account("audit")],
            )
        ],
        "exempt_role_names": EXEMPT,
        "trusted_access_services": ["cloudtrail.amazonaws.com"],
        "delegated_administrators": {DelegatedService.CONFIG: "audit", DelegatedService.CLOUDTRAIL: "audit"},
    }
    props.update(overrides)
    return Organization(stack, "Organization", **props)


@pytest.fixture(scope="module")
def full() -> tuple[Organization, Template]:
    stack = new_stack()
    org = build(stack)
    return org, Template.from_stack(stack)


@pytest.fixture(scope="module")
def minimal() -> Template:
    stack = new_stack()
    Organization(stack, "Organization")
    return Template.from_stack(stack)


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(resource_type)


def custom(template: Template, logical_prefix: str) -> dict[str, Any]:
    (found,) = [r for k, r in resources(template, "Custom::AWS").items() if k.startswith(logical_prefix)]
    return found


def text(value: Any) -> str:
    return json.dumps(value)


class TestOrganization:
    def test_all_features_retained_with_pinned_id(self, minimal):
        found = resources(minimal, "AWS::Organizations::Organization")
        assert list(found) == [ORG]
        assert found[ORG]["Properties"] == {"FeatureSet": "ALL"}
        assert found[ORG]["DeletionPolicy"] == "Retain"
        assert found[ORG]["UpdateReplacePolicy"] == "Retain"

    def test_minimal_enables_scps_and_nothing_else(self, minimal):
        assert len(resources(minimal, "Custom::AWS")) == 1
        minimal.resource_count_is("AWS::Organizations::OrganizationalUnit", 0)
        minimal.resource_count_is("AWS::Organizations::Policy", 0)

    def test_attributes(self, full):
        org, _ = full
        assert set(org.organizational_units) == {"Security", "Workloads", "Prod"}
        assert org.account_ids["audit"] == "333333333333"
        assert set(org.created_accounts) == {"shop-new"}
        assert set(org.policies) == {"guardrails"}
        assert set(org.trusted_access) == {"cloudtrail.amazonaws.com", "config.amazonaws.com"}


class TestOrganizationalUnits:
    def test_tree_is_nested_and_retained_with_pinned_ids(self, full):
        _, template = full
        units = resources(template, "AWS::Organizations::OrganizationalUnit")
        assert set(units) == {
            "OrganizationOuSecurity3C5DA53C",
            "OrganizationOuWorkloads16BCFA20",
            "OrganizationOuProd379CE218",
        }
        assert units["OrganizationOuSecurity3C5DA53C"]["Properties"] == {"Name": "Security", "ParentId": ROOT_ID}
        assert units["OrganizationOuProd379CE218"]["Properties"] == {
            "Name": "Prod",
            "ParentId": {"Fn::GetAtt": ["OrganizationOuWorkloads16BCFA20", "Id"]},
        }
        for unit in units.values():
            assert unit["DeletionPolicy"] == "Retain" and unit["UpdateReplacePolicy"] == "Retain"


class TestAccounts:
    def test_created_account_is_placed_in_its_ou_and_retained(self, full):
        _, template = full
        accounts = resources(template, "AWS::Organizations::Account")
        assert list(accounts) == ["OrganizationAccountShopNewF45D7B22"]
        account = accounts["OrganizationAccountShopNewF45D7B22"]
        assert account["Properties"] == {
            "AccountName": "shop-new",
            "Email": "shop@acme.example",
            "ParentIds": [{"Fn::GetAtt": ["OrganizationOuProd379CE218", "Id"]}],
        }
        assert account["DeletionPolicy"] == "Retain" and account["UpdateReplacePolicy"] == "Retain"

    def test_created_account_at_root_with_role_name(self):
        stack = new_stack()
        Organization(stack, "Organization", accounts=[AccountSpec(name="x", email="x@a.example", role_name="Admin")])
        Template.from_stack(stack).has_resource_properties(
            "AWS::Organizations::Account", {"ParentIds": [ROOT_ID], "RoleName": "Admin"}
        )


class TestServiceControlPolicies:
    def test_policy_content_is_the_document_and_targets_resolve(self, full):
        _, template = full
        (policy,) = resources(template, "AWS::Organizations::Policy").values()
        assert policy["Properties"] == {
            "Name": "guardrails",
            "Description": "Organization guardrails",
            "Type": "SERVICE_CONTROL_POLICY",
            "Content": GUARDRAILS,
            "TargetIds": [ROOT_ID, {"Fn::GetAtt": ["OrganizationOuProd379CE218", "Id"]}, "333333333333"],
        }

    def test_policy_waits_for_the_policy_type(self, full):
        _, template = full
        (policy,) = resources(template, "AWS::Organizations::Policy").values()
        (enable,) = [k for k in resources(template, "Custom::AWS") if k.startswith("OrganizationEnableServiceControl")]
        assert enable in policy["DependsOn"]

    def test_unattached_policy_has_no_targets(self):
        stack = new_stack()
        Organization(
            stack, "Organization", service_control_policies=[ServiceControlPolicy(name="p", document=GUARDRAILS)]
        )
        Template.from_stack(stack).has_resource_properties("AWS::Organizations::Policy", {"TargetIds": Match.absent()})

    def test_enable_policy_type_is_idempotent_and_never_undone(self, full):
        _, template = full
        enable = custom(template, "OrganizationEnableServiceControlPolicies")["Properties"]
        create = text(enable["Create"])
        assert '\\"action\\":\\"enablePolicyType\\"' in create
        assert "SERVICE_CONTROL_POLICY" in create
        assert '\\"ignoreErrorCodesMatching\\":\\"PolicyTypeAlreadyEnabledException\\"' in create
        assert enable["Update"] == enable["Create"]
        assert "Delete" not in enable

    def test_enable_policy_type_may_only_enable_scps_on_this_root(self, full):
        _, template = full
        template.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "PolicyName": Match.string_like_regexp("^OrganizationEnableServiceControlPolicies"),
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": "organizations:EnablePolicyType",
                            "Effect": "Allow",
                            "Condition": {"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}},
                            "Resource": {
                                "Fn::Join": [
                                    "",
                                    [
                                        "arn:",
                                        {"Ref": "AWS::Partition"},
                                        ":organizations::111111111111:root/",
                                        {"Fn::GetAtt": [ORG, "Id"]},
                                        "/",
                                        ROOT_ID,
                                    ],
                                ]
                            },
                        }
                    ]
                },
            },
        )


class TestTrustedAccessAndDelegation:
    def test_trusted_access_per_service_scoped_by_service_principal(self, full):
        _, template = full
        for name, service in (("Cloudtrail", "cloudtrail.amazonaws.com"), ("Config", "config.amazonaws.com")):
            create = text(custom(template, f"OrganizationTrustedAccess{name}")["Properties"]["Create"])
            assert "enableAWSServiceAccess" in create and service in create
            template.has_resource_properties(
                "AWS::IAM::Policy",
                {
                    "PolicyName": Match.string_like_regexp(f"^OrganizationTrustedAccess{name}"),
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Action": "organizations:EnableAWSServiceAccess",
                                "Effect": "Allow",
                                "Resource": "*",
                                "Condition": {"StringEquals": {"organizations:ServicePrincipal": service}},
                            }
                        ]
                    },
                },
            )

    def test_config_delegated_admin_through_organizations(self, full):
        _, template = full
        resource = custom(template, "OrganizationDelegatedAdminConfig")
        create = text(resource["Properties"]["Create"])
        assert "registerDelegatedAdministrator" in create and "333333333333" in create
        assert "AccountAlreadyRegisteredException" in create
        assert "Delete" not in resource["Properties"]
        assert any(d.startswith("OrganizationTrustedAccessConfig") for d in resource["DependsOn"])
        assert any(d.startswith("OrganizationAccountShopNew") for d in resource["DependsOn"])

    def test_cloudtrail_delegated_admin_through_cloudtrail(self, full):
        _, template = full
        resource = custom(template, "OrganizationDelegatedAdminCloudtrail")
        create = text(resource["Properties"]["Create"])
        assert "registerOrganizationDelegatedAdmin" in create and "AccountRegisteredException" in create
        assert any(d.startswith("OrganizationTrustedAccessCloudtrail") for d in resource["DependsOn"])
        template.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "PolicyName": Match.string_like_regexp("^OrganizationDelegatedAdminCloudtrail"),
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": "organizations:RegisterDelegatedAdministrator",
                                    "Condition": {
                                        "StringEquals": {
                                            "organizations:ServicePrincipal": [
                                                "cloudtrail.amazonaws.com",
                                                "context.cloudtrail.amazonaws.com",
                                            ]
                                        }
                                    },
                                }
                            ),
                            Match.object_like(
                                {
                                    "Action": "iam:CreateServiceLinkedRole",
                                    "Condition": {
                                        "StringEquals": {
                                            "iam:AWSServiceName": [
                                                "cloudtrail.amazonaws.com",
                                                "context.cloudtrail.amazonaws.com",
                                            ]
                                        }
                                    },
                                }
                            ),
                        ]
                    )
                },
            },
        )


class TestErrors:
    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            (
                {"organizational_units": [*TREE, OrganizationalUnitSpec(name="Prod")]},
                r"OU name 'Prod' is used 2 times",
            ),
            (
                {"organizational_units": [OrganizationalUnitSpec(name="a-b"), OrganizationalUnitSpec(name="a b")]},
                r"names \['a-b', 'a b'\] need letters or digits that tell them apart",
            ),
            (
                {"accounts": [AccountSpec(name="x", email="x@a.example", parent_ou="Nope")]},
                r"accounts\['x'\].parent_ou: 'Nope' is not a declared OU; declared: Prod, Security, Workloads",
            ),
            (
                {"accounts": [AccountSpec(name="x", account_id="333333333333", email="x@a.example")]},
                r"give exactly one of account_id .* or email",
            ),
            ({"accounts": [AccountSpec(name="x", account_id="1234")]}, r"'1234' is not a 12-digit AWS account id"),
            (
                {"accounts": [AccountSpec(name="x", account_id="333333333333", parent_ou="Prod")]},
                r"parent_ou and role_name apply only to accounts created here",
            ),
            ({"accounts": [AccountSpec(name="x", email="not-an-email")]}, r"'not-an-email' is not an email"),
            (
                {
                    "service_control_policies": [
                        ServiceControlPolicy(
                            name="g", document=GUARDRAILS, targets=[PolicyTarget.organizational_unit("Dev")]
                        )
                    ]
                },
                r"service_control_policies\['g'\].targets: ou 'Dev' is not declared; declared: Prod, Security, Workloads",
            ),
            (
                {
                    "service_control_policies": [
                        ServiceControlPolicy(name="g", document=GUARDRAILS, targets=[PolicyTarget.account("ghost")])
                    ]
                },
                r"account 'ghost' is not declared; declared: audit, shop-new",
            ),
            (
                {
                    "service_control_policies": [
                        ServiceControlPolicy(name=f"p{i}", document=GUARDRAILS, targets=[PolicyTarget.root()])
                        for i in range(5)
                    ]
                },
                r"root: 5 SCPs .* exceed the quota of 5 per target \(FullAWSAccess takes one\)",
            ),
            (
                {
                    "service_control_policies": [
                        ServiceControlPolicy(name="open", document={**GUARDRAILS, "Version": "2008-10-17"})
                    ]
                },
                r"service_control_policies\['open'\]: Version: '2008-10-17' must be '2012-10-17'",
            ),
            (
                {"exempt_role_names": ["BreakGlass", "Pipeline"]},
                r"service_control_policies\['guardrails'\]: Statement\[0\] \(DenyLeaveOrganization\): denies the "
                r"exempted role 'Pipeline'",
            ),
            (
                {"delegated_administrators": {DelegatedService.CONFIG: "ghost"}},
                r"delegated_administrators\[CONFIG\]: account 'ghost' is not declared in accounts",
            ),
        ],
    )
    def test_error(self, overrides, message):
        with pytest.raises(ValueError, match=message):
            build(new_stack(), **overrides)

    def test_oversized_policy(self):
        big = {**GUARDRAILS, "Statement": [{**GUARDRAILS["Statement"][0], "Resource": ["arn:aws:s3:::b" * 40] * 120}]}
        with pytest.raises(ValueError, match=r"over the 5120-byte SCP quota"):
            build(new_stack(), service_control_policies=[ServiceControlPolicy(name="big", document=big)])

    def test_all_problems_reported_together(self):
        with pytest.raises(ValueError, match=r"^Organization: 4 problems:"):
            build(
                new_stack(),
                accounts=[AccountSpec(name="x", account_id="1"), AccountSpec(name="y", email="bad")],
                delegated_administrators={DelegatedService.CONFIG: "z"},
            )


EXISTING_TREE = [
    OrganizationalUnitSpec(name="Security", ou_id="ou-a1b2-c3d4e5f6"),
    OrganizationalUnitSpec(name="Workloads", ou_id="ou-a1b2-99887766", children=[OrganizationalUnitSpec(name="Prod")]),
    OrganizationalUnitSpec(name="Sandbox"),
]


@pytest.fixture(scope="module")
def existing() -> tuple[Organization, Template]:
    stack = new_stack()
    org = build(stack, organization_id="o-a1b2c3d4e5", organizational_units=EXISTING_TREE)
    return org, Template.from_stack(stack)


class TestExistingOrganization:
    """The usual case: the organization (and some OUs) exist; nothing of them is created again."""

    def test_no_organization_resource(self, existing):
        org, template = existing
        template.resource_count_is("AWS::Organizations::Organization", 0)
        assert org.organization is None
        assert org.organization_id == "o-a1b2c3d4e5"

    def test_root_id_is_read_at_deploy_time_with_list_roots_only(self, existing):
        org, template = existing
        reader = custom(template, "OrganizationRootId")
        create = json.loads(reader["Properties"]["Create"])
        assert create["action"] == "listRoots"
        assert create["outputPaths"] == ["Roots.0.Id"]
        assert "Delete" not in reader["Properties"]
        (logical_id,) = [k for k in resources(template, "Custom::AWS") if k.startswith("OrganizationRootId")]
        assert cdk.Stack.of(org).resolve(org.root_id) == {"Fn::GetAtt": [logical_id, "Roots.0.Id"]}
        (policy,) = [
            r for k, r in resources(template, "AWS::IAM::Policy").items() if k.startswith("OrganizationRootId")
        ]
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {"Action": "organizations:ListRoots", "Effect": "Allow", "Resource": "*"}
        ]

    def test_given_root_id_needs_no_read(self):
        stack = new_stack()
        org = build(stack, organization_id="o-a1b2c3d4e5", root_id="r-ab12", organizational_units=EXISTING_TREE)
        template = Template.from_stack(stack)
        assert not [k for k in resources(template, "Custom::AWS") if k.startswith("OrganizationRootId")]
        assert org.root_id == "r-ab12"
        (guardrails,) = resources(template, "AWS::Organizations::Policy").values()
        assert guardrails["Properties"]["TargetIds"][0] == "r-ab12"

    def test_ous_with_ids_are_referenced_and_their_children_created_under_them(self, existing):
        org, template = existing
        units = {
            r["Properties"]["Name"]: r for r in resources(template, "AWS::Organizations::OrganizationalUnit").values()
        }
        assert sorted(units) == ["Prod", "Sandbox"]
        assert units["Prod"]["Properties"]["ParentId"] == "ou-a1b2-99887766"
        assert org.organizational_unit_ids["Security"] == "ou-a1b2-c3d4e5f6"
        assert set(org.organizational_units) == {"Prod", "Sandbox"}
        # A created account placed in a created OU under a referenced one.
        (account,) = resources(template, "AWS::Organizations::Account").values()
        (parent,) = account["Properties"]["ParentIds"]
        assert parent["Fn::GetAtt"][0].startswith("OrganizationOuProd") and parent["Fn::GetAtt"][1] == "Id"

    def test_sandbox_sits_in_the_read_root(self, existing):
        _, template = existing
        (reader,) = [k for k in resources(template, "Custom::AWS") if k.startswith("OrganizationRootId")]
        (sandbox,) = [
            r for r in resources(template, "AWS::Organizations::OrganizationalUnit").values()
            if r["Properties"]["Name"] == "Sandbox"
        ]  # fmt: skip
        assert sandbox["Properties"]["ParentId"] == {"Fn::GetAtt": [reader, "Roots.0.Id"]}

    @pytest.mark.parametrize("organization_id", [None, "o-a1b2c3d4e5"], ids=["created", "existing"])
    def test_every_custom_resource_waits_for_the_provider_log_group(self, organization_id):
        """Lambda creates /aws/lambda/<fn> on the function's first log line; the stack's log group of
        that name (aws-lambda:useCdkManagedLogGroup) must exist before any custom resource invokes it."""
        app = cdk.App(context=dict(CDK_CONTEXT))
        stack = cdk.Stack(app, "OrgStack", env=cdk.Environment(account="111111111111", region="eu-west-1"))
        build(stack, organization_id=organization_id, organizational_units=TREE)
        template = Template.from_stack(stack)
        (log_group,) = [
            k for k in resources(template, "AWS::Logs::LogGroup") if k.startswith("AWS679f53fac002430cb0da5b7982bd2287")
        ]
        for logical_id, resource in resources(template, "Custom::AWS").items():
            assert log_group in resource.get("DependsOn", []), logical_id

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"organization_id": "org-1"}, r"organization_id: 'org-1' is not an organization id"),
            ({"root_id": "r-ab12"}, r"root_id: 'r-ab12' needs organization_id"),
            ({"organization_id": "o-a1b2c3d4e5", "root_id": "root"}, r"root_id: 'root' is not a root id"),
            (
                {"organizational_units": [OrganizationalUnitSpec(name="Security", ou_id="ou-a1b2-c3d4e5f6")]},
                r"organizational_units\['Security'\].ou_id: 'ou-a1b2-c3d4e5f6' references an existing OU, but the "
                r"organization is created here",
            ),
            (
                {
                    "organization_id": "o-a1b2c3d4e5",
                    "organizational_units": [OrganizationalUnitSpec(name="Security", ou_id="security")],
                },
                r"'security' is not an OU id",
            ),
            (
                {
                    "organization_id": "o-a1b2c3d4e5",
                    "organizational_units": [
                        OrganizationalUnitSpec(name="A", ou_id="ou-a1b2-c3d4e5f6"),
                        OrganizationalUnitSpec(name="B", ou_id="ou-a1b2-c3d4e5f6"),
                    ],
                },
                r"'ou-a1b2-c3d4e5f6' is already the id of OU 'A'",
            ),
        ],
    )
    def test_error(self, overrides, message):
        props = {
            "organizational_units": [],
            "accounts": [],
            "service_control_policies": [],
            "delegated_administrators": {},
            **overrides,
        }
        with pytest.raises(ValueError, match=message):
            build(new_stack(), **props)


@pytest.mark.parametrize("context", [{}, CDK_CONTEXT], ids=["plain-app", "cdk-json-flags"])
def test_compliance_packs_and_cfn_lint_pass(tmp_path: Path, context: dict[str, Any]):
    app = cdk.App(outdir=str(tmp_path), context=dict(context))
    stack = cdk.Stack(app, "OrgStack", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    build(stack)
    add_compliance_checks(app)
    app.synth()  # raises on any unacknowledged cdk-nag finding
    lint = cfn_lint(str(tmp_path / "OrgStack.template.json"))
    assert lint.returncode == 0, lint.stdout + lint.stderr
