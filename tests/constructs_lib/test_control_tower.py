"""AccountFactoryRollout: Control Tower lifecycle events start a least-privilege roll-out of one StackSet."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from moto.events.models import EventPattern

from constructs_lib import AccountFactoryRollout, lifecycle_event_pattern
from stacks.compliance import add_compliance_checks
from tests.conftest import CDK_CONTEXT, by_sid, cfn_lint, new_stack

MANAGEMENT = "111111111111"
VENDED = "666666666666"
OU = "ou-a1b2-c3d4e5f6"
STACK_SET = "acme-workload-baseline"


def lifecycle_event(event_name: str, state: str = "SUCCEEDED", ou: str = OU) -> dict[str, Any]:
    """A lifecycle event as Control Tower sends it (Control Tower User Guide, "Lifecycle events")."""
    status_key = {
        "CreateManagedAccount": "createManagedAccountStatus",
        "UpdateManagedAccount": "updateManagedAccountStatus",
    }
    return {
        "version": "0",
        "id": "999cccaa-eaaa-0000-1111-123456789012",
        "detail-type": "AWS Service Event via CloudTrail",
        "source": "aws.controltower",
        "account": MANAGEMENT,
        "time": "2026-12-02T14:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"accountId": MANAGEMENT, "invokedBy": "AWS Internal"},
            "eventTime": "2026-12-02T14:00:00Z",
            "eventSource": "controltower.amazonaws.com",
            "eventName": event_name,
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "AWS Internal",
            "userAgent": "AWS Internal",
            "eventID": "0000000-0000-0000-1111-123456789012",
            "readOnly": False,
            "eventType": "AwsServiceEvent",
            "serviceEventDetails": {
                status_key[event_name]: {
                    "organizationalUnit": {"organizationalUnitName": "Production", "organizationalUnitId": ou},
                    "account": {"accountName": "shop-new", "accountId": VENDED},
                    "state": state,
                    "message": "AWS Control Tower successfully created a managed account.",
                    "requestedTimestamp": "2026-12-02T13:30:00Z",
                    "completedTimestamp": "2026-12-02T14:00:00Z",
                }
            },
        },
    }


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


@pytest.mark.parametrize("event_name", ["CreateManagedAccount", "UpdateManagedAccount"])
def test_pattern_matches_a_succeeded_lifecycle_event_only(event_name):
    pattern = lifecycle_event_pattern(event_name, [OU])
    assert matches(pattern, lifecycle_event(event_name))
    assert not matches(pattern, lifecycle_event(event_name, state="FAILED"))
    assert not matches(pattern, lifecycle_event(event_name, ou="ou-a1b2-99999999"))
    other = "UpdateManagedAccount" if event_name == "CreateManagedAccount" else "CreateManagedAccount"
    assert not matches(pattern, lifecycle_event(other))
    api_call = copy.deepcopy(lifecycle_event(event_name))
    api_call["detail-type"] = "AWS API Call via CloudTrail"  # the Service Catalog request, not the outcome
    assert not matches(pattern, api_call)


def test_pattern_without_ous_matches_any_ou():
    pattern = lifecycle_event_pattern("CreateManagedAccount")
    assert matches(pattern, lifecycle_event("CreateManagedAccount", ou="ou-zz99-12345678"))
    assert "organizationalUnit" not in json.dumps(pattern)
    with pytest.raises(ValueError, match="'DeleteManagedAccount' is not one of CreateManagedAccount"):
        lifecycle_event_pattern("DeleteManagedAccount")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A management stack with the roll-out, through the four cdk-nag packs (findings fail synth)."""
    outdir = tmp_path_factory.mktemp("rollout")
    app = cdk.App(outdir=str(outdir), context=dict(CDK_CONTEXT))
    stack = cdk.Stack(app, "Management", env=cdk.Environment(account=MANAGEMENT, region="eu-west-1"))
    key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alerts", enforce_ssl=True, master_key=key)
    AccountFactoryRollout(
        stack,
        "Rollout",
        stack_set_name=STACK_SET,
        regions=["eu-west-1", "us-east-1"],
        organizational_unit_ids=[OU],
        alarm_topic=topic,
    )
    add_compliance_checks(app)
    app.synth()
    path = outdir / "Management.template.json"
    return path, json.loads(path.read_text())


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "aws" for p in parts))


def test_cfn_lint_clean(synth):
    path, _ = synth
    lint = cfn_lint(path)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_rules_pass_the_account_and_its_ou_to_the_state_machine(synth):
    _, template = synth
    rules = resources(template, "AWS::Events::Rule")
    assert len(rules) == 2
    by_event = {r["Properties"]["EventPattern"]["detail"]["eventName"][0]: r["Properties"] for r in rules.values()}
    for event_name, rule in by_event.items():
        assert rule["EventPattern"] == lifecycle_event_pattern(event_name, [OU])
        (target,) = rule["Targets"]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 10
        transformer = target["InputTransformer"]
        event = lifecycle_event(event_name)
        values = {}
        for name, path in transformer["InputPathsMap"].items():
            node: Any = event
            for part in path.removeprefix("$.").split("."):
                node = node[part]
            values[name] = node
        rendered = transformer["InputTemplate"]
        for name, value in values.items():
            rendered = rendered.replace(f"<{name}>", json.dumps(value))
        assert json.loads(rendered) == {
            "accountId": VENDED,
            "accountName": "shop-new",
            "organizationalUnitId": OU,
            "lifecycleEvent": event_name,
        }


