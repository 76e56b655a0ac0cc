"""HybridActivation: service role, least-privilege custom resource, secret handling, handler behaviour, gates."""

from __future__ import annotations

import json
import sys
import types
import urllib.request
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib import (
    AgentMode,
    CloudWatchAgent,
    HybridActivation,
    Platform,
    on_premises_agent_config,
)
from constructs_lib._activation_handler import SOURCE
from constructs_lib.cloudwatch_agent import AgentConfig
from stacks.compliance import add_compliance_checks
from tests.conftest import by_sid, cfn_lint, nag_failures, new_stack, only

ACCOUNT = "111111111111"
#: The shape of an activation code: 20 characters of base64 text (as the CLI and console show them).
FAKE_CODE = "Ab3+dE5fGh7/jK9mNp1Q"


@pytest.fixture(scope="module")
def synthesized() -> tuple[HybridActivation, Template, dict[str, Any]]:
    stack = new_stack()
    activation = HybridActivation(
        stack,
        "OnPrem",
        registration_limit=25,
        expiration=cdk.Duration.days(14),
        default_instance_name="datacenter-1",
        node_tags={"CloudWatchAgent": "on-premises-linux"},
    )
    template = Template.from_stack(stack)
    return activation, template, template.to_json()


def function_policy(template: Template) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    assert len(policies) == 1, list(policies)
    return next(iter(policies.values()))["Properties"]["PolicyDocument"]["Statement"]


class TestServiceRole:
    def test_trusted_by_ssm_in_this_account_and_region_only(self, synthesized):
        _, template, _ = synthesized
        roles = template.find_resources("AWS::IAM::Role")
        (service,) = [
            r
            for r in roles.values()
            if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
            == {"Service": "ssm.amazonaws.com"}
        ]
        (statement,) = service["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        source_arn = json.dumps(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
        assert f":ssm:eu-west-1:{ACCOUNT}:*" in source_arn

    def test_has_exactly_the_documented_managed_policies(self, synthesized):
        _, template, _ = synthesized
        roles = template.find_resources("AWS::IAM::Role")
        (service,) = [
            r for r in roles.values() if "ssm.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
        ]
        arns = json.dumps(service["Properties"]["ManagedPolicyArns"])
        assert "policy/AmazonSSMManagedInstanceCore" in arns and "policy/CloudWatchAgentServerPolicy" in arns
        assert len(service["Properties"]["ManagedPolicyArns"]) == 2
        assert "Policies" not in service["Properties"]

    def test_a_given_role_is_used_and_none_is_made(self):
        stack = new_stack()
        role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("ssm.amazonaws.com"))
        activation = HybridActivation(stack, "OnPrem", role=role)
        assert activation.role is role
        roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
        assert len(roles) == 2  # Mine and the function's role


