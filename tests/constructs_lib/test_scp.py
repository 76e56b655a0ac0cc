"""The SCP library: what each policy denies and what stays allowed, proven with the evaluator; validation."""

from __future__ import annotations

import copy
from typing import ClassVar

import pytest

from constructs_lib import scp
from constructs_lib.scp_evaluator import FULL_AWS_ACCESS, Request, evaluate

MEMBER = "444444444444"
WORKLOAD_ROLE = f"arn:aws:iam::{MEMBER}:role/shop-app"
ADMIN_ROLE = f"arn:aws:iam::{MEMBER}:role/cdk-hnb659fds-cfn-exec-role-{MEMBER}-eu-west-1"
BREAK_GLASS = f"arn:aws:iam::{MEMBER}:role/BreakGlass"
ROOT_USER = f"arn:aws:iam::{MEMBER}:root"
EXEMPT = ["cdk-hnb659fds-cfn-exec-role-*", "BreakGlass"]
TRAIL = "acme-organization-trail"
BUCKET = "acme-cloudtrail-222222222222-eu-west-1"
RESOURCES = scp.MonitoringResources(
    trail_names=[TRAIL],
    log_group_names=[f"/aws/cloudtrail/{TRAIL}", "acme-*"],
    alarm_names=["acme-*"],
    topic_names=["acme-*"],
    key_aliases=["alias/acme/*"],
    role_names=["CloudTrail_CloudWatchLogs_Role", "acme-*"],
    bucket_names=[BUCKET],
    flow_log_tag=("acme:baseline", "flow-logs"),
)
AUDIT = scp.protect_audit_logging_policy(resources=RESOURCES, exempt_role_names=EXEMPT)
MONITORING = scp.protect_monitoring_policy(resources=RESOURCES, exempt_role_names=EXEMPT)
GUARDRAILS = scp.guardrails_policy(
    exempt_role_names=EXEMPT, protect_security_services=True, allowed_regions=["eu-west-1", "us-east-1"]
)
ALL = [FULL_AWS_ACCESS, AUDIT, MONITORING, GUARDRAILS]


def decide(action: str, resource: str = "*", *, principal: str = WORKLOAD_ROLE, region: str = "eu-west-1", **context):
    return evaluate(
        ALL, Request(action=action, resource=resource, principal_arn=principal, region=region, context=context)
    )


def arn(service: str, resource: str, region: str = "eu-west-1") -> str:
    return f"arn:aws:{service}:{region}:{MEMBER}:{resource}"


# (guardrail, denied request, the same on a resource the baseline does not own)
PROTECTED = [
    (
        "cloudtrail stop",
        ("cloudtrail:StopLogging", arn("cloudtrail", f"trail/{TRAIL}")),
        arn("cloudtrail", "trail/team"),
    ),
    ("cloudtrail selectors", ("cloudtrail:PutEventSelectors", arn("cloudtrail", f"trail/{TRAIL}")), None),
    (
        "cloudtrail delete",
        ("cloudtrail:DeleteTrail", arn("cloudtrail", f"trail/{TRAIL}")),
        arn("cloudtrail", "trail/x"),
    ),
    ("config recorder", ("config:StopConfigurationRecorder", "*"), None),
    ("config channel", ("config:DeleteDeliveryChannel", "*"), None),
    (
        "log group delete",
        ("logs:DeleteLogGroup", arn("logs", f"log-group:/aws/cloudtrail/{TRAIL}")),
        arn("logs", "log-group:/team/app"),
    ),
    (
        "log group retention",
        ("logs:PutRetentionPolicy", arn("logs", f"log-group:/aws/cloudtrail/{TRAIL}:*")),
        arn("logs", "log-group:/team/app:*"),
    ),
    ("metric filter", ("logs:DeleteMetricFilter", arn("logs", "log-group:acme-flow-logs")), arn("logs", "log-group:x")),
    ("alarm", ("cloudwatch:DeleteAlarms", arn("cloudwatch", "alarm:acme-root-usage")), arn("cloudwatch", "alarm:team")),
    ("topic", ("sns:DeleteTopic", arn("sns", "acme-critical")), arn("sns", "team-topic")),
    ("role", ("iam:DeleteRole", f"arn:aws:iam::{MEMBER}:role/CloudTrail_CloudWatchLogs_Role"), None),
    ("role policy", ("iam:PutRolePolicy", f"arn:aws:iam::{MEMBER}:role/acme-config"), f"arn:aws:iam::{MEMBER}:role/x"),
    ("bucket delete", ("s3:DeleteBucket", f"arn:aws:s3:::{BUCKET}"), "arn:aws:s3:::team-bucket"),
    ("bucket policy", ("s3:PutBucketPolicy", f"arn:aws:s3:::{BUCKET}"), "arn:aws:s3:::team-bucket"),
    ("object lock", ("s3:PutBucketObjectLockConfiguration", f"arn:aws:s3:::{BUCKET}"), "arn:aws:s3:::team-bucket"),
    ("key alias", ("kms:DeleteAlias", arn("kms", "alias/acme/log-archive")), arn("kms", "alias/team")),
    ("leave organization", ("organizations:LeaveOrganization", "*"), None),
    ("guardduty", ("guardduty:DeleteDetector", "*"), None),
    ("security hub", ("securityhub:DisableSecurityHub", "*"), None),
    ("access analyzer", ("access-analyzer:DeleteAnalyzer", "*"), None),
]


