"""AWS Config wiring: workload stacks per account and region, log-archive Config bucket, audit aggregator."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib import CURATED_RULES, GLOBAL_IAM_RESOURCE_TYPES
from stacks.config import ConfigError, parse_config
from tests.conftest import EXAMPLE_CONFIGS, Synthesized, cfn_lint, synthesize

HOME_ONLY = {name for name, spec in CURATED_RULES.items() if spec.home_region_only}


def resources(synth: Synthesized, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
    template = synth.template_json(stack)
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def one(synth: Synthesized, stack: str, resource_type: str) -> dict[str, Any]:
    found = resources(synth, stack, resource_type)
    assert len(found) == 1, f"{stack}: expected one {resource_type}, found {list(found)}"
    return next(iter(found.values()))


def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


@pytest.fixture(scope="module")
def example(synthesized) -> Synthesized:
    return synthesized["example"]


@pytest.fixture(scope="module")
def single(synthesized) -> Synthesized:
    return synthesized["single-account"]


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = of_type(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    return next(iter(found.values()))


def _config_route_target(synth: Synthesized) -> Any:
    """Target of the central bus's rule for NON_COMPLIANT results, in the audit stack."""
    (rule,) = [
        r
        for k, r in resources(synth, "acme-audit", "AWS::Events::Rule").items()
        if k.startswith("SecurityEventsRouteconfigcompliance")
    ]
    assert rule["Properties"]["EventPattern"]["source"] == ["aws.config"]
    (target,) = rule["Properties"]["Targets"]
    return target["Arn"]


def test_without_forwarding_the_alert_recipients_subscribe_in_each_account(tmp_path):
    data = example_data()
    data["observability"] = {"forwarding": False}
    synth = synthesize(parse_config(data), tmp_path, compliance=False)
    subscription = only(synth.stackset_template(), "AWS::SNS::Subscription")
    assert subscription["Properties"]["Endpoint"] == "security@acme.example"  # notifications.high
    # The central bus keeps its route for whatever NON_COMPLIANT results are sent to it.
    assert _config_route_target(synth) == {"Ref": "NotificationTopicsHighTopic321C7B98"}


