"""The service_control_policies config section, its wiring into the management stack, and docs/organization.md."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from constructs_lib import DelegatedService, PolicyTarget
from constructs_lib.scp_evaluator import FULL_AWS_ACCESS, Request, evaluate_path
from stacks.config import ConfigError, load_config, parse_config
from stacks.org_doc import render, section
from stacks.org_settings import organization_options, scp_documents
from tests.conftest import EXAMPLE_CONFIGS, ROOT, cfn_lint

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def config_with(**scp_section: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    data["service_control_policies"] = scp_section
    return data


def errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


class TestConfig:
    def test_example_is_valid_and_absent_section_means_defaults(self):
        data = copy.deepcopy(EXAMPLE)
        del data["service_control_policies"]
        options = organization_options(parse_config(data))
        assert [p.name for p in options["service_control_policies"]] == [
            "protect-audit-logging",
            "protect-monitoring",
            "guardrails",
        ]
        assert all(p.targets == [PolicyTarget.root()] for p in options["service_control_policies"])
        assert options["exempt_role_names"] == [
            "cdk-*-cfn-exec-role-*",
            "stacksets-exec-*",
            "OrganizationAccountAccessRole",
        ]
        assert options["delegated_administrators"] == {}
        assert "management" not in [a.name for a in options["accounts"]]

    def test_attachments_per_ou_and_account_and_delegation(self):
        config = parse_config(
            config_with(
                attachments={
                    "root": ["guardrails"],
                    "organizational_units": {
                        "Workloads": ["protect-monitoring"],
                        "Security": ["protect-audit-logging"],
                    },
                    "accounts": {"shop-dev": ["protect-audit-logging"]},
                },
                delegated_administrators={"config": True, "cloudtrail": True},
            )
        )
        options = organization_options(config)
        targets = {p.name: p.targets for p in options["service_control_policies"]}
        assert targets["guardrails"] == [PolicyTarget.root()]
        assert targets["protect-monitoring"] == [PolicyTarget.organizational_unit("Workloads")]
        assert targets["protect-audit-logging"] == [
            PolicyTarget.organizational_unit("Security"),
            PolicyTarget.account("shop-dev"),
        ]
        assert options["delegated_administrators"] == {
            DelegatedService.CONFIG: "audit",
            DelegatedService.CONFIG_RULES: "audit",
            DelegatedService.CLOUDTRAIL: "audit",
        }
        text = render(config)
        assert "- OU **Workloads** (created by the management stack) — SCPs: `protect-monitoring`" in text
        assert "account `shop-dev` (555555555555, workload) — SCPs: `protect-audit-logging`" in text
        assert "| `protect-audit-logging` |" in text and "| OU Security, account shop-dev |" in text

    def test_guardrails_follow_the_config(self):
        config = parse_config(
            config_with(guardrails={"deny_ungoverned_regions": False, "protect_security_services": True})
        )
        sids = [s["Sid"] for s in scp_documents(config)["guardrails"]["Statement"]]
        assert sids == ["DenyLeaveOrganization", "DenyRootUser", "ProtectSecurityServices"]

    def test_flow_log_tag_protects_tagged_flow_logs(self):
        config = parse_config(config_with(flow_log_tag={"key": "acme:component", "value": "flow-logs"}))
        (statement,) = [
            s for s in scp_documents(config)["protect-monitoring"]["Statement"] if s["Sid"] == "ProtectFlowLogs"
        ]
        assert statement["Action"] == ["ec2:DeleteFlowLogs"]
        assert statement["Condition"]["StringEquals"] == {"aws:ResourceTag/acme:component": "flow-logs"}
        untagged = scp_documents(parse_config(EXAMPLE))["protect-monitoring"]["Statement"]
        assert "ProtectFlowLogs" not in [s["Sid"] for s in untagged]

    def test_policies_use_the_baseline_names(self):
        documents = scp_documents(parse_config(EXAMPLE))
        text = str(documents)
        assert "arn:aws:cloudtrail:*:*:trail/acme-organization-trail" in text
        assert "arn:aws:s3:::acme-cloudtrail-222222222222-eu-west-1" in text
        assert "alias/acme/*" in text and "CloudTrail_CloudWatchLogs_Role" in text

    @pytest.mark.parametrize(
        ("section_", "expected"),
        [
            (
                {"attachments": {"root": ["protect-everything"]}},
                "service_control_policies.attachments.root[0]: 'protect-everything' is not an SCP of the baseline; "
                "known: protect-audit-logging, protect-monitoring, guardrails",
            ),
            (
                {"attachments": {"organizational_units": {"Dev": ["guardrails"]}}},
                "service_control_policies.attachments.organizational_units.Dev: 'Dev' is not a declared OU; "
                "declared: Infrastructure, NonProduction, Production, Security, Workloads",
            ),
            (
                {"attachments": {"accounts": {"ghost": ["guardrails"]}}},
                "service_control_policies.attachments.accounts.ghost: 'ghost' is not a declared account; "
                "declared: audit, log-archive, management, shop-dev, shop-prod",
            ),
            (
                {"attachments": {"accounts": {"management": ["guardrails"]}}},
                "service_control_policies.attachments.accounts.management: SCPs never restrict the management "
                "account; attach them elsewhere",
            ),
            (
                {"attachments": {"root": ["guardrails", "guardrails"]}},
                "service_control_policies.attachments.root: ['guardrails'] listed more than once",
            ),
            (
                {
                    "guardrails": {
                        "deny_leave_organization": False,
                        "deny_root_user": False,
                        "deny_ungoverned_regions": False,
                    }
                },
                "service_control_policies.guardrails: every guardrail is off, but the 'guardrails' SCP is attached; "
                "detach it",
            ),
            (
                {"exempt_role_names": []},
                "service_control_policies.exempt_role_names: needs at least one role (the deployment or "
                "break-glass role)",
            ),
            (
                {"exempt_role_names": ["Break Glass"]},
                "service_control_policies.exempt_role_names[0]: 'Break Glass' is not a role name "
                "(1-64 letters, digits, '+=,.@_-', wildcards '*' '?')",
            ),
            (
                {"attachments": {"root": ["x"]}, "unknown": 1},
                "service_control_policies: unknown key(s) 'unknown'; allowed: exempt_role_names, attachments, "
                "guardrails, delegated_administrators, flow_log_tag",
            ),
        ],
    )
    def test_errors_name_the_path(self, section_, expected):
        assert expected in errors(config_with(**section_))

    def test_delegation_needs_an_audit_account(self):
        data = config_with(delegated_administrators={"config": True})
        data["accounts"] = [a for a in data["accounts"] if a["role"] != "audit"]
        assert (
            "service_control_policies.delegated_administrators: the delegated administrator is the account with "
            "role 'audit', but no account has it; add one or turn delegation off"
        ) in errors(data)

    def test_single_account_mode_has_no_scps(self):
        data = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
        data["service_control_policies"] = {}
        assert errors(data) == [
            "service_control_policies: needs an 'organization' section (single-account mode has no SCPs)"
        ]

    def test_oversized_policy_is_a_config_error(self):
        roles = [f"break-glass-role-number-{i:03d}-with-a-long-name" for i in range(30)]
        problems = errors(config_with(exempt_role_names=roles))
        assert any(
            p.startswith("service_control_policies: SCP 'protect-monitoring' is ") and "over the 5120-byte" in p
            for p in problems
        ), problems


class TestBehaviourThroughTheTree:
    """The example's SCPs evaluated along root -> OU -> account, as AWS applies them."""

    def test_workload_account_cannot_stop_the_trail_but_the_deploy_role_can(self):
        documents = scp_documents(parse_config(EXAMPLE))
        root = [FULL_AWS_ACCESS, *documents.values()]
        path = [root, [FULL_AWS_ACCESS], [FULL_AWS_ACCESS], [FULL_AWS_ACCESS]]  # Workloads, Production, shop-prod
        trail = "arn:aws:cloudtrail:eu-west-1:444444444444:trail/acme-organization-trail"
        app = Request(action="cloudtrail:StopLogging", resource=trail, region="eu-west-1",
                      principal_arn="arn:aws:iam::444444444444:role/shop-app")  # fmt: skip
        deploy = Request(action="cloudtrail:StopLogging", resource=trail, region="eu-west-1",
                         principal_arn="arn:aws:iam::444444444444:role/cdk-hnb659fds-cfn-exec-role-444444444444-eu-west-1")  # fmt: skip
        assert evaluate_path(path, app).denied
        assert evaluate_path(path, deploy).allowed
        assert not evaluate_path(path, Request(action="ec2:RunInstances", region="sa-east-1")).allowed
        assert evaluate_path(path, Request(action="ec2:RunInstances", region="eu-central-1")).allowed


