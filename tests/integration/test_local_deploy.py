"""Deploys the single-account config into moto and asserts what the emulator really created."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.integration.local_deploy import CDK, Deployment, Row, deploy_and_verify, table


@pytest.fixture(scope="module")
def deployed() -> Deployment:
    if not CDK.exists():
        pytest.fail("the CDK CLI is not installed: run `make test`, which runs `npm ci` first")
    # Without the cdk-nag packs and aws-cdk's built-in CloudFormation validation: they validate and change
    # no template, and no test here asserts on them. tests/stacks/test_gates.py runs both over
    # config/single-account.yaml, and tests/stacks/test_telemetry_wiring.py over it with flow logs and the
    # agent on, as the emulator's copy has them (which also switches three pieces off). Without the
    # validation, the synthesis spares its engine, about 1.5 s of CPU.
    return deploy_and_verify(ROOT / "config" / "single-account.yaml", compliance=False, validate=False)


@pytest.fixture(scope="module")
def rows(deployed: Deployment) -> list[Row]:
    return deployed.rows


def test_what_was_adapted_for_the_emulator_is_said(deployed: Deployment):
    telemetry, *rest = deployed.notes
    assert re.fullmatch(
        r"telemetry: CloudWatch agent on and flow logs for vpc-[0-9a-f]+, a VPC made in the emulator first", telemetry
    )
    assert rest == [
        "config tags dropped: moto 5.2.5 cannot create a KMS key with tags through CloudFormation",
        "observability.central_bus switched off: moto 5.2.5 cannot create a rule on an event bus of the same template",
        "observability.dashboard switched off: moto 5.2.5 cannot resolve the ARN of an alarm it skips",
    ]


def by_type(rows: list[Row], resource_type: str) -> list[Row]:
    return [r for r in rows if r.resource_type == resource_type]


def test_buckets_exist_with_their_encryption(rows: list[Row]):
    buckets = {r.logical_id: r for r in by_type(rows, "AWS::S3::Bucket")}
    assert buckets["TrailBucket7F7024F7"].created
    assert buckets["TrailBucket7F7024F7"].detail.startswith("encryption aws:kms")
    assert buckets["TrailAccessLogsBucketA0DDCE10"].detail.startswith("encryption AES256")


def test_key_topic_log_group_role_and_policy_exist(rows: list[Row]):
    for resource_type in (
        "AWS::KMS::Key",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
    ):
        found = by_type(rows, resource_type)
        assert found and all(r.created for r in found), found
    topics = by_type(rows, "AWS::SNS::Topic")
    assert {t.logical_id for t in topics} >= {"TrailTopicA2324151"}
    assert all(t.detail == "KMS-encrypted" for t in topics), topics
    (trail_log_group,) = [r for r in by_type(rows, "AWS::Logs::LogGroup") if r.logical_id == "TrailLogGroup4CBE3AF5"]
    assert trail_log_group.detail.startswith("retention 365 days")
    (trail_role,) = [r for r in by_type(rows, "AWS::IAM::Role") if r.logical_id == "TrailCloudWatchLogsRoleA041CF61"]
    assert "cloudtrail.amazonaws.com" in trail_role.detail


def test_types_the_emulator_skips_are_reported_as_not_created(rows: list[Row]):
    (trail,) = by_type(rows, "AWS::CloudTrail::Trail")
    assert not trail.created
    report = table(rows)
    assert "AWS::CloudTrail::Trail" in report and "accepted by the emulator's CloudFormation, not created" in report


def test_ssm_parameters_and_flow_logs_exist(rows: list[Row]):
    parameters = by_type(rows, "AWS::SSM::Parameter")
    assert parameters and all(r.created and r.detail.startswith("String") for r in parameters)
    (flow_log,) = by_type(rows, "AWS::EC2::FlowLog")
    assert flow_log.created and flow_log.detail == "ALL to cloud-watch-logs"
    assert any("vpc-flow-logs.amazonaws.com" in r.detail for r in by_type(rows, "AWS::IAM::Role"))


def test_on_premises_service_role_and_agent_parameters_exist(rows: list[Row]):
    roles = [r for r in by_type(rows, "AWS::IAM::Role") if r.logical_id.startswith("OnPremisesServiceRole")]
    assert len(roles) == 1 and roles[0].created
    assert '"Service": "ssm.amazonaws.com"' in roles[0].detail
    parameters = [r for r in by_type(rows, "AWS::SSM::Parameter") if r.logical_id.startswith("OnPremisesAgentlinux")]
    assert len(parameters) == 1 and parameters[0].created and parameters[0].detail.startswith("String")


def test_every_resource_the_emulator_reports_created_is_really_there(deployed: Deployment):
    # verify() turns an API error on a reported-created resource into a row saying so: none may.
    failed = [r for r in deployed.rows if r.detail.startswith("reported created, API check failed")]
    assert failed == []
    assert set(deployed.templates) == {"solo-single-account", "solo-baseline-sandbox-us-west-2"}
    resources = sum(
        1 for t in deployed.templates.values() for r in t["Resources"].values() if r["Type"] != "AWS::CDK::Metadata"
    )
    assert len(deployed.rows) == resources


def test_the_activation_runs_its_real_handler_and_its_code_goes_to_the_secret_only(deployed: Deployment):
    # The emulator (tests/integration/moto_extensions.py) runs the custom resource's inline handler
    # against moto's SSM and Secrets Manager, as Lambda would in AWS.
    (secret,) = by_type(deployed.rows, "AWS::SecretsManager::Secret")
    assert secret.created and secret.detail == "KMS key set"
    (activation,) = by_type(deployed.rows, "Custom::SsmHybridActivation")
    assert activation.created
    assert activation.detail == "activation listed by SSM (limit 5, instance name on-premises), its code in the secret"
    # Not in what CloudFormation stores (stack, outputs, resources, events), not in any log.
    assert deployed.exposures == []


def test_the_install_script_reads_the_activation_the_handler_stored(deployed: Deployment):
    # register-on-premises.sh --dry-run with the AWS CLI against the emulator: it finds the
    # activation in the secret and names it, without printing the code.
    (output,) = deployed.registrations
    status, *lines = output.splitlines()
    assert status == "exit 0", output
    (activation_id,) = re.findall(r"^activation ([0-9a-f-]{36}) \(expires .+\) in us-east-1$", output, re.M)
    assert lines[-1] == f"dry run: would install SSM Agent if missing and register with activation {activation_id}"
    assert "ActivationCode" not in output


class _Mocked:
    """An Emulator stand-in whose clients go to moto's in-process mock."""

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name="eu-west-1")