TAGGED = scp.MonitoringResources(trail_names=[TRAIL], config_rule_tag=("monitoring-baseline", "acme"))
TAGGED_AUDIT = scp.protect_audit_logging_policy(resources=TAGGED, exempt_role_names=EXEMPT)


class TestConfigRulesByTag:
    """With the baseline's rules tagged, teams keep managing their own rules; the baseline's stay protected."""

    RULE = arn("config", "config-rule/config-rule-ab12cd")
    BASELINE: ClassVar[dict[str, str]] = {"aws:ResourceTag/monitoring-baseline": "acme"}

    def decide(self, action: str, *, principal: str = WORKLOAD_ROLE, **context):
        request = Request(
            action=action, resource=self.RULE, principal_arn=principal, region="eu-west-1", context=context
        )
        return evaluate([FULL_AWS_ACCESS, TAGGED_AUDIT], request)

    @pytest.mark.parametrize("action", scp.CONFIG_RULE_ACTIONS)
    def test_baseline_rule_is_protected(self, action):
        assert self.decide(action, **self.BASELINE).denied

    @pytest.mark.parametrize("action", scp.CONFIG_RULE_ACTIONS)
    def test_team_rule_stays_manageable(self, action):
        assert self.decide(action).allowed
        assert self.decide(action, **{"aws:ResourceTag/monitoring-baseline": "other"}).allowed

    def test_the_deployer_may_change_the_baseline_rules(self):
        assert self.decide("config:PutConfigRule", principal=ADMIN_ROLE, **self.BASELINE).allowed

    def test_the_recorder_stays_protected_account_wide(self):
        assert evaluate(
            [FULL_AWS_ACCESS, TAGGED_AUDIT],
            Request(action="config:StopConfigurationRecorder", principal_arn=WORKLOAD_ROLE, region="eu-west-1"),
        ).denied

    def test_first_tagging_of_an_untagged_rule_passes_and_retagging_does_not(self):
        """ConfigRuleTags' function is no deployer: it may tag a rule once (the rule has no tag yet),
        which is why it reads the tags first and leaves tagged rules alone."""
        tagger = f"arn:aws:iam::{MEMBER}:role/acme-stackset-RuleTagsRole-ABC"
        assert self.decide("config:TagResource", principal=tagger).allowed
        assert self.decide("config:TagResource", principal=tagger, **self.BASELINE).denied