class TestOrganization:
    def test_management_account_per_region_and_a_stackset_for_every_other_account(self, example):
        management = {f"acme-baseline-management-{region}" for region in example.config.regions}
        assert management <= set(example.stacks)
        assert not [n for n in example.stacks if n.startswith("acme-baseline-") and n not in management]
        assert "acme-audit" in example.stacks
        stack_set = one(example, "acme-management", "AWS::CloudFormation::StackSet")["Properties"]
        assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
        assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": True}
        (group,) = stack_set["StackInstancesGroup"]
        assert group["Regions"] == ["eu-west-1", "eu-central-1", "us-east-1"]
        assert group["DeploymentTargets"]["OrganizationalUnitIds"] == [
            {"Fn::GetAtt": ["OrganizationRootIdC958FC7D", "Roots.0.Id"]}
        ]
        assert stack_set["OperationPreferences"] == {
            "FailureTolerancePercentage": 10,
            "MaxConcurrentPercentage": 25,
            "RegionConcurrencyType": "PARALLEL",
        }

    def test_global_iam_types_recorded_only_in_the_home_region(self, example):
        for region in example.config.regions:
            recorder = one(example, f"acme-baseline-management-{region}", "AWS::Config::ConfigurationRecorder")
            group = recorder["Properties"]["RecordingGroup"]
            assert group["IncludeGlobalResourceTypes"] is (region == "eu-west-1"), region
        template = example.stackset_template()
        assert template["Conditions"]["IsHomeRegion"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}
        # Besides it only the gate of the on-premises resources (telemetry.on_premises, one account).
        assert set(template["Conditions"]) == {"IsHomeRegion", "OnPremisesInshopprod"}
        condition, home, other = only(template, "AWS::Config::ConfigurationRecorder")["Properties"]["RecordingGroup"][
            "Fn::If"
        ]
        assert condition == "IsHomeRegion"
        assert home["IncludeGlobalResourceTypes"] is True and other["IncludeGlobalResourceTypes"] is False

    def test_home_region_only_rules_only_in_the_home_region(self, example):
        def names(stack: str) -> set[str]:
            rules = resources(example, stack, "AWS::Config::ConfigRule").values()
            return {r["Properties"]["ConfigRuleName"].removeprefix("acme-") for r in rules}

        assert names("acme-baseline-management-eu-west-1") == set(CURATED_RULES)
        assert names("acme-baseline-management-eu-central-1") == set(CURATED_RULES) - HOME_ONLY
        rules = of_type(example.stackset_template(), "AWS::Config::ConfigRule").values()
        conditioned = {r["Properties"]["ConfigRuleName"].removeprefix("acme-") for r in rules if r.get("Condition")}
        assert {r["Properties"]["ConfigRuleName"].removeprefix("acme-") for r in rules} == set(CURATED_RULES)
        assert conditioned == HOME_ONLY
        assert {r.get("Condition") for r in rules} == {"IsHomeRegion", None}

    def test_delivery_to_the_central_config_bucket_and_alerts_by_email(self, example):
        template = example.stackset_template()
        channel = only(template, "AWS::Config::DeliveryChannel")
        assert channel["Properties"]["S3BucketName"] == "acme-config-222222222222-eu-west-1"
        # Forwarded to the central bus, which routes them to the alert_severity (high) topic of the
        # audit account: no per-account subscription, no confirmation mail per account and region.
        assert of_type(template, "AWS::SNS::Subscription") == {}
        assert _config_route_target(example) == {"Ref": "NotificationTopicsHighTopic321C7B98"}
        (rule,) = [
            r for k, r in of_type(template, "AWS::Events::Rule").items() if k.startswith("ConfigRulesNonCompliant")
        ]
        assert rule["Properties"]["EventPattern"]["detail"]["newEvaluationResult"] == {
            "complianceType": ["NON_COMPLIANT"]
        }
        resources_ = template["Resources"]
        assert resources_["ConfigRecorder41B4E48C"]["Type"] == "AWS::Config::ConfigurationRecorder"
        assert resources_["ConfigRecorderKeyF1B3E0D4"]["DeletionPolicy"] == "Retain"

    def test_workload_stacks_deploy_after_the_log_archive(self, example):
        manifest = json.loads((example.outdir / "manifest.json").read_text())
        for name in example.stacks:
            if name.startswith("acme-baseline-"):
                assert "acme-log-archive" in manifest["artifacts"][name]["dependencies"], name

    def test_the_recorder_role_gets_the_archive_key_by_alias_where_the_account_is_unknown(self, example):
        def alias_policies(template: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                p
                for p in of_type(template, "AWS::IAM::ManagedPolicy").values()
                if "kms:ResourceAliases" in json.dumps(p)
            ]

        # In the StackSet template the account is unknown at synth: the log-archive account needs
        # the grant, elsewhere it names a key of another account and grants nothing.
        (policy,) = alias_policies(example.stackset_template())
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/acme/log-archive"}}
        assert alias_policies(example.template_json("acme-baseline-management-us-east-1")) == []

    def test_log_archive_config_bucket_policy_and_key(self, example):
        buckets = resources(example, "acme-log-archive", "AWS::S3::Bucket")
        ((bucket_id, bucket),) = [
            (k, b)
            for k, b in buckets.items()
            if b["Properties"].get("BucketName") == "acme-config-222222222222-eu-west-1"
        ]
        # AWS Config does not deliver to a bucket with Object Lock; the CloudTrail bucket has it here.
        assert "ObjectLockEnabled" not in bucket["Properties"]
        assert bucket["DeletionPolicy"] == "Retain"
        assert bucket_id == "ConfigBucketE7CC15D9"
        (policy,) = [
            p
            for p in resources(example, "acme-log-archive", "AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": bucket_id}
        ]
        statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        # Every account of the organization, also those that join later and get the StackSet.
        delivery = statements["AWSConfigBucketDelivery"]
        assert delivery["Condition"]["StringEquals"] == {
            "s3:x-amz-acl": "bucket-owner-full-control",
            "aws:SourceOrgID": "o-a1b2c3d4e5",
        }
        assert delivery["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/AWSLogs/*/Config/*"]]}
        assert statements["AWSConfigBucketExistenceCheck"]["Action"] == "s3:ListBucket"
        key = one(example, "acme-log-archive", "AWS::KMS::Key")
        key_statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
        assert key_statements["AWSConfigKMSPolicy"]["Principal"] == {"Service": "config.amazonaws.com"}
        assert key_statements["AWSConfigKMSPolicy"]["Condition"]["StringEquals"] == {"aws:SourceOrgID": "o-a1b2c3d4e5"}

    def test_audit_aggregator_over_governed_regions(self, example):
        assert example.stacks["acme-audit"].account == "333333333333"
        aggregator = one(example, "acme-audit", "AWS::Config::ConfigurationAggregator")
        source = aggregator["Properties"]["OrganizationAggregationSource"]
        assert source["AwsRegions"] == ["eu-west-1", "eu-central-1", "us-east-1"]


