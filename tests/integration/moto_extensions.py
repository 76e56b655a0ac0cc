"""A moto server with the three things the on-premises deploy needs and moto 5.2.5 lacks.

    .venv/bin/python -m tests.integration.moto_extensions -H 127.0.0.1 -p 5000

``make deploy-local`` starts the emulator through this module instead of ``moto_server``. Each
extension is the smallest stand-in for the AWS API as its reference documents it, so that our own
template and our own custom-resource code (``constructs_lib/_activation_handler.py``) run end to end:

- ``AWS::SecretsManager::Secret`` through CloudFormation (moto has the Secrets Manager API but no
  CloudFormation model for it): creates the secret with moto's own Secrets Manager backend; Ref is
  the ARN, as in CloudFormation.
- Lambda functions with inline Python code run in a local subprocess instead of Docker (none here),
  with the AWS endpoint pointed at this emulator: the custom resource's real handler then calls
  moto's SSM and Secrets Manager and answers CloudFormation's ResponseURL, as in AWS.
- ``ssm:CreateActivation``, ``DescribeActivations`` and ``DeleteActivation`` (absent from moto's SSM):
  an activation id in the documented UUID form, a 20-character code, the request's role, limit,
  expiry, default instance name and tags.

Nothing here is imported by the library or by the app: only the emulator run uses it.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # No garbage collection while the imports build what lives as long as the server: see the end.
    gc.disable()

import datetime
import io
import json
import os
import secrets
import string
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult, EmptyResult
from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import SimpleSystemManagerBackend
from moto.ssm.responses import SimpleSystemManagerResponse

#: How long the local stand-in for a Lambda invocation may run (a custom resource times out at 1 h in AWS).
INVOKE_TIMEOUT_SECONDS = 120


class CfnSecret(CloudFormationModel):
    """``AWS::SecretsManager::Secret``: Name, Description, KmsKeyId, SecretString or a generated
    string (GenerateSecretString), Tags. Ref: the ARN."""

    # moto's model registry names a model's service by its module (moto.<service>.…).
    __module__ = "moto.secretsmanager.models"

    def __init__(self, arn: str, name: str) -> None:
        self.arn = arn
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnSecret:
        properties = cloudformation_json.get("Properties", {})
        name = properties.get("Name", resource_name)
        value = properties.get("SecretString")
        if value is None:
            alphabet = string.ascii_letters + string.digits
            value = "".join(secrets.choice(alphabet) for _ in range(32))
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=name,
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(created)["ARN"], name)

    def delete(self, account_id: str, region_name: str) -> None:  # type: ignore[override]
        secretsmanager_backends[account_id][region_name].delete_secret(
            secret_id=self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
        )


def _inline_source(function: LambdaFunction) -> str | None:
    """The ``index.py`` of a function whose code came inline (CloudFormation ZipFile), else None."""
    try:
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            return archive.read("index.py").decode()
    except (KeyError, zipfile.BadZipFile, AttributeError):
        return None


_RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import index
event = json.loads(sys.stdin.read())
result = getattr(index, sys.argv[2])(event, None)
print(json.dumps(result))
"""

_docker_invoke = LambdaFunction._invoke_lambda


def _invoke_locally(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    source = _inline_source(self)
    if source is None or not str(self.run_time).startswith("python"):
        return _docker_invoke(self, event)
    endpoint = f"http://localhost:{os.environ['MOTO_PORT']}"
    payload = event if isinstance(event, str) else json.dumps(event or {})
    # moto addresses the custom resource's answer to the Docker host; the subprocess is local.
    payload = payload.replace("http://host.docker.internal:", "http://localhost:")
    module, _, handler = self.handler.rpartition(".")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": self.region,
        "AWS_DEFAULT_REGION": self.region,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
        **{k: str(v) for k, v in (self.environment_vars or {}).items()},
    }
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, f"{module or 'index'}.py").write_text(source)
        done = subprocess.run(
            [sys.executable, "-c", _RUNNER, directory, handler],
            input=payload,
            capture_output=True,
            text=True,
            env=env,
            timeout=INVOKE_TIMEOUT_SECONDS,
            check=False,
        )
    logs = done.stderr + done.stdout
    self.save_logs(logs)
    lines = done.stdout.strip().splitlines()
    return (lines[-1] if lines else "null"), done.returncode != 0, logs


class _Activation:
    def __init__(self, request: dict[str, Any]) -> None:
        self.id = str(uuid.uuid4())
        self.code = "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(20))
        self.request = request
        self.created = datetime.datetime.now(datetime.UTC)

    def describe(self) -> dict[str, Any]:
        return {
            "ActivationId": self.id,
            "Description": self.request.get("Description", ""),
            "DefaultInstanceName": self.request.get("DefaultInstanceName", ""),
            "IamRole": self.request["IamRole"],
            "RegistrationLimit": int(self.request.get("RegistrationLimit", 1)),
            "RegistrationsCount": 0,
            "ExpirationDate": self.request.get("ExpirationDate"),
            "Expired": False,
            "CreatedDate": self.created.timestamp(),
            "Tags": self.request.get("Tags", []),
        }


def _activations(backend: SimpleSystemManagerBackend) -> dict[str, _Activation]:
    if not hasattr(backend, "_baseline_activations"):
        backend._baseline_activations = {}  # type: ignore[attr-defined]
    return backend._baseline_activations  # type: ignore[attr-defined,no-any-return]


def create_activation(self: SimpleSystemManagerResponse) -> ActionResult:
    request = json.loads(self.body)
    if not request.get("IamRole"):
        raise ValueError("IamRole is required")
    activation = _Activation(request)
    _activations(self.ssm_backend)[activation.id] = activation
    return ActionResult({"ActivationId": activation.id, "ActivationCode": activation.code})


def describe_activations(self: SimpleSystemManagerResponse) -> ActionResult:
    listed = [a.describe() for a in _activations(self.ssm_backend).values()]
    return ActionResult({"ActivationList": listed})


def delete_activation(self: SimpleSystemManagerResponse) -> EmptyResult:
    activation_id = json.loads(self.body)["ActivationId"]
    _activations(self.ssm_backend).pop(activation_id, None)
    return EmptyResult()


def install() -> None:
    """Apply the extensions to this process's moto (the server then serves them)."""
    LambdaFunction._invoke_lambda = _invoke_locally  # type: ignore[method-assign]
    SimpleSystemManagerResponse.create_activation = create_activation  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.describe_activations = describe_activations  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.delete_activation = delete_activation  # type: ignore[attr-defined]
    assert "AWS::SecretsManager::Secret" in {m.cloudformation_type() for m in CloudFormationModel.__subclasses__()}


if __name__ == "__main__":
    install()
    from moto.server import main

    from tests.collector import settle_imports

    # What the imports made lives as long as the server: frozen, it stays out of every later pass of the
    # collector, and a young collection comes every 20,000 new objects rather than every 700, as in the
    # test processes (tests/collector.py). In an emulator deploy of config/single-account.yaml the server
    # collected for 0.04-0.05 s in 13 passes instead of 0.7-0.8 s in about 1,050, and took 2.5-2.6 s of
    # CPU instead of 3.0-3.2 s, for at most 310 MiB instead of 244 (import garbage is kept, not collected).
    settle_imports()
    main(sys.argv[1:])