class TestProtection:
    @pytest.mark.parametrize(("name", "request_", "other"), PROTECTED, ids=[p[0] for p in PROTECTED])
    def test_workload_role_is_denied(self, name, request_, other):
        action, resource = request_
        decision = decide(action, resource)
        assert decision.denied, f"{name}: {action} on {resource} should be denied"

    @pytest.mark.parametrize(("name", "request_", "other"), PROTECTED, ids=[p[0] for p in PROTECTED])
    @pytest.mark.parametrize("admin", [ADMIN_ROLE, BREAK_GLASS])
    def test_exempted_roles_stay_allowed(self, name, request_, other, admin):
        action, resource = request_
        decision = decide(action, resource, principal=admin)
        assert decision.allowed, f"{name}: {admin} should be allowed, denied by {decision.denied_by}"

    @pytest.mark.parametrize(
        ("name", "request_", "other"), [p for p in PROTECTED if p[2]], ids=[p[0] for p in PROTECTED if p[2]]
    )
    def test_same_action_on_resources_outside_the_baseline_stays_allowed(self, name, request_, other):
        action, _ = request_
        assert decide(action, other).allowed

    def test_action_names_are_case_insensitive(self):
        assert decide("CloudTrail:stoplogging", arn("cloudtrail", f"trail/{TRAIL}")).denied

    def test_key_deletion_is_denied_only_for_keys_with_a_baseline_alias(self):
        key = arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")
        assert decide("kms:ScheduleKeyDeletion", key, **{"kms:ResourceAliases": ["alias/acme/log-archive"]}).denied
        assert decide("kms:ScheduleKeyDeletion", key, **{"kms:ResourceAliases": ["alias/team"]}).allowed
        assert decide("kms:ScheduleKeyDeletion", key).allowed  # a key without aliases
        assert decide("kms:DisableKey", key, principal=BREAK_GLASS, **{"kms:ResourceAliases": ["alias/acme/x"]}).allowed

    def test_flow_log_deletion_is_denied_only_for_tagged_flow_logs(self):
        flow_log = arn("ec2", "vpc-flow-log/fl-123")
        assert decide("ec2:DeleteFlowLogs", flow_log, **{"aws:ResourceTag/acme:baseline": "flow-logs"}).denied
        assert decide("ec2:DeleteFlowLogs", flow_log).allowed

    def test_without_a_rule_tag_every_config_rule_is_protected(self):
        rule = arn("config", "config-rule/config-rule-team01")
        assert decide("config:DeleteConfigRule", rule).denied
        assert "ProtectConfigRules" not in str(AUDIT)

    def test_reading_the_protected_resources_stays_allowed(self):
        assert decide("cloudtrail:GetTrailStatus", arn("cloudtrail", f"trail/{TRAIL}")).allowed
        assert decide("iam:GetRole", f"arn:aws:iam::{MEMBER}:role/CloudTrail_CloudWatchLogs_Role").allowed
        assert decide("s3:GetObject", f"arn:aws:s3:::{BUCKET}/AWSLogs/x").allowed
        assert decide("logs:FilterLogEvents", arn("logs", f"log-group:/aws/cloudtrail/{TRAIL}:*")).allowed


class TestRootUserAndRegions:
    def test_root_user_of_a_member_account_is_denied_everything(self):
        assert decide("s3:ListAllMyBuckets", principal=ROOT_USER).denied
        assert decide("ec2:RunInstances", principal=ROOT_USER).denied

    def test_roles_are_not_the_root_user(self):
        assert decide("ec2:RunInstances", principal=WORKLOAD_ROLE).allowed

    def test_ungoverned_region_is_denied(self):
        assert decide("ec2:RunInstances", region="ap-south-1").denied

    def test_governed_regions_stay_allowed(self):
        assert decide("ec2:RunInstances", region="eu-west-1").allowed
        assert decide("ec2:RunInstances", region="us-east-1").allowed

    def test_global_services_stay_allowed_from_any_region(self):
        for action in ("iam:CreateRole", "sts:AssumeRole", "organizations:DescribeOrganization", "support:CreateCase"):
            assert decide(action, region="ap-south-1").allowed, action

    def test_exempted_role_may_use_any_region(self):
        assert decide("ec2:RunInstances", region="ap-south-1", principal=BREAK_GLASS).allowed

    def test_standalone_region_policy_equals_the_guardrail_statement(self):
        alone = scp.region_restriction_policy(allowed_regions=["eu-west-1", "us-east-1"], exempt_role_names=EXEMPT)
        assert alone["Statement"][0] in GUARDRAILS["Statement"]