class TestLeastPrivilege:
    def test_function_policy_allows_exactly_these_actions(self, synthesized):
        _, template, _ = synthesized
        statements = function_policy(template)
        actions = sorted(
            a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
        assert actions == sorted(
            [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "ssm:CreateActivation",
                "ssm:DeleteActivation",
                "iam:PassRole",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]
        )
        assert all(s["Effect"] == "Allow" for s in statements)

    def test_only_the_activation_calls_use_a_wildcard_resource(self, synthesized):
        _, template, _ = synthesized
        for statement in function_policy(template):
            if statement["Resource"] == "*":
                assert statement["Sid"] == "Activations"
                assert sorted(statement["Action"]) == ["ssm:CreateActivation", "ssm:DeleteActivation"]

    def test_pass_role_names_the_service_role_and_ssm(self, synthesized):
        _, template, _ = synthesized
        statement = by_sid(function_policy(template), "PassServiceRole")
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}
        service_role_id = next(
            k for k, r in template.find_resources("AWS::IAM::Role").items() if "ssm.amazonaws.com" in json.dumps(r)
        )
        assert statement["Resource"] == {"Fn::GetAtt": [service_role_id, "Arn"]}

    def test_secret_and_key_are_the_construct_own(self, synthesized):
        _, template, _ = synthesized
        secret_id, _ = only(template, "AWS::SecretsManager::Secret")
        key_id, _ = only(template, "AWS::KMS::Key")
        statements = function_policy(template)
        assert by_sid(statements, "ActivationSecret")["Resource"] == {"Ref": secret_id}
        key_statement = by_sid(statements, "ActivationSecretKey")
        assert key_statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert key_statement["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.eu-west-1.amazonaws.com"

    def test_logs_only_to_its_own_log_group(self, synthesized):
        _, template, _ = synthesized
        _, group = only(template, "AWS::Logs::LogGroup")
        name = group["Properties"]["LogGroupName"]
        assert not name.startswith("/aws/lambda/")
        logs_statement = by_sid(function_policy(template), "Logs")
        assert json.dumps(logs_statement["Resource"]).endswith(f':log-group:{name}:*"]]}}')

    def test_the_function_role_has_no_other_policy(self, synthesized):
        _, template, _ = synthesized
        (function_role,) = [
            r for r in template.find_resources("AWS::IAM::Role").values() if "lambda.amazonaws.com" in json.dumps(r)
        ]
        assert "Policies" not in function_role["Properties"]
        assert len(function_role["Properties"]["ManagedPolicyArns"]) == 1
        assert "AWSLambdaBasicExecutionRole" not in json.dumps(function_role)
        assert not template.find_resources("AWS::IAM::Policy")


class TestResources:
    def test_secret_is_kms_encrypted_and_retained(self, synthesized):
        _, template, _ = synthesized
        key_id, _ = only(template, "AWS::KMS::Key")
        _, secret = only(template, "AWS::SecretsManager::Secret")
        assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert secret["DeletionPolicy"] == "Retain"
        assert "SecretString" not in secret["Properties"]

    def test_stateful_logical_ids_are_pinned(self, synthesized):
        _, template, _ = synthesized
        assert only(template, "AWS::SecretsManager::Secret")[0] == "OnPremSecret3808742B"
        assert only(template, "AWS::KMS::Key")[0] == "OnPremKey6C90543C"
        assert only(template, "AWS::Logs::LogGroup")[0] == "OnPremFunctionLogGroup664841B1"
        assert only(template, "Custom::SsmHybridActivation")[0] == "OnPrem91B823E8"

    def test_function_logs_to_the_stack_owned_group(self, synthesized):
        _, template, _ = synthesized
        group_id, group = only(template, "AWS::Logs::LogGroup")
        _, function = only(template, "AWS::Lambda::Function")
        assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
        assert group["DeletionPolicy"] == "Retain"
        assert "KmsKeyId" in group["Properties"]
        assert "ZipFile" in function["Properties"]["Code"]  # inline: no asset, works in StackSets

    def test_custom_resource_properties(self, synthesized):
        _, template, _ = synthesized
        _, resource = only(template, "Custom::SsmHybridActivation")
        props = resource["Properties"]
        assert props["RegistrationLimit"] == 25
        assert props["ExpirationDays"] == 14
        assert props["DefaultInstanceName"] == "datacenter-1"
        assert props["Tags"] == {"CloudWatchAgent": "on-premises-linux"}
        assert set(resource["DependsOn"]) == {
            only(template, "AWS::Logs::LogGroup")[0],
            only(template, "AWS::IAM::ManagedPolicy")[0],
        }

    def test_no_activation_code_anywhere_in_the_template(self, synthesized):
        _, _, document = synthesized
        text = json.dumps(document)
        _, resource = next(
            (k, r) for k, r in document["Resources"].items() if r["Type"] == "Custom::SsmHybridActivation"
        )
        assert "ActivationCode" not in json.dumps(resource)
        assert "Outputs" not in document or "ActivationCode" not in json.dumps(document["Outputs"])
        # The only mentions: the handler's source (writing the code into the secret) and the secret's description.
        function = next(r for r in document["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
        secret = next(r for r in document["Resources"].values() if r["Type"] == "AWS::SecretsManager::Secret")
        mentions = function["Properties"]["Code"]["ZipFile"].count("ActivationCode")
        mentions += secret["Properties"]["Description"].count("ActivationCode")
        assert mentions >= 1 and text.count("ActivationCode") == mentions


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"registration_limit": 0}, r"registration_limit must be a whole number from 1 to 1000 \(got 0\)"),
            ({"registration_limit": 1001}, r"registration_limit .* \(got 1001\)"),
            ({"expiration": cdk.Duration.days(31)}, r"expiration must be whole days from 1 to 30 \(got 31 days\)"),
            ({"expiration": cdk.Duration.hours(36)}, r"expiration must be whole days"),
            ({"expiration": cdk.Duration.minutes(90)}, r"expiration must be whole days .*\(got 1 hour 30 minutes\)"),
            ({"default_instance_name": "bad;name"}, r"default_instance_name 'bad;name'"),
            ({"node_tags": {"aws:owner": "x"}}, r"node_tags: 'aws:owner' is not a tag key"),
            ({"renewal": ""}, r"renewal must be 1-64 characters"),
        ],
    )
    def test_bad_props(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            HybridActivation(new_stack(), "OnPrem", **kwargs)

    def test_all_problems_reported_together(self):
        with pytest.raises(ValueError, match=r"2 problems") as error:
            HybridActivation(new_stack(), "OnPrem", registration_limit=0, expiration=cdk.Duration.days(40))
        assert "registration_limit" in str(error.value) and "expiration" in str(error.value)


class TestOnPremisesAgent:
    def test_configure_association_runs_in_on_premise_mode_with_region(self):
        stack = new_stack()
        agent = CloudWatchAgent(
            stack,
            "Agent",
            config=on_premises_agent_config(Platform.LINUX, log_group_prefix="/onprem/linux"),
            name="onprem-linux",
            mode=AgentMode.ON_PREMISES,
            create_role=False,
            target_tag_key="CloudWatchAgent",
            target_tag_values=["on-premises-linux"],
        )
        template = Template.from_stack(stack)
        assert agent.role is None and not template.find_resources("AWS::IAM::Role")
        associations = {
            r["Properties"]["Name"]: r["Properties"] for r in template.find_resources("AWS::SSM::Association").values()
        }
        assert associations["AmazonCloudWatch-ManageAgent"]["Parameters"]["mode"] == ["onPremise"]
        for association in associations.values():
            assert association["Targets"] == [{"Key": "tag:CloudWatchAgent", "Values": ["on-premises-linux"]}]
        document = agent.document
        assert document["agent"]["region"] == "eu-west-1"
        assert "append_dimensions" not in document["metrics"]
        streams = {f["log_stream_name"] for f in document["logs"]["logs_collected"]["files"]["collect_list"]}
        assert streams == {"{hostname}"}

    def test_windows_preset_for_on_premises(self):
        config = on_premises_agent_config(Platform.WINDOWS, log_group_prefix="/onprem/windows")
        assert config.platform is Platform.WINDOWS and config.append_dimensions == ()
        assert {e.log_stream_name for e in config.windows_event_logs} == {"{hostname}"}

    def test_ec2_mode_is_unchanged(self):
        stack = new_stack()
        CloudWatchAgent(stack, "Agent")
        (configure,) = [
            r
            for r in Template.from_stack(stack).find_resources("AWS::SSM::Association").values()
            if r["Properties"]["Name"] == "AmazonCloudWatch-ManageAgent"
        ]
        assert configure["Properties"]["Parameters"]["mode"] == ["ec2"]

    def test_ec2_settings_are_refused_on_premises(self):
        with pytest.raises(ValueError, match=r"3 problems") as error:
            CloudWatchAgent(new_stack(), "Agent", config=AgentConfig.linux(), mode=AgentMode.ON_PREMISES)
        message = str(error.value)
        assert "pass create_role=False" in message
        assert "append_dimensions ['InstanceId'] are EC2 metadata" in message
        assert "'{instance_id}' is EC2 only" in message


# --- the custom resource's function, run against fake AWS clients ---------------------------------------


class FakeError(Exception):
    pass


class FakeSsm:
    class exceptions:
        InvalidActivation = type("InvalidActivation", (FakeError,), {})
        InvalidActivationId = type("InvalidActivationId", (FakeError,), {})

    def __init__(self) -> None:
        self.activations: dict[str, dict[str, Any]] = {}
        self.created = 0

    def create_activation(self, **request: Any) -> dict[str, str]:
        self.created += 1
        activation_id = f"{self.created:08x}-aaaa-bbbb-cccc-{self.created:012x}"
        self.activations[activation_id] = request
        return {"ActivationId": activation_id, "ActivationCode": FAKE_CODE[:-1] + str(self.created % 10)}

    def delete_activation(self, ActivationId: str) -> None:
        if ActivationId not in self.activations:
            raise self.exceptions.InvalidActivation(ActivationId)
        del self.activations[ActivationId]


class FakeSecrets:
    def __init__(self, fail: bool = False) -> None:
        self.value: str | None = None
        self.fail = fail

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        if self.value is None:
            raise FakeError("no value")
        return {"SecretString": self.value}

    def put_secret_value(self, SecretId: str, SecretString: str) -> None:
        if self.fail:
            raise FakeError("AccessDeniedException: not authorized")
        self.value = SecretString


class Handler:
    """The inline source, executed with fake boto3 clients; responses PUT to CloudFormation are captured."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, secrets: FakeSecrets | None = None) -> None:
        self.ssm, self.secrets = FakeSsm(), secrets or FakeSecrets()
        clients = {"ssm": self.ssm, "secretsmanager": self.secrets}
        fake_boto3 = types.SimpleNamespace(client=lambda name: clients[name])
        monkeypatch.setitem(sys.modules, "boto3", fake_boto3)
        self.responses: list[dict[str, Any]] = []

        class Response:
            def close(self) -> None:
                pass

        def urlopen(request: urllib.request.Request, timeout: int) -> Response:
            assert request.get_method() == "PUT"
            self.responses.append(json.loads(request.data))
            return Response()

        monkeypatch.setattr(urllib.request, "urlopen", urlopen)
        self.namespace: dict[str, Any] = {}
        exec(compile(SOURCE, "index.py", "exec"), self.namespace)

    def __call__(self, kind: str, request_id: str = "req-1", physical: str | None = None, **props: Any) -> dict:
        event = {
            "RequestType": kind,
            "RequestId": request_id,
            "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1",
            "LogicalResourceId": "OnPrem",
            "ResponseURL": "https://cloudformation-custom-resource-response.example/put",
            "ResourceProperties": {
                "IamRole": "role",
                "RegistrationLimit": "5",
                "ExpirationDays": "30",
                "SecretId": "arn:secret",
                "Region": "eu-west-1",
                "Tags": {"CloudWatchAgent": "on-premises-linux"},
                **props,
            },
        }
        if physical is not None:
            event["PhysicalResourceId"] = physical
        self.namespace["handler"](event, None)
        return self.responses[-1]


class TestHandler:
    def test_create_stores_the_code_and_answers_with_the_id_only(self, monkeypatch, capsys):
        handler = Handler(monkeypatch)
        response = handler("Create")
        stored = json.loads(handler.secrets.value or "{}")
        assert response["Status"] == "SUCCESS"
        assert response["PhysicalResourceId"] == stored["ActivationId"]
        assert response["Data"] == {"ActivationId": stored["ActivationId"]}
        assert response["NoEcho"] is True
        assert stored["ActivationCode"] not in json.dumps(response)
        assert stored["ActivationCode"] not in capsys.readouterr().out
        request = handler.ssm.activations[stored["ActivationId"]]
        assert request["IamRole"] == "role" and request["RegistrationLimit"] == 5
        assert request["Tags"] == [{"Key": "CloudWatchAgent", "Value": "on-premises-linux"}]

    def test_a_retried_create_reuses_its_activation(self, monkeypatch):
        handler = Handler(monkeypatch)
        first = handler("Create")
        second = handler("Create")
        assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
        assert handler.ssm.created == 1

    def test_update_creates_a_new_activation_and_delete_removes_the_old(self, monkeypatch):
        handler = Handler(monkeypatch)
        old = handler("Create")["PhysicalResourceId"]
        new = handler("Update", request_id="req-2", physical=old, Renewal="2")["PhysicalResourceId"]
        assert new != old and json.loads(handler.secrets.value or "{}")["ActivationId"] == new
        assert handler("Delete", request_id="req-3", physical=old)["Status"] == "SUCCESS"
        assert set(handler.ssm.activations) == {new}

    def test_delete_is_idempotent(self, monkeypatch):
        handler = Handler(monkeypatch)
        activation = handler("Create")["PhysicalResourceId"]
        assert handler("Delete", request_id="d1", physical=activation)["Status"] == "SUCCESS"
        assert handler("Delete", request_id="d2", physical=activation)["Status"] == "SUCCESS"
        # A create that failed has no activation behind its physical id: nothing to delete.
        assert handler("Delete", request_id="d3", physical="failed-req-9")["Status"] == "SUCCESS"

    def test_a_code_that_cannot_be_stored_is_not_left_usable(self, monkeypatch):
        handler = Handler(monkeypatch, secrets=FakeSecrets(fail=True))
        response = handler("Create")
        assert response["Status"] == "FAILED"
        assert "AccessDenied" in response["Reason"]
        assert handler.ssm.created == 1 and handler.ssm.activations == {}
        assert response["PhysicalResourceId"] == "failed-req-1"

    def test_inline_source_fits_the_cloudformation_limit(self):
        assert len(SOURCE.encode()) < 4096


@pytest.fixture(scope="module")
def gated_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("hybrid-gates")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "HybridGates", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    activation = HybridActivation(stack, "Linux", node_tags={"CloudWatchAgent": "on-premises-linux"})
    HybridActivation(stack, "Windows", role=activation.role, key=activation.key)
    for platform in Platform:
        CloudWatchAgent(
            stack,
            f"Agent{platform.value}",
            config=on_premises_agent_config(platform, log_group_prefix=f"/onprem/{platform.value}"),
            name=f"onprem-{platform.value}",
            mode=AgentMode.ON_PREMISES,
            create_role=False,
        )
    add_compliance_checks(app)
    app.synth()
    return outdir


class TestGates:
    def test_no_unacknowledged_nag_findings(self, gated_outdir):
        assert nag_failures(gated_outdir) == []

    def test_cfn_lint_clean(self, gated_outdir):
        result = cfn_lint(*sorted(gated_outdir.glob("*.template.json")))
        assert result.returncode == 0, result.stdout + result.stderr
