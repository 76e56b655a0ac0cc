"""Deploy the single-account config into a local AWS emulator (moto server) and report honestly.

    make deploy-local          # or: .venv/bin/python -m tests.integration.local_deploy config/single-account.yaml

Starts moto on localhost, runs `cdk synth`, then `cdk bootstrap` and `cdk deploy --all` against it,
then asks the emulator with boto3 what really exists. moto's CloudFormation reports CREATE_COMPLETE even for
resource types it silently skips, so the table separates what was created and verified from what
was merely accepted. Stops the emulator it started. No AWS credentials are used or needed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml

from stacks.config import config_errors_exit_1, load_config

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"


@dataclass(frozen=True)
class Row:
    resource_type: str
    logical_id: str
    created: bool
    detail: str


@contextmanager
def moto_server(account: str) -> Iterator[str]:
    """A moto server on a free local port; yields its endpoint (localhost: see REFERENCE.md)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)  # noqa: SIM115 - kept for the report
    process = subprocess.Popen(
        # moto plus what the on-premises deploy needs and moto lacks (tests/integration/moto_extensions.py).
        [sys.executable, "-m", "tests.integration.moto_extensions", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env={**os.environ, "MOTO_ACCOUNT_ID": account, "MOTO_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start; see {log.name}") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def emulator_env(endpoint: str, account: str, region: str) -> dict[str, str]:
    """Environment pointing every AWS client at the emulator, never at a real account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "MOTO_ACCOUNT_ID": account,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "NODE_NO_WARNINGS": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }
    )
    return env


def emulator_config(config_path: Path, directory: Path, *, vpc_id: str | None = None) -> tuple[Path, list[str]]:
    """The config as the emulator can take it, and a note for each change made.

    :param vpc_id: a VPC made in the emulator beforehand: the run also turns on the CloudWatch
        agent and lists this VPC for flow logs, so SSM parameters and flow logs are exercised.
    """
    data = yaml.safe_load(config_path.read_text())
    notes = []
    if vpc_id is not None:
        account = data["accounts"][0]["name"]
        telemetry = data.setdefault("telemetry", {})
        telemetry.setdefault("flow_logs", {}).setdefault("vpc_ids", {}).setdefault(account, []).append(vpc_id)
        telemetry.setdefault("cloudwatch_agent", {})["enabled"] = True
        notes.append(f"telemetry: CloudWatch agent on and flow logs for {vpc_id}, a VPC made in the emulator first")
    if data.get("tags"):
        # moto 5.2.5 crashes on AWS::KMS::Key with Tags (KeyError 'TagKey' in its tagging service)
        # and leaves the rest of the stack uncreated while CloudFormation says CREATE_COMPLETE.
        data.pop("tags")
        notes.append("config tags dropped: moto 5.2.5 cannot create a KMS key with tags through CloudFormation")
    observability = data.setdefault("observability", {})
    if observability.get("central_bus", True):
        # moto 5.2.5 crashes creating an AWS::Events::Rule on an event bus of the same template
        # ('EventBus' object has no attribute 'split') and leaves the stack half created.
        observability["central_bus"] = False
        notes.append(
            "observability.central_bus switched off: moto 5.2.5 cannot create a rule on an event bus of the same template"
        )
    if observability.get("dashboard", True):
        # The dashboard's alarm widgets read the alarms' ARNs (Fn::GetAtt); moto skips alarms and then
        # rejects the template ("Fn::GetAtt references undefined resource").
        observability["dashboard"] = False
        notes.append("observability.dashboard switched off: moto 5.2.5 cannot resolve the ARN of an alarm it skips")
    path = directory / "emulator-config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, notes


def cdk(args: list[str], env: dict[str, str], config: Path, outdir: Path) -> None:
    """The CDK CLI on the config's app, which writes its cloud assembly into ``outdir``; with
    ``--app`` among ``args`` (an assembly ``cdk synth`` wrote before), the CLI reads that instead."""
    output = [] if "--app" in args else ["--output", str(outdir)]
    command = [
        str(CDK),
        *args,
        "-c",
        f"config={config}",
        *output,
        "--no-notices",
        "--no-version-reporting",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


@dataclass(frozen=True)
class Emulator:
    """boto3 clients bound to the emulator's endpoint, with dummy credentials."""

    endpoint: str
    region: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


Checker = Callable[[Emulator, str, dict[str, Any]], str]


def _bucket(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    s3 = session.client("s3")
    rule = s3.get_bucket_encryption(Bucket=physical)["ServerSideEncryptionConfiguration"]["Rules"][0]
    versioning = s3.get_bucket_versioning(Bucket=physical).get("Status", "Disabled")
    return f"encryption {rule['ApplyServerSideEncryptionByDefault']['SSEAlgorithm']}, versioning {versioning}"


def _key(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    kms = session.client("kms")
    key_ids = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    if physical not in key_ids:
        raise LookupError(f"key {physical} is not listed")
    try:
        rotation = kms.get_key_rotation_status(KeyId=physical)["KeyRotationEnabled"]
    except Exception:
        # moto 5.2.5 stores a CloudFormation key policy as an object and its policy check then
        # fails on every call that names the key; the key itself exists.
        return "listed; moto cannot read keys created through CloudFormation further"
    return f"listed, rotation {'on' if rotation else 'off'}"


def _topic(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    attributes = session.client("sns").get_topic_attributes(TopicArn=physical)["Attributes"]
    return "KMS-encrypted" if attributes.get("KmsMasterKeyId") else "NOT encrypted"


def _log_group(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    groups = session.client("logs").describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
    (group,) = [g for g in groups if g["logGroupName"] == physical]
    return f"retention {group.get('retentionInDays', 'never expires')} days, {'KMS' if group.get('kmsKeyId') else 'no KMS'}"


def _role(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    role = session.client("iam").get_role(RoleName=physical)["Role"]
    principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    return f"trusted by {json.dumps(principals)}"


def _managed_policy(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    policy = session.client("iam").get_policy(PolicyArn=physical)["Policy"]
    return f"attached {policy['AttachmentCount']} time(s)"


def _parameter(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    parameter = session.client("ssm").get_parameter(Name=physical)["Parameter"]
    return f"{parameter['Type']}, {len(parameter['Value'])} characters"


def _flow_log(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    (flow,) = session.client("ec2").describe_flow_logs(FlowLogIds=[physical])["FlowLogs"]
    return f"{flow['TrafficType']} to {flow.get('LogDestinationType', 'cloud-watch-logs')}"


def _rule(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    name = physical.split("|")[-1].split("/")[-1]
    rule = session.client("events").describe_rule(Name=name)
    return f"{rule['State']}, pattern {'set' if rule.get('EventPattern') else 'none'}"


def _alias(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    aliases = {a["AliasName"]: a for a in session.client("kms").list_aliases()["Aliases"]}
    if physical not in aliases:
        raise LookupError(f"alias {physical} is not listed")
    return "listed"


def _secret(session: Emulator, physical: str, _: dict[str, Any]) -> str:
    described = session.client("secretsmanager").describe_secret(SecretId=physical)
    return f"{'KMS key ' if described.get('KmsKeyId') else 'NO KMS key, '}set"


def _activation(session: Emulator, physical: str, resource: dict[str, Any]) -> str:
    """The activation exists in SSM, and its code is in the secret only (never in the stack)."""
    activations = session.client("ssm").describe_activations()["ActivationList"]
    (secret_id,) = [
        s["PhysicalResourceId"]
        for s in session.client("cloudformation").list_stack_resources(StackName=resource["_stack"])[
            "StackResourceSummaries"
        ]
        if s["ResourceType"] == "AWS::SecretsManager::Secret"
    ]
    stored = json.loads(session.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    ids = {a["ActivationId"] for a in activations}
    if stored.get("ActivationId") not in ids:
        raise LookupError(f"the secret holds activation {stored.get('ActivationId')}, SSM lists {sorted(ids)}")
    (activation,) = [a for a in activations if a["ActivationId"] == stored["ActivationId"]]
    return (
        f"activation listed by SSM (limit {activation['RegistrationLimit']}, "
        f"instance name {activation['DefaultInstanceName']}), its code in the secret"
    )


CHECKERS: dict[str, Checker] = {
    "AWS::SecretsManager::Secret": _secret,
    "Custom::SsmHybridActivation": _activation,
    "AWS::Events::Rule": _rule,
    "AWS::KMS::Alias": _alias,
    "AWS::S3::Bucket": _bucket,
    "AWS::KMS::Key": _key,
    "AWS::SNS::Topic": _topic,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role,
    "AWS::IAM::ManagedPolicy": _managed_policy,
    "AWS::SSM::Parameter": _parameter,
    "AWS::EC2::FlowLog": _flow_log,
}


def verify(session: Emulator, stack_name: str, template: dict[str, Any]) -> list[Row]:
    """One row per template resource: created and verified by an API call, or only accepted."""
    summaries = session.client("cloudformation").list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    physical = {
        s["LogicalResourceId"]: s.get("PhysicalResourceId", "") for s in summaries if s.get("LogicalResourceId")
    }
    rows = []
    for logical_id, resource in template["Resources"].items():
        resource_type = resource["Type"]
        if resource_type == "AWS::CDK::Metadata":
            continue
        if logical_id not in physical or not physical[logical_id]:
            rows.append(Row(resource_type, logical_id, False, "accepted by the emulator's CloudFormation, not created"))
            continue
        checker = CHECKERS.get(resource_type)
        if checker is None:
            rows.append(Row(resource_type, logical_id, True, "created; no API check written for this type"))
            continue
        try:
            detail = checker(session, physical[logical_id], {**resource, "_stack": stack_name})
            rows.append(Row(resource_type, logical_id, True, detail))
        except Exception as error:  # an API error here means the resource is not really there
            rows.append(Row(resource_type, logical_id, False, f"reported created, API check failed: {error}"))
    return rows


def activation_code_exposures(sessions: dict[str, Any], stacks: dict[str, str]) -> tuple[bool, list[str]]:
    """Whether an activation code was stored in a secret, and where else it shows: the stacks'
    descriptions, outputs, resources and events (what CloudFormation stores), and every log event.

    :param sessions: an Emulator per region; :param stacks: stack name -> its region.
    """
    codes = []
    places: dict[str, str] = {}
    for region, session in sessions.items():
        manager = session.client("secretsmanager")
        for secret in manager.list_secrets()["SecretList"]:
            value = manager.get_secret_value(SecretId=secret["ARN"]).get("SecretString", "")
            if value.startswith("{") and "ActivationCode" in value:
                codes.append(json.loads(value)["ActivationCode"])
        logs = session.client("logs")
        for group in logs.describe_log_groups()["logGroups"]:
            events = logs.filter_log_events(logGroupName=group["logGroupName"])["events"]
            places[f"log group {group['logGroupName']} ({region})"] = json.dumps([e["message"] for e in events])
    for name, region in stacks.items():
        cloudformation = sessions[region].client("cloudformation")
        places[f"stack {name}"] = json.dumps(cloudformation.describe_stacks(StackName=name), default=str)
        places[f"resources of {name}"] = json.dumps(
            cloudformation.describe_stack_resources(StackName=name), default=str
        )
        places[f"events of {name}"] = json.dumps(cloudformation.describe_stack_events(StackName=name), default=str)
    return bool(codes), sorted(place for place, text in places.items() for code in codes if code in text)


def register_dry_run(endpoint: str, region: str, account: str) -> list[str]:
    """``scripts/register-on-premises.sh --dry-run`` for every activation secret, with the AWS CLI
    against the emulator, as an operator runs it before registering a server: its output."""
    manager = Emulator(endpoint, region).client("secretsmanager")
    outputs = []
    for secret in manager.list_secrets()["SecretList"]:
        if "ActivationCode" not in manager.get_secret_value(SecretId=secret["ARN"]).get("SecretString", ""):
            continue
        env = emulator_env(endpoint, account, region)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        script = str(ROOT / "scripts" / "register-on-premises.sh")
        done = subprocess.run(
            ["bash", script, "--dry-run", "--secret-id", secret["Name"], "--region", region],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outputs.append(f"exit {done.returncode}\n{done.stdout}{done.stderr}")
    return outputs


@dataclass(frozen=True)
class Deployment:
    """What a deploy into the emulator showed."""

    rows: list[Row]
    #: what was adapted in the config for the emulator
    notes: list[str]
    #: the deployed templates by stack name
    templates: dict[str, dict[str, Any]]
    #: where an activation code shows outside its secret
    exposures: list[str]
    #: output of the install script's dry run, per activation secret
    registrations: list[str]


def deploy_and_verify(config_path: Path, *, compliance: bool = True, validate: bool = True) -> Deployment:
    """Deploy into a fresh emulator and ask it what exists.

    :param compliance: synthesize with the cdk-nag packs (as ``make deploy-local`` does); they only
        validate, so the deployed templates are the same either way.
    :param validate: run aws-cdk's built-in CloudFormation validation in the synthesis (as ``make
        deploy-local`` does); it changes no template either.
    """
    config = load_config(config_path)
    if not config.single_account:
        raise SystemExit(f"{config_path}: deploy-local takes a single-account config (one account, no organization)")
    account, region = config.accounts[0].id, config.home_region
    with tempfile.TemporaryDirectory() as tmp, moto_server(account) as endpoint:
        directory = Path(tmp)
        # An existing VPC to give flow logs to, as a platform team lists theirs in the config.
        vpc_id = Emulator(endpoint, region).client("ec2").create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        emulator_cfg, notes = emulator_config(config_path, directory, vpc_id=vpc_id)
        env = emulator_env(endpoint, account, region) | ({} if validate else {"CDK_VALIDATION": "false"})
        outdir = directory / "cdk.out"
        # One synthesis: run in a folder with cdk.json, `cdk bootstrap` and `cdk deploy` would each run
        # the app again; given the assembly (--app), they read it.
        cdk(["synth", "--quiet", *([] if compliance else ["-c", "compliance=false"])], env, emulator_cfg, outdir)
        assembly = ["--app", str(outdir)]
        cdk(["bootstrap", *assembly, *(f"aws://{account}/{r}" for r in config.regions)], env, emulator_cfg, outdir)
        cdk(["deploy", *assembly, "--all", "--require-approval", "never"], env, emulator_cfg, outdir)
        manifest = json.loads((outdir / "manifest.json").read_text())
        rows: list[Row] = []
        templates: dict[str, dict[str, Any]] = {}
        for artifact_id, artifact in manifest["artifacts"].items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
            templates[artifact_id] = template
            stack_region = artifact["environment"].rsplit("/", 1)[-1]
            rows.extend(verify(Emulator(endpoint, stack_region), artifact_id, template))
        stack_regions = {
            artifact_id: artifact["environment"].rsplit("/", 1)[-1]
            for artifact_id, artifact in manifest["artifacts"].items()
            if artifact_id in templates
        }
        sessions = {r: Emulator(endpoint, r) for r in sorted(set(stack_regions.values()))}
        stored, exposures = activation_code_exposures(sessions, stack_regions)
        if not stored and any(r.resource_type == "Custom::SsmHybridActivation" for r in rows):
            exposures.append("no secret holds an activation code")
        registrations = register_dry_run(endpoint, region, account)
    return Deployment(rows, notes, templates, exposures, registrations)


def table(rows: list[Row]) -> str:
    by_type: dict[str, list[Row]] = {}
    for row in rows:
        by_type.setdefault(row.resource_type, []).append(row)
    width = max([len("resource type"), *(len(t) for t in by_type)])
    lines = [f"{'resource type':<{width}} {'created+verified':>16} {'accepted only':>13}  detail"]
    for resource_type in sorted(by_type, key=lambda t: (not by_type[t][0].created, t)):
        group = by_type[resource_type]
        created = sum(r.created for r in group)
        details = sorted({r.detail for r in group})
        lines.append(f"{resource_type:<{width}} {created:>16} {len(group) - created:>13}  {'; '.join(details)}")
    return "\n".join(lines)


@config_errors_exit_1
def main(argv: list[str]) -> int:
    """``make deploy-local``: exit 1 on a config that does not load or on any place the activation code
    shows besides its secret."""
    config_path = Path(argv[1] if len(argv) > 1 else "config/single-account.yaml")
    deployment = deploy_and_verify(config_path)
    rows, notes, exposures = deployment.rows, deployment.notes, deployment.exposures
    print(f"local deploy of {config_path} into moto (the emulator, not AWS)\n")
    print(table(rows))
    for note in notes:
        print(f"note: {note}")
    print(
        "note: moto's CloudFormation applies only encryption and tags of AWS::S3::Bucket and no KMS key of a log group"
    )
    for place in exposures:
        print(f"LEAK: the activation code shows in {place}")
    accepted = sorted({r.resource_type for r in rows if not r.created})
    if accepted:
        print(f"note: the emulator accepted without creating: {', '.join(accepted)}; only real AWS proves those.")
    return 1 if exposures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