class TestShape:
    def test_every_statement_exempts_the_admin_roles(self):
        expected = ["arn:aws:iam::*:role/cdk-hnb659fds-cfn-exec-role-*", "arn:aws:iam::*:role/BreakGlass"]
        for policy in (AUDIT, MONITORING, GUARDRAILS):
            for statement in policy["Statement"]:
                assert statement["Condition"]["ArnNotLike"] == {"aws:PrincipalARN": expected}, statement["Sid"]

    def test_sids_per_policy(self):
        assert [s["Sid"] for s in AUDIT["Statement"]] == [
            "ProtectCloudTrail",
            "ProtectConfig",
            "ProtectLogArchiveBuckets",
        ]
        assert [s["Sid"] for s in MONITORING["Statement"]] == [
            "ProtectLogGroups",
            "ProtectAlarms",
            "ProtectTopics",
            "ProtectKeys",
            "ProtectKeyAliases",
            "ProtectFlowLogs",
            "ProtectRoles",
        ]
        assert [s["Sid"] for s in GUARDRAILS["Statement"]] == [
            "DenyLeaveOrganization",
            "DenyRootUser",
            "ProtectSecurityServices",
            "DenyUngovernedRegions",
        ]

    def test_partition_is_a_parameter(self):
        policy = scp.protect_audit_logging_policy(resources=RESOURCES, exempt_role_names=EXEMPT, partition="aws-cn")
        text = scp.minify(policy)
        assert "arn:aws-cn:cloudtrail:*:*:trail/" in text and "arn:aws:" not in text
        assert scp.policy_problems(policy, exempt_role_names=EXEMPT, partition="aws-cn") == []

    def test_optional_statements_are_left_out(self):
        policy = scp.protect_audit_logging_policy(
            resources=scp.MonitoringResources(bucket_names=[BUCKET], protect_config=False), exempt_role_names=EXEMPT
        )
        assert [s["Sid"] for s in policy["Statement"]] == ["ProtectLogArchiveBuckets"]
        guard = scp.guardrails_policy(exempt_role_names=EXEMPT, deny_root_user=False)
        assert [s["Sid"] for s in guard["Statement"]] == ["DenyLeaveOrganization"]

    def test_minified_policies_fit_the_quota(self):
        for policy in (AUDIT, MONITORING, GUARDRAILS):
            assert scp.size_in_bytes(policy) <= scp.MAX_POLICY_BYTES
            assert "\n" not in scp.minify(policy) and '", "' not in scp.minify(policy)


class TestBuilderErrors:
    def test_exempt_roles_are_required(self):
        with pytest.raises(ValueError, match=r"exempt_role_names needs at least one role .*got \[\]"):
            scp.guardrails_policy(exempt_role_names=[])

    def test_invalid_role_name_and_partition_reported_together(self):
        with pytest.raises(ValueError, match=r"2 problems:(.|\n)*'bad role'(.|\n)*partition 'amazon'"):
            scp.guardrails_policy(exempt_role_names=["bad role"], partition="amazon")

    def test_nothing_to_protect(self):
        with pytest.raises(ValueError, match="protect_monitoring_policy: resources names nothing to protect"):
            scp.protect_monitoring_policy(resources=scp.MonitoringResources(), exempt_role_names=EXEMPT)

    def test_all_guardrails_off(self):
        with pytest.raises(ValueError, match="every guardrail is turned off"):
            scp.guardrails_policy(exempt_role_names=EXEMPT, deny_leave_organization=False, deny_root_user=False)

    def test_bad_regions(self):
        with pytest.raises(ValueError, match=r"\['Ireland'\] are not region names"):
            scp.region_restriction_policy(allowed_regions=["Ireland"], exempt_role_names=EXEMPT)
        with pytest.raises(ValueError, match="allowed_regions needs at least one region"):
            scp.region_restriction_policy(allowed_regions=[], exempt_role_names=EXEMPT)

    def test_monitoring_resources_errors_reported_together(self):
        with pytest.raises(ValueError, match=r"MonitoringResources: 3 problems"):
            scp.MonitoringResources(trail_names="one-trail", key_aliases=["acme/*"], role_names=["a b"])


def valid() -> dict:
    return copy.deepcopy(GUARDRAILS)


