"""Who deploys the baseline into member accounts, and proof that the baseline's own SCPs never deny them.

SCPs restrict every principal of a member account except service-linked roles, and so the roles
that deploy the baseline there:

- ``cdk deploy`` of the role table's stacks in member accounts (``stacks.roles``: the log-archive,
  audit and example stacks) runs as the CDK execution role of the target environment,
  ``cdk-<qualifier>-cfn-exec-role-<account>-<region>``;
- the service-managed StackSet creates ``stacksets-exec-<id>`` in each target account and deploys
  through it (CloudFormation User Guide, "Configure a custom execution role template for StackSets");
- on a Control Tower landing zone, Control Tower keeps managing its own baseline and controls in
  every enrolled account through ``AWSControlTowerExecution`` (``stacks.control_tower``).

For each deployment this module knows the resource types it deploys and, from CloudFormation's
resource provider schemas (shipped inside cfn-lint: ``handlers.create|update|delete.permissions``),
every IAM action the handlers call. ``denials`` evaluates the SCPs on each account's path (root,
OUs, account) for those actions with the project's SCP evaluator. Resources are taken as
matching any statement (a deployer acts on whatever the template names), so a denial found here
is a real one, and "none" means no statement can stop the deployer.

Who deploys what comes from the role table (``stacks.roles.ROLE_STACKS``: each entry's account,
deployer and ``resource_types``). The resource types are a table, not a synth, so ``stacks.config
check`` stays fast; a test synthesizes every bundled config and fails when a template holds a type
the table lacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.scp_evaluator import Request, action_matches, conditions_match

if TYPE_CHECKING:
    from stacks.config import Account, BaselineConfig

#: The qualifier of a default ``cdk bootstrap``; the exemption pattern covers every qualifier.
CDK_QUALIFIER = "hnb659fds"
#: An example of the name service-managed StackSets give their execution role (a generated suffix).
STACKSETS_EXEC_ROLE = "stacksets-exec-0123456789abcdef0123456789abcdef"

_CONFIG_AND_ALERTS = (
    "AWS::Config::ConfigRule",
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
)
_FORWARDING_AND_OAM = ("AWS::Events::Rule", "AWS::Oam::Link")
_AGENT = (
    "AWS::IAM::InstanceProfile",
    "AWS::Logs::LogGroup",
    "AWS::SSM::Association",
    "AWS::SSM::Parameter",
)
_FLOW_LOGS = ("AWS::EC2::FlowLog", "AWS::Logs::LogGroup", "AWS::Logs::QueryDefinition")

#: The workload-baseline StackSet's template (the role table's ``workload-baseline``), whatever the config switches on.
STACKSET_TYPES = frozenset(
    (
        *_CONFIG_AND_ALERTS,
        *_FORWARDING_AND_OAM,
        *_AGENT,
        *_FLOW_LOGS,
        # Baseline health: the canary schedule and the per-account health alarms.
        "AWS::CloudWatch::Alarm",
        "AWS::Scheduler::Schedule",
        # ConfigRuleTags: the function that tags the baseline's rules, and its custom resource.
        "AWS::Lambda::Function",
        "Custom::ConfigRuleTags",
        # On-premises servers: the hybrid activation (function, custom resource, its secret).
        "AWS::SecretsManager::Secret",
        "Custom::SsmHybridActivation",
    )
)
#: Control Tower's baseline StackSets (AWSControlTowerBP-BASELINE-CONFIG, -CLOUDWATCH, -ROLES,
#: -SERVICE-ROLES; -CLOUDTRAIL before landing zone 3.0) and its detective controls (Config rules),
#: deployed by AWSControlTowerExecution in every enrolled account and governed region (Control
#: Tower User Guide, "Resource considerations for Account Factory").
CONTROL_TOWER_TYPES = frozenset(
    (
        "AWS::CloudTrail::Trail",
        "AWS::Config::AggregationAuthorization",
        "AWS::Config::ConfigRule",
        "AWS::Config::ConfigurationRecorder",
        "AWS::Config::DeliveryChannel",
        "AWS::Events::Rule",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Logs::LogGroup",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
    )
)
#: The deployment key of Control Tower's own baseline (not a stack of the role table).
CONTROL_TOWER = "control-tower"
LOG_ARCHIVE_TYPES = frozenset(("AWS::KMS::Alias", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"))
AUDIT_TYPES = frozenset(
    (
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::Config::ConfigurationAggregator",
        "AWS::Events::Archive",
        "AWS::Events::EventBus",
        "AWS::Events::EventBusPolicy",
        "AWS::Events::Rule",
        "AWS::IAM::Role",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        # The forwarding heartbeat's count and its saved query.
        "AWS::Logs::MetricFilter",
        "AWS::Logs::QueryDefinition",
        "AWS::Logs::ResourcePolicy",
        "AWS::Oam::Sink",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
    )
)
EXAMPLE_WORKLOAD_TYPES = frozenset(
    (
        *_AGENT,
        *_FLOW_LOGS,
        "AWS::CloudFront::Distribution",
        "AWS::EC2::Instance",
        "AWS::EC2::LaunchTemplate",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCEndpoint",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Role",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
    )
)


def deployment_types() -> dict[str, frozenset[str]]:
    """Deployment -> every resource type its template may hold: each stack kind of the role table
    that lands in member accounts (``RoleStack.resource_types``), and Control Tower's baseline."""
    from stacks.roles import ROLE_STACKS

    found = {entry.kind: entry.resource_types for entry in ROLE_STACKS if entry.resource_types}
    found[CONTROL_TOWER] = CONTROL_TOWER_TYPES
    return found


