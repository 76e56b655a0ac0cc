"""ConfigRuleTags: tags Config rules through one custom resource with inline code, least privilege,
conditional rules tagged only where they exist, errors, nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_config as config
from aws_cdk.assertions import Template

from constructs_lib import ConfigRules, ConfigRuleTags
from constructs_lib.config_rule_tags import HANDLER
from stacks.compliance import add_compliance_checks
from tests.conftest import CDK_CONTEXT, cfn_lint, new_stack, only

TAG = ("monitoring-baseline", "acme")


def rule(stack: cdk.Stack, name: str) -> config.ManagedRule:
    return config.ManagedRule(stack, name, identifier="ROOT_ACCOUNT_MFA_ENABLED", config_rule_name=name)


@pytest.fixture(scope="module")
def tagged() -> tuple[ConfigRuleTags, Template]:
    stack = new_stack()
    plain = rule(stack, "plain")
    home = rule(stack, "home-only")
    condition = cdk.CfnCondition(stack, "IsHomeRegion", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, "eu-west-1"))
    home.node.default_child.cfn_options.condition = condition
    tags = ConfigRuleTags(stack, "RuleTags", rules=[plain, home], tag=TAG)
    return tags, Template.from_stack(stack)


def test_custom_resource_names_every_rule_and_the_tag(tagged):
    _, template = tagged
    _, resource = only(template, "Custom::ConfigRuleTags")
    properties = resource["Properties"]
    assert properties["TagKey"] == "monitoring-baseline" and properties["TagValue"] == "acme"
    plain, home = properties["RuleArns"]
    assert plain["Fn::GetAtt"][1] == "Arn"
    # The conditional rule is tagged only where its condition holds.
    assert home["Fn::If"][0] == "IsHomeRegion"
    assert home["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_function_code_is_inline_and_logs_to_a_retained_group_of_its_own(tagged):
    _, template = tagged
    _, function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Code"] == {"ZipFile": HANDLER}
    assert function["Properties"]["Runtime"].startswith("python3.")
    group_id, group = only(template, "AWS::Logs::LogGroup")
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": group_id}
    assert group["DeletionPolicy"] == "Retain" and group["Properties"]["RetentionInDays"] == 365


def test_role_may_only_read_and_add_tags_on_config_rules_and_write_its_log(tagged):
    _, template = tagged
    _, role = only(template, "AWS::IAM::Role")
    (policy,) = role["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[0]["Action"] == ["config:ListTagsForResource", "config:TagResource"]
    assert ":config-rule/*" in json.dumps(statements[0]["Resource"])
    assert statements[1]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert "ManagedPolicyArns" not in role["Properties"]  # no AWSLambdaBasicExecutionRole


def test_handler_tags_only_untagged_rules_and_never_undoes_on_delete():
    calls: list[tuple[str, Any]] = []

    class FakeConfig:
        def list_tags_for_resource(self, ResourceArn):
            return {"Tags": [{"Key": "monitoring-baseline", "Value": "acme"}] if ResourceArn.endswith("done") else []}

        def tag_resource(self, ResourceArn, Tags):
            calls.append((ResourceArn, Tags))

    sent: list[str] = []

    class FakeResponse:
        SUCCESS, FAILED = "SUCCESS", "FAILED"

        @staticmethod
        def send(event, context, status, data, physical_id, reason=None):
            sent.append(status)

    namespace: dict[str, Any] = {}
    code = HANDLER.replace("import boto3\nimport cfnresponse\n", "").replace('config = boto3.client("config")', "")
    exec(compile(code, "handler", "exec"), namespace)  # the template's code, with fakes for its two imports
    namespace.update(config=FakeConfig(), cfnresponse=FakeResponse)
    event = {
        "RequestType": "Create",
        "LogicalResourceId": "RuleTags",
        "ResourceProperties": {"TagKey": "monitoring-baseline", "TagValue": "acme", "RuleArns": ["a:new", "a:done"]},
    }
    namespace["handler"](event, None)
    assert calls == [("a:new", [{"Key": "monitoring-baseline", "Value": "acme"}])]
    namespace["handler"]({**event, "RequestType": "Delete"}, None)
    assert len(calls) == 1 and sent == ["SUCCESS", "SUCCESS"]


def test_config_rules_tags_its_rules_with_protection_tag():
    stack = new_stack()
    rules = ConfigRules(stack, "Rules", protection_tag=TAG)
    assert rules.rule_tags is not None
    _, resource = only(Template.from_stack(stack), "Custom::ConfigRuleTags")
    assert len(resource["Properties"]["RuleArns"]) == len(rules.rules)
    assert ConfigRules(new_stack(), "Rules").rule_tags is None


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (("aws:owner", "x"), r"key 'aws:owner' is not a tag key"),
        (("k", "v" * 300), r"is not a tag value"),
        ("monitoring-baseline", r"tag: expected \(key, value\)"),
    ],
)
def test_bad_tag(tag, message):
    stack = new_stack()
    with pytest.raises(ValueError, match=message):
        ConfigRuleTags(stack, "RuleTags", rules=[rule(stack, "r")], tag=tag)


def test_no_rules():
    with pytest.raises(ValueError, match=r"rules: nothing to tag"):
        ConfigRuleTags(new_stack(), "RuleTags", rules=[], tag=TAG)


def test_compliance_packs_and_cfn_lint_pass(tmp_path: Path):
    app = cdk.App(outdir=str(tmp_path), context=dict(CDK_CONTEXT))
    stack = cdk.Stack(app, "Tags", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    ConfigRuleTags(stack, "RuleTags", rules=[rule(stack, "r")], tag=TAG)
    add_compliance_checks(app)
    app.synth()
    lint = cfn_lint(str(tmp_path / "Tags.template.json"))
    assert lint.returncode == 0, lint.stdout + lint.stderr
