"""Read-only checks of the live organization against the config, before the first ``cdk deploy``.

    python -m stacks.preflight CONFIG [--member-role ROLE] [--region REGION]
    make preflight CONFIG=config/acme.yaml

Run with credentials of the deploying account (the management account; the one account in
single-account mode). Checks in member accounts assume ``--member-role`` there (default
``OrganizationAccountAccessRole``; README "Preflight" gives a least-privilege read-only role).
Prints one row per check (result, check, where, detail, fix) and exits 1 on any blocker. Nothing
is changed anywhere: every call is a Describe/Get/List/Head.

The environments and fixed names come from ``stacks.deploy_plan`` (``build_stacks`` on a fresh
app), so the preflight checks exactly what the app would deploy.
"""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stacks.config import AccountRole, BaselineConfig, ConfigError, OrganizationalUnit, load_config
from stacks.deploy_plan import DeployPlan, FixedName, bootstrap_command, build_plan, deploying_account

#: Lowest bootstrap version the synthesized templates accept (their CheckBootstrapVersion rule rejects 1-5).
REQUIRED_BOOTSTRAP_VERSION = 6
#: Version of the bootstrap template of the CDK CLI pinned in package.json (aws-cdk 2.1148.1); older
#: bootstrap stacks work but miss fixes, so they are a warning.
CLI_BOOTSTRAP_VERSION = 33
CDK_QUALIFIER = "hnb659fds"
TOOLKIT_STACK = "CDKToolkit"
#: AWS Organizations quota: SCPs attached to one root, OU or account, FullAWSAccess included.
MAX_SCPS_PER_TARGET = 5
#: AWS Organizations quota: OUs nest at most five levels below the root.
MAX_OU_DEPTH = 5
DEFAULT_MEMBER_ROLE = "OrganizationAccountAccessRole"
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"