@dataclass(frozen=True, kw_only=True)
class Deployer:
    """One principal that deploys one template into one member account.

    :param deployment: key of ``deployment_types()``: the stack kind of the role table, or ``control-tower``.
    :param label: what the deployment is, for messages ("the StackSet acme-workload-baseline").
    :param account: the member account.
    :param role_name: the deploying role's name there.
    :param needed_exemption: the exemption pattern that covers it (what to add when it is missing).
    """

    deployment: str
    label: str
    account: Account
    role_name: str
    needed_exemption: str

    @property
    def principal_arn(self) -> str:
        return f"arn:aws:iam::{self.account.id}:role/{self.role_name}"


@dataclass(frozen=True, kw_only=True)
class Denial:
    deployer: Deployer
    action: str
    resource_type: str
    region: str
    policy: str


def deployers(config: BaselineConfig) -> list[Deployer]:
    """Every principal that deploys a template into a member account, in role-table then config order."""
    from stacks import roles
    from stacks.config import AccountRole

    if config.organization is None or config.organization.pending_creation:
        return []
    found: list[Deployer] = []
    for entry in roles.role_stacks(config):
        # SCPs never restrict the management account: its stacks need no proof.
        members = [a for a in roles.accounts(config, entry) if a.role is not AccountRole.MANAGEMENT]
        for account in members:
            name = roles.stack_name(config, entry, account, config.home_region)
            if entry.deployed_by is roles.DeployedBy.STACKSET:
                label, role_name, exemption = (
                    f"the StackSet {name} (service-managed)",
                    STACKSETS_EXEC_ROLE,
                    "stacksets-exec-*",
                )
            else:
                label = f"`cdk deploy {name}`"
                role_name = f"cdk-{CDK_QUALIFIER}-cfn-exec-role-{account.id}-{config.home_region}"
                exemption = "cdk-*-cfn-exec-role-*"
            found.append(
                Deployer(
                    deployment=entry.kind, label=label, account=account, role_name=role_name, needed_exemption=exemption
                )
            )
    if config.on_control_tower:
        assert config.control_tower is not None
        role = config.control_tower.execution_role_name
        for account in config.accounts:
            if account.role is AccountRole.MANAGEMENT:
                continue
            found.append(
                Deployer(
                    deployment=CONTROL_TOWER,
                    label=f"Control Tower's baseline and controls ({role})",
                    account=account,
                    role_name=role,
                    needed_exemption=role,
                )
            )
    return found


def denials(
    config: BaselineConfig,
    documents: Mapping[str, Mapping[str, Any]],
    *,
    resource_types: Mapping[str, Iterable[str]] | None = None,
    first_only: bool = False,
) -> list[Denial]:
    """Every (deployer, handler action, region) that the SCPs attached on the account's path deny.

    :param resource_types: deployment -> the types its template holds. Default: ``deployment_types()``.
    """
    types = resource_types if resource_types is not None else deployment_types()
    found: list[Denial] = []
    # Accounts under the same OUs share a path: its key (with the documents, the one costly part to
    # serialize) is built once per deployment, role and path, not once per account.
    keys: dict[tuple[str, str, tuple[tuple[str, ...], ...]], str] = {}
    for deployer in deployers(config):
        path = tuple(tuple(n for n in names if n in documents) for _, names in scp_path(config, deployer.account))
        key = keys.get((deployer.deployment, deployer.role_name, path))
        if key is None:
            used = {n: documents[n] for level in path for n in level}
            key = keys[(deployer.deployment, deployer.role_name, path)] = json.dumps(
                {"types": sorted(types[deployer.deployment]), "role": deployer.role_name, "path": path,
                 "documents": used, "regions": config.regions},
                sort_keys=True,
            )  # fmt: skip
        for action, resource_type, region, policy in _denied(key):
            found.append(
                Denial(deployer=deployer, action=action, resource_type=resource_type, region=region, policy=policy)
            )
            if first_only:
                return found
    return found


#: Condition keys that describe the caller and the request; conditions on any other key (resource
#: tags, aliases, ...) depend on the resource acted on and are taken as holding.
_REQUEST_KEYS = frozenset({"aws:principalarn", "aws:requestedregion", "aws:principalaccount", "aws:principalorgid"})