class TestSingleAccount:
    def test_home_region_in_the_single_account_stack_other_regions_in_their_own(self, single):
        assert set(single.stacks) == {"solo-single-account", "solo-baseline-sandbox-us-west-2"}
        home = one(single, "solo-single-account", "AWS::Config::ConfigurationRecorder")
        assert home["Properties"]["RecordingGroup"]["IncludeGlobalResourceTypes"] is True
        other = one(single, "solo-baseline-sandbox-us-west-2", "AWS::Config::ConfigurationRecorder")
        assert other["Properties"]["RecordingGroup"]["IncludeGlobalResourceTypes"] is False

    def test_stateful_logical_ids_are_pinned(self, single, example):
        template = single.template_json("solo-single-account")["Resources"]
        assert template["ConfigBucketE7CC15D9"]["Properties"]["BucketName"] == "solo-config-999999999999-us-east-1"
        assert template["ConfigBucketE7CC15D9"]["DeletionPolicy"] == "Retain"
        assert template["ConfigKey331CCF85"]["DeletionPolicy"] == "Retain"
        assert template["ConfigRecorder41B4E48C"]["Type"] == "AWS::Config::ConfigurationRecorder"
        workload = example.template_json("acme-baseline-management-eu-west-1")["Resources"]
        assert workload["ConfigRecorder41B4E48C"]["Type"] == "AWS::Config::ConfigurationRecorder"
        assert workload["ConfigRecorderKeyF1B3E0D4"]["DeletionPolicy"] == "Retain"

    def test_account_aggregator_and_config_bucket(self, single):
        aggregator = one(single, "solo-single-account", "AWS::Config::ConfigurationAggregator")
        assert aggregator["Properties"]["AccountAggregationSources"] == [
            {"AccountIds": ["999999999999"], "AwsRegions": ["us-east-1", "us-west-2"]}
        ]
        names = [
            b["Properties"].get("BucketName")
            for b in resources(single, "solo-single-account", "AWS::S3::Bucket").values()
        ]
        assert "solo-config-999999999999-us-east-1" in names
        channel = one(single, "solo-baseline-sandbox-us-west-2", "AWS::Config::DeliveryChannel")
        assert channel["Properties"]["S3BucketName"] == "solo-config-999999999999-us-east-1"