class TestManagementStack:
    def test_organization_scps_and_trail_order(self, synthesized):
        management = synthesized["example"].template_json("acme-management")["Resources"]
        by_type: dict[str, list[str]] = {}
        for logical_id, resource in management.items():
            by_type.setdefault(resource["Type"], []).append(logical_id)
        # The organization exists: referenced by id, its root id read at deploy time, never created.
        assert "AWS::Organizations::Organization" not in by_type
        root = {"Fn::GetAtt": ["OrganizationRootIdC958FC7D", "Roots.0.Id"]}
        assert management["OrganizationRootIdC958FC7D"]["Type"] == "Custom::AWS"
        # Security carries an OU id (referenced); the other four OUs are created.
        units = {
            management[k]["Properties"]["Name"]: management[k]
            for k in by_type["AWS::Organizations::OrganizationalUnit"]
        }
        assert sorted(units) == ["Infrastructure", "NonProduction", "Production", "Workloads"]
        assert units["Workloads"]["Properties"]["ParentId"] == root
        assert "AWS::Organizations::Account" not in by_type  # config accounts exist: referenced
        policies = {management[k]["Properties"]["Name"]: management[k] for k in by_type["AWS::Organizations::Policy"]}
        assert set(policies) == {"protect-audit-logging", "protect-monitoring", "guardrails"}
        for policy in policies.values():
            assert policy["Properties"]["TargetIds"] == [root]
        assert management["OrganizationEnableServiceControlPolicies6AC0F7DB"]["Properties"]["Create"]
        trail = management["OrganizationTrail7F291DBA"]
        assert any(d.startswith("OrganizationTrustedAccessCloudtrail") for d in trail["DependsOn"])
        assert any(k.startswith("OrganizationDelegatedAdminConfig") for k in by_type["Custom::AWS"])
        assert any(k.startswith("OrganizationDelegatedAdminConfigRules") for k in by_type["Custom::AWS"])
        assert any(k.startswith("OrganizationTrustedAccessConfigMultiaccountsetup") for k in by_type["Custom::AWS"])

    def test_cfn_lint_is_clean(self, synthesized):
        templates = sorted(str(p) for p in synthesized["example"].outdir.glob("*.template.json"))
        lint = cfn_lint(*templates)
        assert lint.returncode == 0, lint.stdout + lint.stderr


class TestReadme:
    def test_docs_hold_the_generated_tree_of_the_example(self):
        doc = (ROOT / "docs" / "organization.md").read_text(encoding="utf-8")
        assert section(load_config(EXAMPLE_CONFIGS["example"])) in doc, (
            "docs/organization.md is stale: run .venv/bin/python -m stacks.org_doc config/example.yaml and paste the block"
        )

    def test_docs_state_what_scps_never_restrict_and_the_deploy_order(self):
        doc = (ROOT / "docs" / "organization.md").read_text(encoding="utf-8")
        assert "SCPs never restrict the management account" in doc
        assert "service-linked roles" in doc
        assert "### Deploy order" in doc

    def test_single_account_render(self):
        assert (
            render(load_config(EXAMPLE_CONFIGS["single-account"])) == "Single-account mode: no organization, no SCPs.\n"
        )