def test_state_machine_creates_the_accounts_instances_and_waits_for_the_outcome(synth):
    _, template = synth
    states = definition(template)["States"]
    create = states["CreateStackInstances"]
    assert create["Resource"] == "arn:aws:states:::aws-sdk:cloudformation:createStackInstances"
    assert create["Parameters"] == {
        "StackSetName": STACK_SET,
        "Regions": ["eu-west-1", "us-east-1"],
        "DeploymentTargets": {
            "Accounts.$": "States.Array($.accountId)",
            "OrganizationalUnitIds.$": "States.Array($.organizationalUnitId)",
            "AccountFilterType": "INTERSECTION",
        },
        "OperationPreferences": {"RegionConcurrencyType": "PARALLEL", "FailureToleranceCount": 0},
        "CallAs": "SELF",
    }
    busy = create["Retry"][0]
    assert busy["ErrorEquals"] == ["CloudFormation.OperationInProgressException"] and busy["MaxAttempts"] == 20
    describe = states["DescribeStackSetOperation"]
    assert describe["Parameters"]["OperationId.$"] == "$.operation.OperationId"
    done = states["OperationDone"]
    assert done["Choices"][0] == {
        "Variable": "$.operation.result.Status",
        "StringEquals": "SUCCEEDED",
        "Next": "Deployed",
    }
    assert done["Choices"][1]["Next"] == "RolloutFailed" and done["Default"] == "WaitForOperation"
    assert states["RolloutFailed"]["Type"] == "Fail"
    assert "Lambda" not in json.dumps(template["Resources"])  # SDK integration only, no function


def test_roles_may_do_exactly_the_roll_out(synth):
    _, template = synth
    policies = {
        k: v["Properties"]["PolicyDocument"]["Statement"]
        for k, v in resources(template, "AWS::IAM::ManagedPolicy").items()
    }
    assert not resources(template, "AWS::IAM::Policy")  # no inline policy
    (machine,) = [s for k, s in policies.items() if k.startswith("RolloutPolicy")]
    actions = sorted(a for s in machine for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert [a for a in actions if a.startswith("cloudformation:")] == [
        "cloudformation:CreateStackInstances",
        "cloudformation:DescribeStackSetOperation",
    ]
    deploy = json.dumps(by_sid(machine, "CreateStackInstances")["Resource"])
    assert (
        f"stackset/{STACK_SET}:*" in deploy
        and f"stackset-target/{STACK_SET}:*" in deploy
        and "type/resource/*" in deploy
    )
    watch = json.dumps(by_sid(machine, "WatchOperation")["Resource"])
    assert f"stackset/{STACK_SET}:*" in watch and "target" not in watch
    assert all(a.startswith(("logs:", "xray:", "cloudformation:")) for a in actions)
    (events_policy,) = [s for k, s in policies.items() if k.startswith("RolloutEventsPolicy")]
    assert [s["Action"] for s in events_policy] == ["states:StartExecution"]
    for role in resources(template, "AWS::IAM::Role").values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": MANAGEMENT}}


def test_failures_alarm_the_topic_and_stateful_resources_are_retained(synth):
    _, template = synth
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert {k[:-8] for k in alarms} == {"RolloutFailureAlarm", "RolloutDeadLetterAlarm"}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "Alerts91F83244"}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
    failure = next(v for k, v in alarms.items() if k.startswith("RolloutFailureAlarm"))
    metrics = {m["Id"]: m for m in failure["Properties"]["Metrics"]}
    assert metrics["expr_1"]["Expression"] == "failed + timedOut + aborted"
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in metrics.values() if "MetricStat" in m} == {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    }
    # Pinned logical ids of what holds data: renaming a construct id would replace it.
    for logical_id in ("RolloutKeyA9433E41", "RolloutExecutionLogA7D27A83", "RolloutDeadLetterQueue5C40862A"):
        assert template["Resources"][logical_id]["DeletionPolicy"] == "Retain"
    log = template["Resources"]["RolloutExecutionLogA7D27A83"]["Properties"]
    assert log["LogGroupName"] == f"/aws/vendedlogs/states/{STACK_SET}-account-factory-rollout"
    assert log["RetentionInDays"] == 365 and "KmsKeyId" in log


def test_bad_props_are_reported_together():
    stack = new_stack()
    with pytest.raises(ValueError) as caught:
        AccountFactoryRollout(
            stack,
            "Rollout",
            stack_set_name="1-bad name",
            regions=["eu-west-1", "mars-1", "eu-west-1"],
            organizational_unit_ids=["Production"],
            alarm_topic="arn:aws:sns:eu-west-1:111111111111:alerts",  # type: ignore[arg-type]
            timeout=cdk.Duration.minutes(5),
        )
    message = str(caught.value)
    assert message.startswith("AccountFactoryRollout(TestStack/Rollout): 6 problems")
    for expected in (
        "stack_set_name: '1-bad name' is not a StackSet name",
        "regions[1]: 'mars-1' is not a region like 'eu-west-1'",
        "regions: ['eu-west-1'] listed more than once",
        "organizational_unit_ids[0]: 'Production' is not an OU id like 'ou-a1b2-c3d4e5f6'",
        "alarm_topic: 'arn:aws:sns:eu-west-1:111111111111:alerts' is not an sns.ITopic",
        "timeout: ",
    ):
        assert expected in message, message


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"regions": []}, "regions: [] is empty"),
        ({"regions": "eu-west-1"}, "regions: 'eu-west-1' is not a list or tuple"),
        ({"organizational_unit_ids": []}, "organizational_unit_ids: [] matches no account"),
    ],
)
def test_empty_or_wrong_collections_are_refused(props, expected):
    stack = new_stack()
    topic = sns.Topic(stack, "Alerts")
    arguments: dict[str, Any] = {"stack_set_name": STACK_SET, "regions": ["eu-west-1"], "alarm_topic": topic, **props}
    with pytest.raises(ValueError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        AccountFactoryRollout(stack, "Rollout", **arguments)