class Result(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCKER = "BLOCKER"


@dataclass(frozen=True)
class Row:
    result: Result
    check: str
    where: str
    detail: str
    fix: str = ""


class Unreachable(Exception):
    """Credentials for an account could not be obtained."""


class Sessions:
    """boto3 sessions per account: the caller's own for the deploying account, an assumed member role elsewhere."""

    def __init__(self, base: Any, *, home_account: str, member_role: str) -> None:
        self.base = base
        self.home_account = home_account
        self.member_role = member_role
        self._cache: dict[str, Any] = {}
        self._clients: dict[str, Any] = {}  # creating a boto3 client costs tens of milliseconds

    def session(self, account: str) -> Any:
        if account == self.home_account:
            return self.base
        if account not in self._cache:
            from botocore.exceptions import BotoCoreError, ClientError

            arn = f"arn:{self.partition}:iam::{account}:role/{self.member_role}"
            try:
                credentials = self.base.client("sts").assume_role(RoleArn=arn, RoleSessionName="baseline-preflight")[
                    "Credentials"
                ]
            except (ClientError, BotoCoreError) as error:
                raise Unreachable(f"cannot assume {arn}: {error}") from error
            self._cache[account] = assumed_session(self.base, credentials)
        return self._cache[account]

    @property
    def partition(self) -> str:
        return self.base.get_partition_for_region(self.base.region_name or "us-east-1")

    def client(self, account: str, service: str, region: str) -> Any:
        key = f"{account}/{service}/{region}"
        if key not in self._clients:
            self._clients[key] = self.session(account).client(service, region_name=region)
        return self._clients[key]


def assumed_session(base: Any, credentials: dict[str, Any]) -> Any:
    """A boto3 session with assumed-role credentials that shares ``base``'s loaded service models
    (a fresh session parses them again: about a second per service under load)."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", base._session.get_component("data_loader"))
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=base.region_name,
        botocore_session=core,
    )


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def _not_found(error: Exception) -> bool:
    code = _code(error)
    return any(word in code for word in ("NotFound", "NoSuch", "ParameterNotFound")) or code in ("404",)


@dataclass
class Preflight:
    config: BaselineConfig
    plan: DeployPlan
    sessions: Sessions
    progress: Callable[[str], None] = lambda _line: None
    rows: list[Row] = field(default_factory=list)

    # --- helpers -------------------------------------------------------------------------------

    def add(self, result: Result, check: str, where: str, detail: str, fix: str = "") -> None:
        self.rows.append(Row(result, check, where, detail, fix))

    def guarded(self, check: str, where: str, action: str, run: Callable[[], None]) -> None:
        """Run one check; an API error becomes a warn row that says what to grant, never a traceback."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            run()
        except Unreachable as error:
            self.add(Result.WARN, check, where, f"not checked: {error}", self._role_fix())
        except (ClientError, BotoCoreError) as error:
            self.add(
                Result.WARN,
                check,
                where,
                f"not checked: {_code(error)} calling {action}",
                f"allow {action} to the caller (or the member role {self.sessions.member_role})",
            )

    def _role_fix(self) -> str:
        return (
            f"create role {self.sessions.member_role} trusted by {self.sessions.home_account} with the "
            "read-only policy of README 'Preflight', or pass --member-role NAME"
        )

    def account_name(self, account_id: str) -> str:
        return next((a.name for a in self.config.accounts if a.id == account_id), account_id)

    def where(self, account_id: str, region: str | None = None) -> str:
        text = f"{self.account_name(account_id)} ({account_id})"
        return f"{text} {region}" if region else text

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> list[Row]:
        deployer = deploying_account(self.config)
        self.guarded("credentials", "caller", "sts:GetCallerIdentity", self.check_caller)
        if self.config.organization is not None:
            self.progress("organization: id, management account, root, accounts, OUs, SCPs, trusted access")
            org = self.config.organization
            if org.id is None:
                self.add(Result.WARN, "organization", "organization", "organization.create: true; checks skipped")
            else:
                self.guarded("organization", "organization", "organizations:DescribeOrganization", self.check_org)
                self.guarded("root", "organization", "organizations:ListRoots", self.check_root)
                self.guarded("accounts", "organization", "organizations:ListAccounts/ListParents", self.check_accounts)
                self.guarded("OUs", "organization", "organizations:DescribeOrganizationalUnit", self.check_units)
                self.guarded("SCP quota", "organization", "organizations:ListPoliciesForTarget", self.check_scps)
                self.guarded(
                    "trusted access",
                    "organization",
                    "organizations:ListAWSServiceAccessForOrganization",
                    self.check_trusted_access,
                )
                self.guarded(
                    "delegated admin",
                    "organization",
                    "organizations:ListDelegatedAdministrators, organizations:ListDelegatedServicesForAccount",
                    self.check_delegated_admins,
                )
                self.guarded(
                    "organization trails",
                    self.where(deployer, self.config.home_region),
                    "cloudtrail:DescribeTrails",
                    self.check_org_trails,
                )
        accounts = self._accounts_to_check()
        for index, account in enumerate(accounts, 1):
            self.progress(f"account {index}/{len(accounts)}: {self.where(account)}")
            try:
                self.sessions.session(account)
            except Unreachable as error:
                self.add(Result.WARN, "member role", self.where(account), f"not checked: {error}", self._role_fix())
                continue
            for env in (e for e in self.plan.environments if e.account == account):
                self.guarded(
                    "CDK bootstrap",
                    self.where(account, env.region),
                    "cloudformation:DescribeStacks, ssm:GetParameter",
                    lambda env=env: self.check_bootstrap(env.account, env.region),
                )
            self.check_names(account)
            self.guarded(
                "AWS Config recorder",
                self.where(account),
                "config:DescribeConfigurationRecorders, config:DescribeDeliveryChannels",
                lambda a=account: self.check_recorders(a),
            )
        return self.rows

    def _accounts_to_check(self) -> list[str]:
        touched = {e.account for e in self.plan.environments}
        for fixed in self.plan.fixed_names:
            touched.update(fixed.accounts)
        return [a.id for a in self.config.accounts if a.id in touched]

    # --- organization --------------------------------------------------------------------------

    def check_caller(self) -> None:
        caller = self.sessions.base.client("sts").get_caller_identity()["Account"]
        expected = deploying_account(self.config)
        if caller == expected:
            self.add(Result.PASS, "credentials", self.where(caller), "credentials of the deploying account")
        else:
            self.add(
                Result.BLOCKER,
                "credentials",
                f"account {caller}",
                f"credentials are of account {caller}, the deploying account is {expected}",
                f"run with credentials of {expected} (e.g. AWS_PROFILE=<its profile> make preflight)",
            )

    def _orgs(self) -> Any:
        return self.sessions.client(deploying_account(self.config), "organizations", self.config.home_region)

    def check_org(self) -> None:
        assert self.config.organization is not None
        from botocore.exceptions import ClientError

        try:
            org = self._orgs().describe_organization()["Organization"]
        except ClientError as error:
            if _code(error) != "AWSOrganizationsNotInUseException":
                raise
            self.add(
                Result.BLOCKER,
                "organization",
                "organization",
                "the caller's account belongs to no organization",
                "create it (README 'A new organization': organization.create: true) or use the management account",
            )
            return
        management = self.config.account_with_role(AccountRole.MANAGEMENT).id
        problems = []
        if org["Id"] != self.config.organization.id:
            problems.append(
                (
                    f"organization id is {org['Id']}, config says {self.config.organization.id}",
                    f"set organization.id: {org['Id']}",
                )
            )
        if org["MasterAccountId"] != management:
            problems.append(
                (
                    f"management account is {org['MasterAccountId']}, config says {management}",
                    f"set the id of the account with role management to {org['MasterAccountId']!r}",
                )
            )
        if org.get("FeatureSet") != "ALL":
            problems.append(
                (
                    f"feature set is {org.get('FeatureSet')}: SCPs and trusted access need all features",
                    "aws organizations enable-all-features (every member account must accept)",
                )
            )
        for detail, fix in problems:
            self.add(Result.BLOCKER, "organization", f"organization {org['Id']}", detail, fix)
        if not problems:
            self.add(
                Result.PASS, "organization", f"organization {org['Id']}", f"id and management account {management}"
            )

    def _root(self) -> dict[str, Any]:
        return self._orgs().list_roots()["Roots"][0]

    def check_root(self) -> None:
        assert self.config.organization is not None
        root = self._root()
        configured = self.config.organization.root_id
        if configured is not None and configured != root["Id"]:
            self.add(
                Result.BLOCKER,
                "root",
                f"root {root['Id']}",
                f"organization.root_id is {configured}",
                f"set organization.root_id: {root['Id']} (or drop it)",
            )
        else:
            self.add(Result.PASS, "root", f"root {root['Id']}", "root id matches" if configured else "root found")
        enabled = {p["Type"] for p in root.get("PolicyTypes", []) if p.get("Status") == "ENABLED"}
        if "SERVICE_CONTROL_POLICY" not in enabled:
            self.add(
                Result.WARN,
                "SCP policy type",
                f"root {root['Id']}",
                "SERVICE_CONTROL_POLICY is not enabled yet; the management stack enables it itself",
            )

    def _parent(self, child_id: str) -> dict[str, Any]:
        return self._orgs().list_parents(ChildId=child_id)["Parents"][0]

    def _unit_ids(self) -> dict[str, str | None]:
        assert self.config.organization is not None
        return {unit.name: unit.id for unit in self.config.organization.all_units()}

    def check_accounts(self) -> None:
        orgs = self._orgs()
        existing: dict[str, dict[str, Any]] = {}
        for page in orgs.get_paginator("list_accounts").paginate():
            existing.update({a["Id"]: a for a in page["Accounts"]})
        root_id = self._root()["Id"]
        unit_ids = self._unit_ids()
        names_by_id = {v: k for k, v in unit_ids.items() if v}
        for index, account in enumerate(self.config.accounts):
            where = self.where(account.id)
            found = existing.get(account.id)
            if found is None:
                self.add(
                    Result.BLOCKER,
                    "account",
                    where,
                    "not a member of the organization",
                    f"invite it (aws organizations invite-account-to-organization --target Id={account.id},Type=ACCOUNT) "
                    f"or fix accounts[{index}].id",
                )
                continue
            status = found.get("Status")
            if status != "ACTIVE":
                self.add(
                    Result.BLOCKER, "account", where, f"status {status}", "only ACTIVE accounts can be deployed to"
                )
                continue
            if account.role is AccountRole.MANAGEMENT:
                self.add(Result.PASS, "account", where, "ACTIVE, management account")
                continue
            parent = self._parent(account.id)["Id"]
            expected = root_id if account.ou is None else unit_ids.get(account.ou)
            here = "the root" if parent == root_id else f"OU {names_by_id.get(parent, parent)}"
            if account.ou is not None and expected is None:
                self.add(
                    Result.WARN,
                    "account",
                    where,
                    f"ACTIVE, sits in {here}; OU {account.ou} is created by the management stack",
                    f"after the deploy: aws organizations move-account --account-id {account.id} "
                    f"--source-parent-id {parent} --destination-parent-id <id of OU {account.ou}>",
                )
            elif parent != expected:
                self.add(
                    Result.BLOCKER,
                    "account",
                    where,
                    f"sits in {here} ({parent}), config says {account.ou or 'the root'} ({expected})",
                    f"aws organizations move-account --account-id {account.id} --source-parent-id {parent} "
                    f"--destination-parent-id {expected}, or set accounts[{index}].ou to where it is",
                )
            else:
                self.add(Result.PASS, "account", where, f"ACTIVE, in {here}")

    def check_units(self) -> None:
        assert self.config.organization is not None
        from botocore.exceptions import ClientError

        orgs = self._orgs()
        root_id = self._root()["Id"]

        def walk(units: list[OrganizationalUnit], parent_id: str | None, parent_name: str, path: str) -> None:
            for index, unit in enumerate(units):
                where_path = f"{path}[{index}]"
                if unit.id is not None:
                    try:
                        orgs.describe_organizational_unit(OrganizationalUnitId=unit.id)
                    except ClientError as error:
                        if not _not_found(error):
                            raise
                        self.add(
                            Result.BLOCKER,
                            "OU",
                            f"OU {unit.name}",
                            f"{where_path}.id: {unit.id} does not exist",
                            "aws organizations list-organizational-units-for-parent --parent-id <parent>: "
                            "use the real id, or drop the id to create the OU",
                        )
                        walk(unit.children, None, unit.name, f"{where_path}.children")
                        continue
                    actual_parent = self._parent(unit.id)["Id"]
                    depth = self._depth(unit.id, root_id)
                    if parent_id is not None and actual_parent != parent_id:
                        self.add(
                            Result.BLOCKER,
                            "OU",
                            f"OU {unit.name}",
                            f"{unit.id} sits under {actual_parent}, the config nests it under {parent_name} "
                            f"({parent_id})",
                            "nest it in the config where it is (Organizations cannot move an OU)",
                        )
                    elif depth > MAX_OU_DEPTH:
                        self.add(
                            Result.BLOCKER,
                            "OU",
                            f"OU {unit.name}",
                            f"{unit.id} sits {depth} levels below the root; AWS allows {MAX_OU_DEPTH}",
                            "flatten the tree",
                        )
                    else:
                        self.add(Result.PASS, "OU", f"OU {unit.name}", f"{unit.id} exists, depth {depth}")
                    walk(unit.children, unit.id, unit.name, f"{where_path}.children")
                    continue
                if parent_id is not None:
                    # CloudFormation fails with DuplicateOrganizationalUnitException on an existing name.
                    siblings = [
                        ou
                        for page in orgs.get_paginator("list_organizational_units_for_parent").paginate(
                            ParentId=parent_id
                        )
                        for ou in page["OrganizationalUnits"]
                    ]
                    same = next((ou for ou in siblings if ou["Name"] == unit.name), None)
                    if same is not None:
                        self.add(
                            Result.BLOCKER,
                            "OU",
                            f"OU {unit.name}",
                            f"an OU named {unit.name} exists already under {parent_name} ({same['Id']}); "
                            "creating it again fails",
                            f"set {where_path}.id: {same['Id']}",
                        )
                    else:
                        self.add(Result.PASS, "OU", f"OU {unit.name}", f"created by the stack under {parent_name}")
                walk(unit.children, None, unit.name, f"{where_path}.children")

        walk(self.config.organization.organizational_units, root_id, "the root", "organization.organizational_units")

    def _depth(self, unit_id: str, root_id: str) -> int:
        depth, current = 0, unit_id
        while current != root_id and depth <= MAX_OU_DEPTH + 1:
            current = self._parent(current)["Id"]
            depth += 1
        return depth

    def check_scps(self) -> None:
        from stacks.org_settings import scp_section

        orgs = self._orgs()
        attachments = scp_section(self.config).attachments
        root_id = self._root()["Id"]
        unit_ids = self._unit_ids()
        accounts = {a.name: a.id for a in self.config.accounts}
        targets: list[tuple[str, str | None, list[str]]] = [("root", root_id, attachments.root)]
        targets += [
            (f"OU {name}", unit_ids.get(name), names) for name, names in attachments.organizational_units.items()
        ]
        targets += [(f"account {name}", accounts.get(name), names) for name, names in attachments.accounts.items()]
        existing_names = {
            p["Name"]: p["Id"]
            for page in orgs.get_paginator("list_policies").paginate(Filter="SERVICE_CONTROL_POLICY")
            for p in page["Policies"]
        }
        for name in (n for n in self._planned_names("AWS::Organizations::Policy")):
            if name in existing_names:
                self.add(
                    Result.BLOCKER,
                    "fixed name",
                    "organization",
                    f"an SCP named {name} exists already ({existing_names[name]}); creating it again fails",
                    f"rename or delete {existing_names[name]} (after detaching it), or adopt it with cdk import",
                )
        for label, target_id, planned in targets:
            if not planned:
                continue
            if target_id is None:
                # A new OU starts with FullAWSAccess only.
                attached = ["FullAWSAccess"]
            else:
                attached = [
                    p["Name"]
                    for page in orgs.get_paginator("list_policies_for_target").paginate(
                        TargetId=target_id, Filter="SERVICE_CONTROL_POLICY"
                    )
                    for p in page["Policies"]
                ]
            total = len(attached) + len([n for n in planned if n not in attached])
            detail = f"{len(attached)} attached ({', '.join(attached)}) + {len(planned)} of the baseline = {total}"
            if total > MAX_SCPS_PER_TARGET:
                self.add(
                    Result.BLOCKER,
                    "SCP quota",
                    label,
                    f"{detail}; AWS allows {MAX_SCPS_PER_TARGET} per target",
                    "detach SCPs there (aws organizations detach-policy) or move the baseline's to another target "
                    "in service_control_policies.attachments",
                )
            else:
                self.add(Result.PASS, "SCP quota", label, f"{detail} of {MAX_SCPS_PER_TARGET}")

    def _planned_names(self, resource_type: str) -> list[str]:
        return list(dict.fromkeys(f.name for f in self.plan.fixed_names if f.resource_type == resource_type))

    def _enabled_by_stack(self) -> dict[str, str]:
        """Trusted access the management stack enables itself, with why."""
        from stacks.org_settings import organization_options
        from stacks.workload import wants_workload_baseline

        wanted = {p: "the organization trail" for p in organization_options(self.config)["trusted_access_services"]}
        for service in organization_options(self.config)["delegated_administrators"]:
            wanted[service.value] = "the delegated administrator of the audit account"
        if wants_workload_baseline(self.config):
            wanted[STACKSETS_PRINCIPAL] = "the service-managed StackSet"
        return wanted

    def check_trusted_access(self) -> None:
        enabled = {
            s["ServicePrincipal"]
            for page in self._orgs().get_paginator("list_aws_service_access_for_organization").paginate()
            for s in page["EnabledServicePrincipals"]
        }
        for principal, why in self._enabled_by_stack().items():
            if principal in enabled:
                self.add(Result.PASS, "trusted access", principal, f"enabled (needed by {why})")
            else:
                self.add(
                    Result.WARN,
                    "trusted access",
                    principal,
                    f"not enabled yet; the management stack enables it itself (for {why})",
                )

    def check_delegated_admins(self) -> None:
        from stacks.org_settings import organization_options

        delegated = organization_options(self.config)["delegated_administrators"]
        accounts = {a.name: a.id for a in self.config.accounts}
        # ListDelegatedAdministrators unfiltered, then the services of each: filtering by
        # ServicePrincipal would also work on AWS, but moto 5.2.5 refuses config.amazonaws.com there.
        orgs = self._orgs()
        registered: dict[str, list[str]] = {}
        for page in orgs.get_paginator("list_delegated_administrators").paginate():
            for admin in page["DelegatedAdministrators"]:
                services = orgs.list_delegated_services_for_account(AccountId=admin["Id"])["DelegatedServices"]
                for service in services:
                    registered.setdefault(service["ServicePrincipal"], []).append(admin["Id"])
        for service, account_name in delegated.items():
            wanted = accounts[account_name]
            holders = registered.get(service.value, [])
            others = [a for a in holders if a != wanted]
            if others:
                self.add(
                    Result.WARN,
                    "delegated admin",
                    service.value,
                    f"already registered to {', '.join(others)}; the stack registers {account_name} ({wanted})",
                    f"aws organizations deregister-delegated-administrator --account-id {others[0]} "
                    f"--service-principal {service.value}, or keep it and switch off "
                    "service_control_policies.delegated_administrators for it",
                )
            elif holders:
                self.add(Result.PASS, "delegated admin", service.value, f"already {account_name} ({wanted})")
            else:
                self.add(Result.PASS, "delegated admin", service.value, f"none yet; the stack registers {account_name}")

    def check_org_trails(self) -> None:
        deployer = deploying_account(self.config)
        trails = self.sessions.client(deployer, "cloudtrail", self.config.home_region).describe_trails(
            includeShadowTrails=True
        )["trailList"]
        others = [t for t in trails if t.get("IsOrganizationTrail") and t["Name"] != self.config.cloudtrail.trail_name]
        where = self.where(deployer, self.config.home_region)
        if others:
            names = ", ".join(f"{t['Name']} ({t.get('HomeRegion')})" for t in others)
            self.add(
                Result.WARN,
                "organization trails",
                where,
                f"existing organization trail(s) {names}: a second one bills management events again",
                "keep one: delete the old trail after the baseline's delivers, or exclude management events "
                "from one (cloudtrail.management_events: none)",
            )
        else:
            self.add(Result.PASS, "organization trails", where, "no other organization trail")

    # --- per account ---------------------------------------------------------------------------

    def check_bootstrap(self, account: str, region: str) -> None:
        from botocore.exceptions import ClientError

        where = self.where(account, region)
        command = bootstrap_command(self.config, account, [region]).replace(" \\\n    ", " ")
        try:
            stack = self.sessions.client(account, "cloudformation", region).describe_stacks(StackName=TOOLKIT_STACK)[
                "Stacks"
            ][0]
        except ClientError as error:
            if _code(error) != "ValidationError":
                raise
            self.add(Result.BLOCKER, "CDK bootstrap", where, "not bootstrapped (no CDKToolkit stack)", command)
            return
        if stack["StackStatus"].endswith("_FAILED") or stack["StackStatus"].startswith("ROLLBACK"):
            self.add(Result.BLOCKER, "CDK bootstrap", where, f"CDKToolkit is {stack['StackStatus']}", command)
            return
        try:
            version = int(
                self.sessions.client(account, "ssm", region).get_parameter(
                    Name=f"/cdk-bootstrap/{CDK_QUALIFIER}/version"
                )["Parameter"]["Value"]
            )
        except ClientError as error:
            if not _not_found(error):
                raise
            version = 0
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        trusted = [a.strip() for a in parameters.get("TrustedAccounts", "").split(",") if a.strip()]
        deployer = deploying_account(self.config)
        if version < REQUIRED_BOOTSTRAP_VERSION:
            self.add(
                Result.BLOCKER,
                "CDK bootstrap",
                where,
                f"bootstrap version {version or 'unknown'}; the templates need {REQUIRED_BOOTSTRAP_VERSION} or later",
                command,
            )
        elif account != deployer and deployer not in trusted:
            self.add(
                Result.BLOCKER,
                "CDK bootstrap",
                where,
                f"does not trust the deploying account {deployer} (trusts: {', '.join(trusted) or 'none'})",
                command,
            )
        elif version < CLI_BOOTSTRAP_VERSION:
            self.add(
                Result.WARN,
                "CDK bootstrap",
                where,
                f"version {version}; the pinned CDK CLI bootstraps version {CLI_BOOTSTRAP_VERSION}",
                command,
            )
        else:
            trust = "" if account == deployer else f", trusts {deployer}"
            self.add(Result.PASS, "CDK bootstrap", where, f"version {version}{trust}")

    def check_names(self, account: str) -> None:
        by_region: dict[tuple[str, str], list[FixedName]] = {}
        for fixed in self.plan.fixed_names:
            if account not in fixed.accounts or fixed.resource_type in _CHECKED_ELSEWHERE:
                continue
            regions = (self.config.home_region,) if fixed.is_global else fixed.regions
            for region in regions:
                by_region.setdefault((fixed.resource_type, region), []).append(fixed)
        checked, taken = 0, 0
        for (resource_type, region), group in by_region.items():
            names = list(dict.fromkeys(f.name for f in group))
            where = self.where(account, None if resource_type in _GLOBAL else region)
            found: list[str] = []

            def find(
                resource_type: str = resource_type,
                region: str = region,
                names: list[str] = names,
                found: list[str] = found,
            ) -> None:
                client = self.sessions.client(account, _SERVICES[resource_type], region)
                found.extend(_FINDERS[resource_type](client, names))

            before = len(self.rows)
            self.guarded("fixed name", where, _ACTIONS[resource_type], find)
            if len(self.rows) > before:
                continue  # not checked: the warn row says why
            checked += len(names)
            for name in found:
                taken += 1
                stack = next(f.stack for f in group if f.name == name)
                self.add(
                    Result.BLOCKER,
                    "fixed name",
                    where,
                    f"{resource_type} {name} exists already; {stack} would fail to create it",
                    _name_fix(resource_type, name),
                )
        if checked and not taken:
            self.add(Result.PASS, "fixed names", self.where(account), f"{checked} names checked: none exists yet")

    def check_recorders(self, account: str) -> None:
        adopt = self.config.aws_config.existing_recorder_name
        recorder_type = "AWS::Config::ConfigurationRecorder" if adopt is None else "AWS::Config::ConfigRule"
        regions = list(
            dict.fromkeys(
                r
                for f in self.plan.fixed_names
                if f.resource_type == recorder_type and account in f.accounts
                for r in f.regions
            )
        )
        if not regions:
            return
        clean = []
        for region in regions:
            client = self.sessions.client(account, "config", region)
            recorders = [r["name"] for r in client.describe_configuration_recorders()["ConfigurationRecorders"]]
            channels = [c["name"] for c in client.describe_delivery_channels()["DeliveryChannels"]]
            where = self.where(account, region)
            if adopt is not None:
                if adopt not in recorders:
                    self.add(
                        Result.BLOCKER,
                        "AWS Config recorder",
                        where,
                        f"aws_config.existing_recorder_name is {adopt}, found {recorders or 'no recorder'}",
                        "create that recorder first (Control Tower: enroll the account), or drop the setting",
                    )
                else:
                    clean.append(region)
                continue
            if recorders or channels:
                self.add(
                    Result.BLOCKER,
                    "AWS Config recorder",
                    where,
                    f"existing recorder {recorders or 'none'}, delivery channel {channels or 'none'}; AWS allows one "
                    "of each per account and region (Control Tower brings its own)",
                    f"set aws_config.existing_recorder_name: {recorders[0]}"
                    if recorders
                    else f"aws configservice delete-delivery-channel --delivery-channel-name {channels[0]} --region {region}",
                )
            else:
                clean.append(region)
        if clean:
            detail = f"adopted recorder {adopt} present" if adopt else "no recorder, no delivery channel"
            self.add(Result.PASS, "AWS Config recorder", self.where(account), f"{detail} in {', '.join(clean)}")


# --- fixed-name finders: each returns the names of ``names`` that exist -------------------------


def _exists(call: Callable[[], Any], *, missing: Iterable[str] = ()) -> bool:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as error:
        if _not_found(error) or _code(error) in missing:
            return False
        raise
    return True


def _find_roles(client: Any, names: list[str]) -> list[str]:
    return [n for n in names if _exists(lambda n=n: client.get_role(RoleName=n))]


def _find_buckets(client: Any, names: list[str]) -> list[str]:
    # 404: free. 200: this account has it. 403: another account owns the name (bucket names are global).
    return [n for n in names if _exists(lambda n=n: client.head_bucket(Bucket=n))]


def _find_trails(client: Any, names: list[str]) -> list[str]:
    trails = client.describe_trails(trailNameList=names, includeShadowTrails=False)["trailList"]
    return [t["Name"] for t in trails if t["Name"] in names]


def _find_stack_sets(client: Any, names: list[str]) -> list[str]:
    found = []
    for name in names:
        from botocore.exceptions import ClientError

        try:
            status = client.describe_stack_set(StackSetName=name)["StackSet"].get("Status")
        except ClientError as error:
            if _code(error) == "StackSetNotFoundException" or _not_found(error):
                continue
            raise
        if status != "DELETED":
            found.append(name)
    return found


def _find_alarms(client: Any, names: list[str]) -> list[str]:
    found = []
    for start in range(0, len(names), 100):
        response = client.describe_alarms(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        found += [a["AlarmName"] for a in response.get("MetricAlarms", []) + response.get("CompositeAlarms", [])]
    return [n for n in names if n in found]


def _find_dashboards(client: Any, names: list[str]) -> list[str]:
    return [
        n for n in names if _exists(lambda n=n: client.get_dashboard(DashboardName=n), missing=("ResourceNotFound",))
    ]


def _find_config_rules(client: Any, names: list[str]) -> list[str]:
    existing = {
        r["ConfigRuleName"]
        for page in client.get_paginator("describe_config_rules").paginate()
        for r in page["ConfigRules"]
    }
    return [n for n in names if n in existing]


def _find_aggregators(client: Any, names: list[str]) -> list[str]:
    existing = {
        a["ConfigurationAggregatorName"]
        for a in client.describe_configuration_aggregators()["ConfigurationAggregators"]
    }
    return [n for n in names if n in existing]


def _find_event_buses(client: Any, names: list[str]) -> list[str]:
    return [n for n in names if _exists(lambda n=n: client.describe_event_bus(Name=n))]


def _find_aliases(client: Any, names: list[str]) -> list[str]:
    existing = {a["AliasName"] for page in client.get_paginator("list_aliases").paginate() for a in page["Aliases"]}
    return [n for n in names if n in existing]


def _find_log_groups(client: Any, names: list[str]) -> list[str]:
    found = []
    for name in names:
        groups = client.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if any(g["logGroupName"] == name for g in groups):
            found.append(name)
    return found


def _find_sinks(client: Any, names: list[str]) -> list[str]:
    # One sink per account and region: any existing sink blocks the new one, whatever its name.
    # moto 5.2.5 has no OAM: there this raises (HTTP 404) and the row says "not checked".
    sinks = client.list_sinks()["Items"]
    return [names[0]] if sinks else []


def _find_parameters(client: Any, names: list[str]) -> list[str]:
    return [n for n in names if _exists(lambda n=n: client.get_parameter(Name=n))]


def _find_secrets(client: Any, names: list[str]) -> list[str]:
    return [n for n in names if _exists(lambda n=n: client.describe_secret(SecretId=n))]


_FINDERS: dict[str, Callable[[Any, list[str]], list[str]]] = {
    "AWS::CloudFormation::StackSet": _find_stack_sets,
    "AWS::CloudTrail::Trail": _find_trails,
    "AWS::CloudWatch::Alarm": _find_alarms,
    "AWS::CloudWatch::CompositeAlarm": _find_alarms,
    "AWS::CloudWatch::Dashboard": _find_dashboards,
    "AWS::Config::ConfigRule": _find_config_rules,
    "AWS::Config::ConfigurationAggregator": _find_aggregators,
    "AWS::Events::EventBus": _find_event_buses,
    "AWS::IAM::Role": _find_roles,
    "AWS::KMS::Alias": _find_aliases,
    "AWS::Logs::LogGroup": _find_log_groups,
    "AWS::Oam::Sink": _find_sinks,
    "AWS::S3::Bucket": _find_buckets,
    "AWS::SSM::Parameter": _find_parameters,
    "AWS::SecretsManager::Secret": _find_secrets,
}
_SERVICES = {
    "AWS::CloudFormation::StackSet": "cloudformation",
    "AWS::CloudTrail::Trail": "cloudtrail",
    "AWS::CloudWatch::Alarm": "cloudwatch",
    "AWS::CloudWatch::CompositeAlarm": "cloudwatch",
    "AWS::CloudWatch::Dashboard": "cloudwatch",
    "AWS::Config::ConfigRule": "config",
    "AWS::Config::ConfigurationAggregator": "config",
    "AWS::Events::EventBus": "events",
    "AWS::IAM::Role": "iam",
    "AWS::KMS::Alias": "kms",
    "AWS::Logs::LogGroup": "logs",
    "AWS::Oam::Sink": "oam",
    "AWS::S3::Bucket": "s3",
    "AWS::SSM::Parameter": "ssm",
    "AWS::SecretsManager::Secret": "secretsmanager",
}
#: The IAM action each finder calls (README "Preflight" lists them for the read-only member role).
_ACTIONS = {
    "AWS::CloudFormation::StackSet": "cloudformation:DescribeStackSet",
    "AWS::CloudTrail::Trail": "cloudtrail:DescribeTrails",
    "AWS::CloudWatch::Alarm": "cloudwatch:DescribeAlarms",
    "AWS::CloudWatch::CompositeAlarm": "cloudwatch:DescribeAlarms",
    "AWS::CloudWatch::Dashboard": "cloudwatch:GetDashboard",
    "AWS::Config::ConfigRule": "config:DescribeConfigRules",
    "AWS::Config::ConfigurationAggregator": "config:DescribeConfigurationAggregators",
    "AWS::Events::EventBus": "events:DescribeEventBus",
    "AWS::IAM::Role": "iam:GetRole",
    "AWS::KMS::Alias": "kms:ListAliases",
    "AWS::Logs::LogGroup": "logs:DescribeLogGroups",
    "AWS::Oam::Sink": "oam:ListSinks",
    "AWS::S3::Bucket": "s3:ListBucket (HeadBucket)",
    "AWS::SSM::Parameter": "ssm:GetParameter",
    "AWS::SecretsManager::Secret": "secretsmanager:DescribeSecret",
}
#: Checked by their own rows: the recorder check (one per region, whatever its name) and the SCP check.
_CHECKED_ELSEWHERE = (
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::Organizations::Policy",
)
_GLOBAL = ("AWS::IAM::Role", "AWS::S3::Bucket")


def _name_fix(resource_type: str, name: str) -> str:
    if resource_type == "AWS::S3::Bucket":
        return (
            f"delete or rename bucket {name} if it is yours and empty; if another account owns it, change naming.prefix"
        )
    if resource_type == "AWS::IAM::Role":
        return f"delete role {name} (aws iam delete-role --role-name {name}) once nothing uses it, or cdk import it"
    if resource_type == "AWS::Oam::Sink":
        return "one OAM sink per account and region: delete it, or set observability.oam: false and oam_sink_arn"
    return f"delete the existing {resource_type} {name}, rename it, or bring it under the stack with cdk import"


# --- output --------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    headers = ("result", "check", "where", "detail", "fix")
    cells = [headers, *((r.result.value, r.check, r.where, r.detail, r.fix) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = []
    for cell in cells:
        lines.append("  ".join(cell[i].ljust(widths[i]) for i in range(4)) + "  " + cell[4])
    return "\n".join(line.rstrip() for line in lines)


def summary(rows: list[Row]) -> str:
    counts = {result: sum(1 for r in rows if r.result is result) for result in Result}
    return f"{counts[Result.PASS]} pass, {counts[Result.WARN]} warn, {counts[Result.BLOCKER]} blocker(s)"


def run_preflight(
    config: BaselineConfig,
    *,
    session: Any,
    member_role: str = DEFAULT_MEMBER_ROLE,
    plan: DeployPlan | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Row]:
    """All checks against the organization the ``session``'s credentials reach; returns the rows."""
    sessions = Sessions(session, home_account=deploying_account(config), member_role=member_role)
    return Preflight(config, plan if plan is not None else build_plan(config), sessions, progress).run()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--member-role", default=DEFAULT_MEMBER_ROLE, help=f"default: {DEFAULT_MEMBER_ROLE}")
    parser.add_argument("--profile", default=None, help="AWS profile of the deploying account")
    args = parser.parse_args(argv[1:])
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    import boto3

    session = boto3.Session(profile_name=args.profile, region_name=config.home_region)
    print(f"preflight: {args.config}: building the stacks (no synth) ...", file=sys.stderr, flush=True)
    rows = run_preflight(
        config,
        session=session,
        member_role=args.member_role,
        progress=lambda line: print(f"preflight: {line}", file=sys.stderr, flush=True),
    )
    print(table(rows))
    print(summary(rows))
    return 1 if any(r.result is Result.BLOCKER for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