class TestValidation:
    def test_the_library_policies_are_valid(self):
        for policy in (AUDIT, MONITORING, GUARDRAILS, FULL_AWS_ACCESS):
            assert scp.policy_problems(policy, exempt_role_names=EXEMPT) == []

    def test_oversized_policy(self):
        policy = valid()
        policy["Statement"][0]["Resource"] = [f"arn:aws:s3:::bucket-{i:04d}" for i in range(250)]
        with pytest.raises(ValueError, match=r"is \d+ bytes as sent \(minified\), over the 5120-byte SCP quota"):
            scp.validate_policy(policy, name="big")

    def test_whitespace_does_not_count(self):
        policy = valid()
        assert scp.size_in_bytes(policy) == len(scp.minify(policy))
        assert scp.size_in_bytes(policy) < len(__import__("json").dumps(policy, indent=2))

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda p: p.update(Version="2008-10-17"), r"Version: '2008-10-17' must be '2012-10-17'"),
            (lambda p: p.update(Statement=[]), r"Statement: expected a non-empty list"),
            (lambda p: p.update(Extra=1), r"unknown top-level key\(s\) \['Extra'\]"),
            (lambda p: p["Statement"][0].update(Effect="Block"), r"Effect: 'Block' must be 'Allow' or 'Deny'"),
            (lambda p: p["Statement"][0].update(NotAction="s3:*"), r"needs exactly one of Action or NotAction"),
            (lambda p: p["Statement"][0].pop("Action"), r"needs exactly one of Action or NotAction, got neither"),
            (lambda p: p["Statement"][0].update(Action="StopLogging"), r"Action: 'StopLogging' is not '\*' or"),
            (lambda p: p["Statement"][0].pop("Resource"), r"needs exactly one of Resource or NotResource"),
            (lambda p: p["Statement"][0].update(Resource="my-bucket"), r"Resource: 'my-bucket' is not '\*' or an ARN"),
            (lambda p: p["Statement"][0].update(Principal="*"), r"Principal is not supported in SCPs"),
            (lambda p: p["Statement"][0].update(Sid="DenyRootUser"), r"Sid 'DenyRootUser' is used twice"),
            (lambda p: p["Statement"][0].update(Sid="no-dashes"), r"Sid 'no-dashes' may hold only letters and digits"),
            (
                lambda p: p["Statement"][0]["Condition"].update(StringMatches={"aws:x": "y"}),
                r"'StringMatches' is not an IAM condition operator",
            ),
            (
                lambda p: p["Statement"][0]["Condition"].update(StringEquals={"aws:x": {"nested": 1}}),
                r"Condition.StringEquals.aws:x: \{'nested': 1\} must be a string",
            ),
        ],
    )
    def test_grammar_errors(self, mutate, message):
        policy = valid()
        mutate(policy)
        with pytest.raises(ValueError, match=message):
            scp.validate_policy(policy, name="guardrails")

    def test_valid_operator_variants_pass(self):
        policy = valid()
        policy["Statement"][0]["Condition"].update(
            {
                "StringEqualsIfExists": {"aws:x": "y"},
                "ForAnyValue:StringLike": {"aws:TagKeys": ["a*"]},
                "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                "Null": {"aws:y": "true"},
            }
        )
        assert scp.policy_problems(policy) == []

    def test_allow_statements_need_no_exemption(self):
        assert scp.policy_problems(FULL_AWS_ACCESS, exempt_role_names=EXEMPT) == []

    def test_deny_without_exemption_locks_out_the_admin_roles(self):
        policy = valid()
        del policy["Statement"][0]["Condition"]
        with pytest.raises(ValueError, match=r"denies the exempted role 'BreakGlass'; add \{'ArnNotLike'"):
            scp.validate_policy(policy, name="guardrails", exempt_role_names=EXEMPT)

    def test_exemption_of_other_roles_does_not_count(self):
        policy = valid()
        policy["Statement"][0]["Condition"] = scp.exemption(["SomeoneElse"])
        with pytest.raises(ValueError, match=r"2 problems(.|\n)*'cdk-hnb659fds-cfn-exec-role-\*'(.|\n)*'BreakGlass'"):
            scp.validate_policy(policy, name="guardrails", exempt_role_names=EXEMPT)

    def test_wildcard_exemption_covers_the_named_role(self):
        policy = valid()
        for statement in policy["Statement"]:
            statement["Condition"]["ArnNotLike"] = {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}
        assert scp.policy_problems(policy, exempt_role_names=EXEMPT) == []

    def test_non_object_policy(self):
        assert scp.policy_problems(["not", "a", "policy"]) == ["expected a JSON object, got list"]


class TestAttachments:
    def test_within_quota(self):
        assert scp.attachment_problems({"root": ["a", "b", "c", "d"]}) == []

    def test_full_aws_access_counts(self):
        (problem,) = scp.attachment_problems({"ou Workloads": ["a", "b", "c", "d", "e"]})
        assert "5 SCPs" in problem and "(FullAWSAccess takes one)" in problem and "attach at most 4" in problem
        assert scp.attachment_problems({"root": ["a", "b", "c", "d", "e"]}, full_aws_access_attached=False) == []

    def test_duplicates(self):
        assert scp.attachment_problems({"account shop": ["a", "a"]}) == ["account shop: ['a'] attached more than once"]