@cache
def _denied(key: str) -> tuple[tuple[str, str, str, str], ...]:
    """Denied (action, resource type, region, SCP name) of one deployer on one path; cached, since
    every account with the same attachments and deployer gives the same answer.

    A Deny statement applies to the deployer when its conditions on the caller and the request hold
    (the exemptions live there); its resources and resource conditions are taken as matching."""
    spec = json.loads(key)
    principal = f"arn:aws:iam::111111111111:role/{spec['role']}"
    actions = [(resource_type, action) for resource_type in spec["types"] for action in handler_actions(resource_type)]
    result: list[tuple[str, str, str, str]] = []
    for region in spec["regions"]:
        request = Request(action="", principal_arn=principal, region=region)
        for name in dict.fromkeys(n for level in spec["path"] for n in level):
            for statement in _deny_statements(spec["documents"][name]):
                condition = {
                    operator: {k: v for k, v in block.items() if k.lower() in _REQUEST_KEYS}
                    for operator, block in statement.get("Condition", {}).items()
                }
                if not conditions_match(condition, request):
                    continue
                for resource_type, action in actions:
                    if _action_in(statement, action):
                        result.append((action, resource_type, region, name))
    return tuple(dict.fromkeys(result))


def _deny_statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    return [s for s in statements if s.get("Effect") == "Deny"]


def _action_in(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        patterns = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        return any(action_matches(p, action) for p in patterns)
    patterns = statement["NotAction"] if isinstance(statement["NotAction"], list) else [statement["NotAction"]]
    return not any(action_matches(p, action) for p in patterns)


def scp_path(config: BaselineConfig, account: Account) -> list[tuple[str, list[str]]]:
    """The SCP names attached on ``account``'s path: the root, each OU down to its own, the account."""
    from stacks.org_settings import scp_section

    attachments = scp_section(config).attachments
    path: list[tuple[str, list[str]]] = [("root", list(attachments.root))]
    for unit in _ou_path(config, account):
        path.append((f"OU {unit}", list(attachments.organizational_units.get(unit, []))))
    path.append((f"account {account.name}", list(attachments.accounts.get(account.name, []))))
    return path


def _ou_path(config: BaselineConfig, account: Account) -> list[str]:
    """OU names from the root down to the account's OU (empty: the account sits in the root)."""
    if account.ou is None or config.organization is None:
        return []

    def find(units: Iterable[Any], trail: list[str]) -> list[str] | None:
        for unit in units:
            here = [*trail, unit.name]
            if unit.name == account.ou:
                return here
            below = find(unit.children, here)
            if below is not None:
                return below
        return None

    return find(config.organization.organizational_units, []) or []


@cache
def handler_actions(resource_type: str) -> tuple[str, ...]:
    """IAM actions CloudFormation's create, update and delete handlers of ``resource_type`` call."""
    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        # CloudFormation invokes the custom resource's function with the deployer's credentials.
        return ("lambda:InvokeFunction",)
    schema = _schema(resource_type)
    handlers = schema.get("handlers", {})
    actions: list[str] = []
    for operation in ("create", "update", "delete"):
        actions.extend(handlers.get(operation, {}).get("permissions", []))
    # Some schemas list S3 REST operations rather than IAM actions; they are not policy actions.
    return tuple(sorted({a for a in actions if ":" in a and "." not in a.split(":", 1)[1]}))


@cache
def _schemas_directory() -> Path:
    """cfn-lint's ``data/schemas``, found without importing cfn-lint: its import (sympy and all its
    rules) costs more than a second and tens of MiB on every synth, and only the data files are read."""
    spec = util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cfn-lint is not installed: its resource provider schemas are needed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


@cache
def _providers() -> dict[str, str]:
    return json.loads((_schemas_directory() / "providers" / "us-east-1.json").read_text())


def _schema(resource_type: str) -> dict[str, Any]:
    name = _providers().get(resource_type)
    if name is None:
        raise KeyError(f"{resource_type}: no resource provider schema in cfn-lint")
    return json.loads((_schemas_directory() / "resources" / f"{name}.json").read_text())


def problems(config: BaselineConfig, documents: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Config errors for deployments the SCPs would break, one per deployment and SCP."""
    seen: dict[tuple[str, str], list[Denial]] = {}
    for denial in denials(config, documents):
        seen.setdefault((denial.deployer.label, denial.policy), []).append(denial)
    result = []
    for (label, policy), found in seen.items():
        deployer = found[0].deployer
        actions = sorted({d.action for d in found})
        accounts = sorted({d.deployer.account.name for d in found})
        shown = ", ".join(actions[:4]) + (f" and {len(actions) - 4} more" if len(actions) > 4 else "")
        result.append(
            f"service_control_policies.exempt_role_names: SCP {policy!r} would deny {label} its deploying role "
            f"{deployer.needed_exemption.replace('*', '…')} ({shown}) in account(s) {', '.join(accounts)}; "
            f"add {deployer.needed_exemption!r} to exempt_role_names"
        )
    return result
