"""ConfigRules and ConfigAggregator: curated rules, switches, custom rules, packs, alerts, errors, gates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    CURATED_RULES,
    ConfigAggregator,
    ConfigRecorder,
    ConfigRules,
    ConformancePack,
    ConformancePackTemplate,
    CustomManagedRule,
    ManagedRuleSpec,
)
from constructs_lib.config_rules import DERIVED_PREFIX_LENGTH, MAX_RULE_NAME_LENGTH, MAX_TEMPLATE_BODY_BYTES
from stacks.compliance import add_compliance_checks
from tests.conftest import cfn_lint, new_stack

ACCOUNT = "111111111111"
HOME_ONLY = {name for name, spec in CURATED_RULES.items() if spec.home_region_only}


def rules_by_name(template: Template) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["ConfigRuleName"]: r for r in template.find_resources("AWS::Config::ConfigRule").values()}


def with_recorder(**props: Any) -> tuple[cdk.Stack, ConfigRecorder, Template]:
    """Rules with the bare curated names (``rule_name_prefix=""``, asked for) unless a test gives a prefix."""
    stack = new_stack()
    recorder = ConfigRecorder(stack, "Recorder", bucket=s3.Bucket.from_bucket_name(stack, "B", "config-bucket"))
    ConfigRules(stack, "Rules", recorder=recorder, **{"rule_name_prefix": "", **props})
    return stack, recorder, Template.from_stack(stack)


@pytest.fixture(scope="module")
def default() -> tuple[cdk.Stack, ConfigRecorder, Template]:
    return with_recorder()


class TestCuratedRules:
    def test_every_curated_rule_in_the_home_region(self, default):
        _, _, template = default
        assert set(rules_by_name(template)) == set(CURATED_RULES)

    def test_sources_are_the_documented_managed_identifiers(self, default):
        _, _, template = default
        rules = rules_by_name(template)
        expected = {
            "cloudtrail-enabled": "CLOUD_TRAIL_ENABLED",
            "multi-region-cloudtrail-enabled": "MULTI_REGION_CLOUD_TRAIL_ENABLED",
            "cloudtrail-log-file-validation-enabled": "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
            "cloud-trail-encryption-enabled": "CLOUD_TRAIL_ENCRYPTION_ENABLED",
            "cloud-trail-cloud-watch-logs-enabled": "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED",
            "cloudwatch-alarm-action-check": "CLOUDWATCH_ALARM_ACTION_CHECK",
            "vpc-flow-logs-enabled": "VPC_FLOW_LOGS_ENABLED",
            "cw-loggroup-retention-period-check": "CW_LOGGROUP_RETENTION_PERIOD_CHECK",
            "s3-account-level-public-access-blocks-periodic": "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
            "s3-bucket-level-public-access-prohibited": "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
            "s3-bucket-ssl-requests-only": "S3_BUCKET_SSL_REQUESTS_ONLY",
            "cmk-backing-key-rotation-enabled": "CMK_BACKING_KEY_ROTATION_ENABLED",
            "iam-root-access-key-check": "IAM_ROOT_ACCESS_KEY_CHECK",
            "root-account-mfa-enabled": "ROOT_ACCOUNT_MFA_ENABLED",
            "iam-password-policy": "IAM_PASSWORD_POLICY",
            "restricted-ssh": "INCOMING_SSH_DISABLED",
            "encrypted-volumes": "ENCRYPTED_VOLUMES",
            "ec2-ebs-encryption-by-default": "EC2_EBS_ENCRYPTION_BY_DEFAULT",
            "cloudwatch-log-group-encrypted": "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
        }
        assert {name: r["Properties"]["Source"]["SourceIdentifier"] for name, r in rules.items()} == expected
        assert all(r["Properties"]["Source"]["Owner"] == "AWS" for r in rules.values())

    def test_parameters_scope_and_frequency(self, default):
        _, _, template = default
        rules = rules_by_name(template)
        assert rules["cw-loggroup-retention-period-check"]["Properties"]["InputParameters"] == {
            "MinRetentionTime": "365"
        }
        assert rules["cloudwatch-alarm-action-check"]["Properties"]["InputParameters"] == {
            "alarmActionRequired": "true",
            "insufficientDataActionRequired": "false",
            "okActionRequired": "false",
        }
        assert rules["restricted-ssh"]["Properties"]["Scope"] == {
            "ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]
        }
        assert rules["root-account-mfa-enabled"]["Properties"]["MaximumExecutionFrequency"] == "TwentyFour_Hours"

    def test_every_rule_waits_for_recorder_and_delivery_channel(self, default):
        stack, recorder, template = default
        recorder_id = stack.get_logical_id(recorder.recorder)
        channel_id = stack.get_logical_id(recorder.delivery_channel)
        for name, rule in rules_by_name(template).items():
            assert {recorder_id, channel_id} <= set(rule.get("DependsOn", [])), name

    def test_outside_home_region_only_regional_rules(self):
        _, _, template = with_recorder(home_region=False)
        names = set(rules_by_name(template))
        assert names == set(CURATED_RULES) - HOME_ONLY
        assert {"iam-root-access-key-check", "root-account-mfa-enabled", "cloudtrail-enabled"} <= HOME_ONLY

    def test_switch_off_override_and_prefix(self):
        _, _, template = with_recorder(
            rule_name_prefix="acme-",
            disabled_rules=["restricted-ssh", "encrypted-volumes"],
            parameter_overrides={"cw-loggroup-retention-period-check": {"MinRetentionTime": "731"}},
        )
        rules = rules_by_name(template)
        assert "acme-restricted-ssh" not in rules and "acme-encrypted-volumes" not in rules
        assert len(rules) == len(CURATED_RULES) - 2
        assert rules["acme-cw-loggroup-retention-period-check"]["Properties"]["InputParameters"] == {
            "MinRetentionTime": "731"
        }

    def test_rule_logical_ids_do_not_depend_on_the_prefix(self):
        _, _, plain = with_recorder()
        _, _, prefixed = with_recorder(rule_name_prefix="acme-")
        assert set(plain.find_resources("AWS::Config::ConfigRule")) == set(
            prefixed.find_resources("AWS::Config::ConfigRule")
        )

    def test_without_recorder_no_dependencies(self):
        stack = new_stack()
        ConfigRules(stack, "Rules")
        template = Template.from_stack(stack)
        for rule in template.find_resources("AWS::Config::ConfigRule").values():
            assert "DependsOn" not in rule


class TestRuleNames:
    def test_default_prefix_comes_from_the_construct_path(self):
        stack = new_stack()
        rules = ConfigRules(stack, "Rules")
        prefix = rules.rule_name_prefix
        # <stack>-<path> shortened around an 8-character hash of the path, then '-'.
        assert re.fullmatch(r"Test[A-Za-z0-9-]*[0-9A-F]{8}-", prefix), prefix
        assert len(prefix) <= DERIVED_PREFIX_LENGTH + 1
        # Derived from the path only: the same path in another synth gives the same names (no rename on redeploy).
        assert ConfigRules(new_stack(), "Rules").rule_name_prefix == prefix
        names = set(rules_by_name(Template.from_stack(stack)))
        assert names == {prefix + name for name in CURATED_RULES}
        # The longest curated name still fits AWS Config's 64 characters.
        assert max(len(name) for name in names) <= MAX_RULE_NAME_LENGTH

    def test_two_rule_sets_in_one_stack_do_not_collide(self):
        stack = new_stack()
        first = ConfigRules(stack, "Rules")
        second = ConfigRules(stack, "TeamRules")
        assert first.rule_name_prefix != second.rule_name_prefix
        names = list(rules_by_name(Template.from_stack(stack)))
        assert len(names) == 2 * len(CURATED_RULES)

    def test_the_same_rule_name_asked_for_twice_fails_naming_both_paths(self):
        stack = new_stack()
        ConfigRules(stack, "Rules", rule_name_prefix="acme-")
        with pytest.raises(
            ValueError,
            match=r"Config rule name 'acme-cloudtrail-enabled' is asked for twice in 111111111111/eu-west-1: "
            r"by TestStack/Rules and by TestStack/Again",
        ):
            ConfigRules(stack, "Again", rule_name_prefix="acme-")

    def test_the_same_pack_name_twice_fails(self):
        stack = new_stack()
        pack = ConformancePack(name="logging", template=ConformancePackTemplate.bundled("logging-and-monitoring"))
        ConfigRules(stack, "Rules", rule_name_prefix="a-", conformance_packs=[pack])
        with pytest.raises(ValueError, match=r"Config conformance pack name 'logging' is asked for twice"):
            ConfigRules(stack, "Again", rule_name_prefix="b-", conformance_packs=[pack])

    def test_a_prefix_that_makes_a_name_too_long_is_refused(self):
        prefix = "a" * 20 + "-"
        with pytest.raises(ValueError, match=r"makes rule names longer than AWS Config's 64 characters: ") as error:
            ConfigRules(new_stack(), "Rules", rule_name_prefix=prefix)
        assert f"{prefix}s3-account-level-public-access-blocks-periodic" in str(error.value)
        assert f"{prefix}restricted-ssh," not in str(error.value)


class TestCustomRulesAndPacks:
    def test_custom_rule_with_parameters_and_scope(self):
        _, _, template = with_recorder(
            custom_rules=[
                CustomManagedRule(
                    name="rds-storage-encrypted",
                    spec=ManagedRuleSpec(
                        identifier="RDS_STORAGE_ENCRYPTED",
                        description="An RDS instance is not encrypted.",
                        input_parameters={"kmsKeyArns": "arn:aws:kms:eu-west-1:111111111111:key/abc"},
                        resource_types=["AWS::RDS::DBInstance"],
                    ),
                ),
                CustomManagedRule(
                    name="iam-user-mfa",
                    spec=ManagedRuleSpec(
                        identifier="IAM_USER_MFA_ENABLED",
                        description="An IAM user has no MFA.",
                        maximum_execution_frequency="Twelve_Hours",
                        home_region_only=True,
                    ),
                ),
            ]
        )
        rules = rules_by_name(template)
        assert rules["rds-storage-encrypted"]["Properties"]["Source"]["SourceIdentifier"] == "RDS_STORAGE_ENCRYPTED"
        assert rules["rds-storage-encrypted"]["Properties"]["Scope"] == {
            "ComplianceResourceTypes": ["AWS::RDS::DBInstance"]
        }
        assert rules["rds-storage-encrypted"]["Properties"]["InputParameters"] == {
            "kmsKeyArns": "arn:aws:kms:eu-west-1:111111111111:key/abc"
        }
        assert rules["iam-user-mfa"]["Properties"]["MaximumExecutionFrequency"] == "Twelve_Hours"

    def test_home_region_only_custom_rule_skipped_elsewhere(self):
        spec = ManagedRuleSpec(identifier="IAM_USER_MFA_ENABLED", description="x", home_region_only=True)
        _, _, template = with_recorder(home_region=False, custom_rules=[CustomManagedRule(name="mfa", spec=spec)])
        assert "mfa" not in rules_by_name(template)

    def test_bundled_conformance_pack_waits_for_recorder(self):
        stack, recorder, template = with_recorder(
            conformance_packs=[
                ConformancePack(
                    name="logging",
                    template=ConformancePackTemplate.bundled("logging-and-monitoring"),
                    input_parameters={"S3BucketVersioningEnabledParamIsMfaDeleteEnabled": "false"},
                )
            ]
        )
        ((_, pack),) = template.find_resources("AWS::Config::ConformancePack").items()
        assert pack["Properties"]["ConformancePackName"] == "logging"
        assert "S3_BUCKET_VERSIONING_ENABLED" in pack["Properties"]["TemplateBody"]
        assert pack["Properties"]["ConformancePackInputParameters"] == [
            {"ParameterName": "S3BucketVersioningEnabledParamIsMfaDeleteEnabled", "ParameterValue": "false"}
        ]
        assert stack.get_logical_id(recorder.recorder) in pack["DependsOn"]

    def test_pack_from_user_file_and_from_s3(self, tmp_path):
        path = tmp_path / "mine.yaml"
        path.write_text("Resources: {}\n")
        _, _, template = with_recorder(
            conformance_packs=[
                ConformancePack(name="mine", template=ConformancePackTemplate.from_file(path)),
                ConformancePack(name="big", template=ConformancePackTemplate.from_s3_uri("s3://packs-bucket/big.yaml")),
            ]
        )
        template.has_resource_properties(
            "AWS::Config::ConformancePack", {"ConformancePackName": "mine", "TemplateBody": "Resources: {}\n"}
        )
        template.has_resource_properties(
            "AWS::Config::ConformancePack",
            {
                "ConformancePackName": "big",
                "TemplateS3Uri": "s3://packs-bucket/big.yaml",
                "TemplateBody": Match.absent(),
            },
        )

    def test_template_errors(self, tmp_path):
        with pytest.raises(ValueError, match=r"'nope' is not a bundled pack; available: logging-and-monitoring"):
            ConformancePackTemplate.bundled("nope")
        with pytest.raises(ValueError, match="cannot be read"):
            ConformancePackTemplate.from_file(tmp_path / "missing.yaml")
        with pytest.raises(ValueError, match=f"accepts at most {MAX_TEMPLATE_BODY_BYTES}"):
            ConformancePackTemplate.from_body("#" * (MAX_TEMPLATE_BODY_BYTES + 1))
        with pytest.raises(ValueError, match="is not an s3://bucket/key URI"):
            ConformancePackTemplate.from_s3_uri("https://example.com/x.yaml")


class TestNonCompliantAlert:
    def test_eventbridge_rule_routes_non_compliant_results_to_the_topic(self):
        stack = new_stack()
        topic = sns.Topic(stack, "Alerts")
        ConfigRules(stack, "Rules", notification_topic=topic)
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventPattern": {
                    "source": ["aws.config"],
                    "detail-type": ["Config Rules Compliance Change"],
                    "detail": {
                        "messageType": ["ComplianceChangeNotification"],
                        "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
                    },
                },
                "Targets": [Match.object_like({"Arn": {"Ref": stack.get_logical_id(topic.node.default_child)}})],
            },
        )
        template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish"})]
                    )
                }
            },
        )

    def test_no_topic_no_event_rule(self, default):
        _, _, template = default
        template.resource_count_is("AWS::Events::Rule", 0)


class TestRuleErrors:
    def test_all_problems_reported_together(self):
        bad_spec = ManagedRuleSpec(
            identifier="not an id",
            description="x",
            resource_types=["EC2"],
            maximum_execution_frequency="Daily",
        )
        with pytest.raises(ValueError, match=r"6 problems") as error:
            ConfigRules(
                new_stack(),
                "Rules",
                disabled_rules=["no-such-rule"],
                parameter_overrides={"restricted-sshh": {"a": "b"}},
                custom_rules=[CustomManagedRule(name="restricted-ssh", spec=bad_spec)],
            )
        message = str(error.value)
        assert "disabled_rules: 'no-such-rule' is not a curated rule; known: cloudtrail-enabled" in message
        assert "parameter_overrides: 'restricted-sshh' is not a curated rule" in message
        assert "custom_rules[0].name: 'restricted-ssh' is a curated rule" in message
        assert "custom_rules[0].spec.identifier: 'not an id'" in message
        assert "custom_rules[0].spec.resource_types: 'EC2'" in message
        assert "custom_rules[0].spec.maximum_execution_frequency: 'Daily' is not one of One_Hour" in message

    def test_override_of_a_disabled_rule_and_non_string_parameter(self):
        with pytest.raises(ValueError, match=r"'restricted-ssh' is in disabled_rules") as error:
            ConfigRules(
                new_stack(),
                "Rules",
                disabled_rules=["restricted-ssh"],
                parameter_overrides={
                    "restricted-ssh": {"x": "y"},
                    "cw-loggroup-retention-period-check": {"MinRetentionTime": 365},  # type: ignore[dict-item]
                },
            )
        assert "365 is not a string" in str(error.value)

    def test_bad_prefix_and_pack_name(self):
        pack = ConformancePack(name="1-pack", template=ConformancePackTemplate.from_body("Resources: {}"))
        with pytest.raises(ValueError, match="2 problems") as error:
            ConfigRules(new_stack(), "Rules", rule_name_prefix="acme prod ", conformance_packs=[pack])
        assert "rule_name_prefix 'acme prod ' must be up to 31 letters" in str(error.value)
        assert "conformance_packs[0].name: '1-pack' is not a pack name" in str(error.value)

    def test_duplicate_names(self):
        spec = ManagedRuleSpec(identifier="IAM_USER_MFA_ENABLED", description="x")
        pack = ConformancePack(name="p", template=ConformancePackTemplate.from_body("Resources: {}"))
        with pytest.raises(ValueError, match="2 problems") as error:
            ConfigRules(
                new_stack(),
                "Rules",
                custom_rules=[CustomManagedRule(name="a", spec=spec), CustomManagedRule(name="a", spec=spec)],
                conformance_packs=[pack, pack],
            )
        assert "custom_rules[1].name: 'a' is used twice" in str(error.value)
        assert "conformance_packs[1].name: 'p' is used twice" in str(error.value)


class TestAggregator:
    def test_a_given_name_is_used_and_asked_for_twice_fails(self):
        stack = new_stack()
        ConfigAggregator(stack, "Org", aggregator_name="org", account_ids=[ACCOUNT])
        Template.from_stack(stack).has_resource_properties(
            "AWS::Config::ConfigurationAggregator", {"ConfigurationAggregatorName": "org"}
        )
        with pytest.raises(
            ValueError, match=r"Config aggregator name 'org' is asked for twice .* TestStack/Org .* TestStack/Again"
        ):
            ConfigAggregator(stack, "Again", aggregator_name="org", account_ids=[ACCOUNT])

    def test_organization_aggregator_with_its_role(self):
        stack = new_stack(account="333333333333")
        aggregator = ConfigAggregator(stack, "Aggregator", organization=True, regions=["eu-west-1", "us-east-1"])
        # No name given: one derived from the construct path, so two aggregators never collide.
        assert aggregator.aggregator_name.startswith("TestStack-Aggregator-")
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::Config::ConfigurationAggregator",
            {
                "ConfigurationAggregatorName": aggregator.aggregator_name,
                "OrganizationAggregationSource": {
                    "AwsRegions": ["eu-west-1", "us-east-1"],
                    "AllAwsRegions": Match.absent(),
                    "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^AggregatorRole"), "Arn"]},
                },
                "AccountAggregationSources": Match.absent(),
            },
        )
        template.has_resource_properties(
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        Match.object_like(
                            {
                                "Principal": {"Service": "config.amazonaws.com"},
                                "Condition": {"StringEquals": {"AWS:SourceAccount": "333333333333"}},
                            }
                        )
                    ]
                },
                "ManagedPolicyArns": [
                    {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":iam::aws:policy/service-role/AWSConfigRoleForOrganizations",
                            ],
                        ]
                    }
                ],
            },
        )

    def test_account_aggregator_all_regions(self):
        stack = new_stack()
        ConfigAggregator(stack, "Aggregator", account_ids=[ACCOUNT])
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::IAM::Role", 0)
        template.has_resource_properties(
            "AWS::Config::ConfigurationAggregator",
            {"AccountAggregationSources": [{"AccountIds": [ACCOUNT], "AllAwsRegions": True}]},
        )

    def test_errors(self):
        with pytest.raises(ValueError, match="give exactly one source"):
            ConfigAggregator(new_stack(), "A")
        with pytest.raises(ValueError, match="give exactly one source"):
            ConfigAggregator(new_stack(), "A", organization=True, account_ids=[ACCOUNT])
        with pytest.raises(ValueError, match=r"3 problems") as error:
            ConfigAggregator(new_stack(), "A", aggregator_name="a b", account_ids=["123"], regions=["mars-1"])
        assert "'123' is not a 12-digit account id" in str(error.value)
        assert "'mars-1' is not a region" in str(error.value)


@pytest.fixture(scope="module")
def compliant_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rules, packs, an alert to an encrypted topic and both aggregators under the four cdk-nag packs."""
    outdir = tmp_path_factory.mktemp("config-rules")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Rules", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    recorder = ConfigRecorder(stack, "Recorder", bucket=s3.Bucket.from_bucket_name(stack, "B", "config-bucket"))
    key = kms.Key(stack, "AlertKey", enable_key_rotation=True)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )
    topic = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
    ConfigRules(
        stack,
        "Rules",
        recorder=recorder,
        rule_name_prefix="acme-",
        conformance_packs=[
            ConformancePack(name="logging", template=ConformancePackTemplate.bundled("logging-and-monitoring"))
        ],
        notification_topic=topic,
    )
    ConfigAggregator(stack, "OrgAggregator", aggregator_name="org", organization=True, regions=["eu-west-1"])
    ConfigAggregator(stack, "AccountAggregator", aggregator_name="account", account_ids=[ACCOUNT])
    add_compliance_checks(app)
    app.synth()
    return outdir


def test_cdk_nag_packs_pass(compliant_assembly):
    template = json.loads((compliant_assembly / "Rules.template.json").read_text())
    assert sum(r["Type"] == "AWS::Config::ConfigRule" for r in template["Resources"].values()) == len(CURATED_RULES)


def test_cfn_lint_clean(compliant_assembly):
    templates = sorted(str(p) for p in compliant_assembly.glob("*.template.json"))
    result = cfn_lint(*templates)
    assert result.returncode == 0, result.stdout + result.stderr