def test_cfn_lint_clean(example, single):
    templates = sorted(str(p) for s in (example, single) for p in s.outdir.glob("*.template.json"))
    result = cfn_lint(*templates)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def cost_controlled(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    data = example_data()
    data["governed_regions"] = ["eu-west-1", "us-east-1"]
    data["aws_config"] = {
        "recording_frequency": "DAILY",
        "frequency_overrides": [{"resource_types": ["AWS::EC2::SecurityGroup"], "frequency": "CONTINUOUS"}],
        "excluded_resource_types": ["AWS::EC2::NetworkInterface"],
        "snapshot_delivery_frequency": "Twelve_Hours",
        "rules": {"restricted-ssh": False},
        "rule_parameters": {"cw-loggroup-retention-period-check": {"MinRetentionTime": "731"}},
        "custom_rules": [
            {
                "name": "rds-storage-encrypted",
                "identifier": "RDS_STORAGE_ENCRYPTED",
                "resource_types": ["AWS::RDS::DBInstance"],
            }
        ],
        "conformance_packs": [{"name": "logging", "template": "logging-and-monitoring"}],
        "alert_severity": "critical",
    }
    return synthesize(parse_config(data), tmp_path_factory.mktemp("cost-controlled"))


class TestConfigSection:
    def test_cost_controls_reach_every_recorder(self, cost_controlled):
        template = cost_controlled.stackset_template()
        props = only(template, "AWS::Config::ConfigurationRecorder")["Properties"]
        assert props["RecordingMode"]["RecordingFrequency"] == "DAILY"
        assert props["RecordingMode"]["RecordingModeOverrides"][0]["ResourceTypes"] == ["AWS::EC2::SecurityGroup"]
        # Outside the home region the exclusion strategy must also exclude the global IAM types.
        _, home, other = props["RecordingGroup"]["Fn::If"]
        for group, iam_excluded in ((home, False), (other, True)):
            excluded = group["ExclusionByResourceTypes"]["ResourceTypes"]
            assert "AWS::EC2::NetworkInterface" in excluded
            assert set(GLOBAL_IAM_RESOURCE_TYPES).issubset(excluded) is iam_excluded
        channel = only(template, "AWS::Config::DeliveryChannel")
        assert channel["Properties"]["ConfigSnapshotDeliveryProperties"] == {"DeliveryFrequency": "Twelve_Hours"}
        for region, iam_excluded in (("eu-west-1", False), ("us-east-1", True)):
            recorder = one(cost_controlled, f"acme-baseline-management-{region}", "AWS::Config::ConfigurationRecorder")
            excluded = recorder["Properties"]["RecordingGroup"]["ExclusionByResourceTypes"]["ResourceTypes"]
            assert set(GLOBAL_IAM_RESOURCE_TYPES).issubset(excluded) is iam_excluded, region

    def test_rules_switches_parameters_custom_rules_packs_and_alert_list(self, cost_controlled):
        template = cost_controlled.stackset_template()
        rules = {r["Properties"]["ConfigRuleName"]: r for r in of_type(template, "AWS::Config::ConfigRule").values()}
        assert "acme-restricted-ssh" not in rules
        assert rules["acme-cw-loggroup-retention-period-check"]["Properties"]["InputParameters"] == {
            "MinRetentionTime": "731"
        }
        assert (
            rules["acme-rds-storage-encrypted"]["Properties"]["Source"]["SourceIdentifier"] == "RDS_STORAGE_ENCRYPTED"
        )
        pack = only(template, "AWS::Config::ConformancePack")
        assert pack["Properties"]["ConformancePackName"] == "logging"
        assert of_type(template, "AWS::SNS::Subscription") == {}
        assert _config_route_target(cost_controlled) == {"Ref": "NotificationTopicsCriticalTopic609EE50D"}

    def test_adopting_an_existing_recorder(self, tmp_path):
        data = example_data()
        data["governed_regions"] = ["eu-west-1"]
        data["aws_config"] = {"existing_recorder_name": "aws-controltower-BaselineConfigRecorder", "aggregator": False}
        synth = synthesize(parse_config(data), tmp_path, compliance=False)
        # The audit stack still holds the central event bus and dashboard, but no aggregator.
        assert resources(synth, "acme-audit", "AWS::Config::ConfigurationAggregator") == {}
        template = synth.stackset_template()
        assert of_type(template, "AWS::Config::ConfigurationRecorder") == {}
        assert of_type(template, "AWS::Config::DeliveryChannel") == {}
        assert len(of_type(template, "AWS::Config::ConfigRule")) == len(CURATED_RULES)
        names = [
            b["Properties"].get("BucketName") for b in resources(synth, "acme-log-archive", "AWS::S3::Bucket").values()
        ]
        assert "acme-config-222222222222-eu-west-1" not in names

    def test_disabled(self, tmp_path):
        data = example_data()
        data["aws_config"] = {"enabled": False}
        synth = synthesize(parse_config(data), tmp_path, compliance=False)
        assert resources(synth, "acme-audit", "AWS::Config::ConfigurationAggregator") == {}
        assert "acme-config-222222222222-eu-west-1" not in json.dumps(synth.template_json("acme-log-archive"))
        # Event forwarding still needs every account and region: the StackSet and the management
        # account's per-region stacks stay, without any AWS Config resource.
        templates = [synth.stackset_template()] + [
            synth.template_json(name) for name in synth.stacks if name.startswith("acme-baseline-")
        ]
        assert len(templates) == 4
        for template in templates:
            assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::Config::")]
            assert [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]

    def test_config_errors_are_reported_together(self, tmp_path):
        data = example_data()
        data["aws_config"] = {
            "recording_frequency": "CONTINUOUS",
            "frequency_overrides": [
                {"resource_types": ["AWS::EC2::Volume"], "frequency": "CONTINUOUS"},
                {"resource_types": ["AWS::EC2::VPC"], "frequency": "DAILY"},
            ],
            "excluded_resource_types": ["AWS::EC2::VPC"],
            "rules": {"no-such-rule": False, "restricted-ssh": False},
            "rule_parameters": {"restricted-ssh": {"a": "b"}},
            "custom_rules": [{"name": "restricted-ssh", "identifier": "INCOMING_SSH_DISABLED"}],
            "conformance_packs": [{"name": "p", "template": str(tmp_path / "missing.yaml")}],
        }
        with pytest.raises(ConfigError) as error:
            parse_config(data)
        problems = error.value.problems
        expected = [
            "aws_config.rules: 'no-such-rule' is not a curated rule",
            "aws_config.rule_parameters: 'restricted-ssh' is switched off",
            "aws_config.frequency_overrides: 2 overrides; AWS Config accepts one",
            "aws_config.frequency_overrides[0].frequency: 'CONTINUOUS' is already",
            "aws_config.frequency_overrides[1].resource_types: ['AWS::EC2::VPC'] are also in",
            "aws_config.custom_rules[0].name: 'restricted-ssh' is a curated rule",
            "aws_config.conformance_packs[0].template:",
        ]
        for text in expected:
            assert any(text in p for p in problems), (text, problems)
        assert len(problems) == len(expected)

    def test_schema_errors_name_the_path(self):
        data = example_data()
        data["aws_config"] = {
            "recording_frequency": "HOURLY",
            "excluded_resource_types": ["EC2"],
            "snapshot_delivery_frequency": "Daily",
        }
        with pytest.raises(ConfigError) as error:
            parse_config(data)
        text = "\n".join(error.value.problems)
        assert "aws_config.recording_frequency" in text
        assert "aws_config.excluded_resource_types: ['EC2'] 'EC2' is not a resource type" in text
        assert "aws_config.snapshot_delivery_frequency" in text

    def test_excluding_the_only_type_a_rule_evaluates(self):
        data = example_data()
        data["aws_config"] = {"excluded_resource_types": ["AWS::EC2::Volume"]}
        with pytest.raises(ConfigError, match=r"rule 'encrypted-volumes' evaluates only \['AWS::EC2::Volume'\]"):
            parse_config(data)
        data["aws_config"]["rules"] = {"encrypted-volumes": False}
        assert parse_config(data).aws_config.excluded_resource_types == ["AWS::EC2::Volume"]

    def test_unknown_key(self):
        data = example_data()
        data["aws_config"] = {"colour": "blue"}
        with pytest.raises(ConfigError, match=r"aws_config: unknown key\(s\) 'colour'; allowed: enabled"):
            parse_config(data)

    def test_adopting_with_recorder_options(self):
        data = copy.deepcopy(example_data())
        data["aws_config"] = {"existing_recorder_name": "ct", "recording_frequency": "DAILY"}
        with pytest.raises(ConfigError, match="so recording_frequency would have no effect"):
            parse_config(data)


class TestReadme:
    """The AWS Config section of docs/constructs.md stays true: its example runs and its numbers hold."""

    @staticmethod
    def section() -> str:
        text = (Path(__file__).resolve().parents[2] / "docs" / "constructs.md").read_text()
        start = text.index("## AWS Config")
        end = text.find("\n## ", start + 1)
        return text[start : end if end != -1 else None]

    def test_python_example_runs(self):
        section = self.section()
        code = section.split("```python\n", 1)[1].split("```", 1)[0]
        exec(compile(code, "docs/constructs.md#aws-config", "exec"), {})

    def test_rule_count_and_home_region_rules(self):
        section = self.section()
        assert f"| {len(CURATED_RULES)} curated rules;" in section
        for name in ("iam-root-access-key-check", "root-account-mfa-enabled", "cloudtrail-enabled"):
            assert CURATED_RULES[name].home_region_only