def test_the_exposure_check_finds_a_planted_activation_code():
    from moto import mock_aws

    from tests.integration.local_deploy import activation_code_exposures

    with mock_aws():
        session = _Mocked()
        code = "Ab3dEf6hIj9kLm2nOp5q"
        session.client("secretsmanager").create_secret(
            Name="activation", SecretString=json.dumps({"ActivationId": "x", "ActivationCode": code})
        )
        logs = session.client("logs")
        logs.create_log_group(logGroupName="/aws/lambda/activation")
        logs.create_log_stream(logGroupName="/aws/lambda/activation", logStreamName="s")
        assert activation_code_exposures({"eu-west-1": session}, {}) == (True, [])
        logs.put_log_events(
            logGroupName="/aws/lambda/activation",
            logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": f"created {code}"}],
        )
        assert activation_code_exposures({"eu-west-1": session}, {}) == (
            True,
            ["log group /aws/lambda/activation (eu-west-1)"],
        )


def test_make_deploy_local_fails_on_a_config_that_does_not_load(tmp_path, capsys):
    from tests.integration import local_deploy

    missing = tmp_path / "missing.yaml"
    assert local_deploy.main(["local_deploy", str(missing)]) == 1
    assert capsys.readouterr() == ("", f"config error: {missing}: cannot be read (No such file or directory)\n")


def test_make_deploy_local_fails_where_the_activation_code_shows(monkeypatch: pytest.MonkeyPatch, capsys):
    """A leak is not only a line of the report: the run exits 1 (0 before)."""
    from tests.integration import local_deploy

    found = Deployment(rows=[], notes=[], templates={}, exposures=[], registrations=[])
    monkeypatch.setattr(local_deploy, "deploy_and_verify", lambda config_path: found)
    assert local_deploy.main(["local_deploy"]) == 0
    found.exposures.append("log group /aws/lambda/activation (eu-west-1)")
    assert local_deploy.main(["local_deploy"]) == 1
    assert "LEAK: the activation code shows in log group /aws/lambda/activation (eu-west-1)" in capsys.readouterr().out
