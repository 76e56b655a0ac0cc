"""Read-only checks of the live organization against the config, before the first ``cdk deploy``.

    python -m stacks.preflight CONFIG [--member-role ROLE] [--profile PROFILE] [--jobs N]
    make preflight CONFIG=config/acme.yaml

Run with credentials of the deploying account (the management account; the one account in
single-account mode). Checks in member accounts assume ``--member-role`` there (default
``OrganizationAccountAccessRole``; docs/organization.md "Preflight" gives a least-privilege read-only role).
Prints one row per check (result, check, where, detail, fix) and exits 1 on any blocker. Nothing
is changed anywhere: every call is a Describe/Get/List/Head.

The environments and fixed names come from ``stacks.deploy_plan`` (``build_stacks`` on a fresh
app), so the preflight checks exactly what the app would deploy.

The organization-wide checks run first, one after another; then the member accounts are checked
``--jobs`` at a time (default 8). Their checks spend most of their time waiting on AWS: on an emulated
organization of 203 accounts, with 50 ms before each call, 8 at a time took 62 s where one after
another took 319 s (bench/preflight.py, docs/organization.md "Preflight"). The rows come out the same
either way, in the order of the config's accounts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import enum
import errno
import functools
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stacks.config import (
    AccountRole,
    BaselineConfig,
    ControlTower,
    OrganizationalUnit,
    config_errors_exit_1,
    load_config,
)
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
#: Member accounts checked at once (``--jobs``). Each account's checks are a few dozen calls that wait on
#: AWS; different accounts have their own request quotas, and the one shared call (sts:AssumeRole, once
#: per account) stays far below STS's.
DEFAULT_JOBS = 8
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
#: What a Control Tower landing zone leaves behind (AWS Control Tower User Guide): resources named
#: ``aws-controltower-*`` (its organization trail, its recorders), these roles in the management
#: account, and its preventive controls as SCPs named ``aws-guardrails-*`` attached to registered OUs.
CONTROL_TOWER_PREFIX = "aws-controltower-"
CONTROL_TOWER_SCP_PREFIX = "aws-guardrails-"
CONTROL_TOWER_ADMIN_ROLE = "AWSControlTowerAdmin"
CONTROL_TOWER_MANAGEMENT_ROLES = (
    CONTROL_TOWER_ADMIN_ROLE,
    "AWSControlTowerStackSetRole",
    "AWSControlTowerCloudTrailRole",
)


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


@dataclass(frozen=True)
class LandingZone:
    """A Control Tower landing zone as the management account shows it.

    :param api: what ``controltower:ListLandingZones`` said, for the row's detail (moto 5.2.5 has no
        Control Tower API: there, and wherever the caller may not call it, detection rests on the resources).
    :param arn: the landing zone's ARN when the API answered with one.
    :param governed_regions: its manifest's governed regions when the API answered.
    :param trails: Control Tower's trails seen from its home region (``describe_trails`` entries).
    :param roles: which of ``CONTROL_TOWER_MANAGEMENT_ROLES`` exist in the management account.
    """

    api: str
    arn: str | None
    governed_regions: tuple[str, ...] | None
    trails: tuple[dict[str, Any], ...]
    roles: tuple[str, ...]

    @property
    def found(self) -> bool:
        return self.arn is not None or bool(self.trails) or CONTROL_TOWER_ADMIN_ROLE in self.roles

    def evidence(self) -> str:
        parts = [f"landing zone {self.arn}"] if self.arn else []
        parts += [f"trail {t['Name']} (home region {t.get('HomeRegion')})" for t in self.trails]
        if self.roles:
            parts.append(f"role(s) {', '.join(self.roles)}")
        return "; ".join(parts) or f"no trail {CONTROL_TOWER_PREFIX}*, no role {CONTROL_TOWER_ADMIN_ROLE}"


def is_control_tower_trail(trail: dict[str, Any], settings: ControlTower) -> bool:
    return trail["Name"] == settings.trail_name or trail["Name"].startswith(CONTROL_TOWER_PREFIX)


def log_group_name(arn: str) -> str:
    """``arn:aws:logs:eu-west-1:111111111111:log-group:aws-controltower/CloudTrailLogs:*`` -> the group's name."""
    name = arn.split(":log-group:", 1)[-1]
    return name.removesuffix(":*")


class Unreachable(Exception):
    """Credentials for an account could not be obtained."""


class Sessions:
    """boto3 clients per account: the caller's own credentials for the deploying account, an assumed
    member role elsewhere. Every client comes from the caller's session (``base``), with the assumed
    role's credentials where needed, so the settings of the caller's profile (``--profile``: retries,
    CA bundle, endpoints) apply in every account.

    Member accounts are checked side by side, on threads: clients are made one at a time (a boto3
    session is not thread-safe), and then used by one thread each (a client is).

    An account's clients are closed once its checks are done (``release``): each client keeps its own
    connection pool, with a kept-alive socket for every endpoint it called, and about 0.3 MiB. Kept to
    the end, a thousand workload accounts held some 11,000 of them (3.4 GiB on the emulator): past
    the 1,024 open files a process gets by default on many Linux systems (256 in a macOS shell) after
    about 90 accounts."""

    def __init__(self, base: Any, *, home_account: str, member_role: str) -> None:
        self.base = base
        self.home_account = home_account
        self.member_role = member_role
        self._credentials: dict[str, dict[str, Any] | None] = {home_account: None}
        self._clients: dict[str, dict[tuple[str, str], Any]] = {}
        self._making = threading.Lock()

    def _make_client(self, service: str, **settings: Any) -> Any:
        with self._making:
            return self.base.client(service, **settings)

    def credentials(self, account: str) -> dict[str, Any] | None:
        """The member role's credentials in ``account`` (assumed once), None for the caller's own account;
        ``Unreachable`` when the role cannot be assumed."""
        if account not in self._credentials:
            from botocore.exceptions import BotoCoreError, ClientError

            arn = f"arn:{self.partition}:iam::{account}:role/{self.member_role}"
            try:
                self._credentials[account] = self.caller_sts.assume_role(
                    RoleArn=arn, RoleSessionName="baseline-preflight"
                )["Credentials"]
            except (ClientError, BotoCoreError) as error:
                raise Unreachable(f"cannot assume {arn}: {error}") from error
        return self._credentials[account]

    @functools.cached_property
    def caller_sts(self) -> Any:
        """The caller's STS client: one for the caller's identity and every account to assume the role in
        (a boto3 client costs about 10 ms to make)."""
        return self._make_client("sts")

    @property
    def partition(self) -> str:
        return self.base.get_partition_for_region(self.base.region_name or "us-east-1")

    def client(self, account: str, service: str, region: str) -> Any:
        """``service``'s client in ``account`` and ``region``, made once until the account is released."""
        clients, key = self._clients.setdefault(account, {}), (service, region)
        if key not in clients:
            credentials = self.credentials(account)
            assumed = (
                {}
                if credentials is None
                else {
                    "aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"],
                }
            )
            clients[key] = self._make_client(service, region_name=region, **assumed)
        return clients[key]

    def release(self, account: str) -> None:
        """Close ``account``'s clients (their sockets) and forget them; a later ``client`` makes new ones."""
        for client in self._clients.pop(account, {}).values():
            client.close()

    def close(self) -> None:
        """Close every client still open: the accounts' and the shared STS client."""
        for account in list(self._clients):
            self.release(account)
        if "caller_sts" in self.__dict__:  # made (a cached property)
            self.__dict__.pop("caller_sts").close()


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def _code_and_message(error: Exception) -> str:
    """The error's code and what it says: AWS's message of a ``ClientError``, botocore's text otherwise."""
    response = getattr(error, "response", None) or {}
    message = str(response.get("Error", {}).get("Message", "")) if response else str(error)
    return f"{_code(error)} ({message})" if message else _code(error)


def _out_of_open_files(error: BaseException) -> bool:
    """EMFILE anywhere in the error: botocore wraps urllib3's error (``kwargs["error"]``), which wraps
    the socket's ``OSError``."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.EMFILE:
            return True
        kwargs = getattr(current, "kwargs", None)
        inner = kwargs.get("error") if isinstance(kwargs, dict) else None
        for linked in (current.__cause__, current.__context__, inner):
            if isinstance(linked, BaseException) and id(linked) not in seen:
                pending.append(linked)
    return False


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
    #: Member accounts checked at once.
    jobs: int = DEFAULT_JOBS
    #: What ``check_control_tower`` found; the per-account enrollment check reads it.
    landing_zone: LandingZone | None = None

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
        except (ClientError, BotoCoreError, OSError) as error:
            if _out_of_open_files(error):
                fewer = f"run with fewer --jobs than {self.jobs}, or " if self.jobs > 1 else ""
                self.add(
                    Result.WARN,
                    check,
                    where,
                    f"not checked: this process ran out of open files calling {action} (each client of the "
                    f"{self.jobs} account(s) checked at once keeps a connection open)",
                    f"{fewer}raise the open-file limit (ulimit -n)",
                )
            elif isinstance(error, ClientError | BotoCoreError):
                self.add(
                    Result.WARN,
                    check,
                    where,
                    f"not checked: {_code(error)} calling {action}",
                    f"allow {action} to the caller (or the member role {self.sessions.member_role})",
                )
            else:
                raise  # another OSError is no answer of AWS's: let it show

    def _role_fix(self) -> str:
        return (
            f"create role {self.sessions.member_role} trusted by {self.sessions.home_account} with the "
            "read-only policy of docs/organization.md 'Preflight', or pass --member-role NAME"
        )

    def account_name(self, account_id: str) -> str:
        return next((a.name for a in self.config.accounts if a.id == account_id), account_id)

    def where(self, account_id: str, region: str | None = None) -> str:
        text = f"{self.account_name(account_id)} ({account_id})"
        return f"{text} {region}" if region else text

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> list[Row]:
        deployer = deploying_account(self.config)
        if not self.check_caller():
            return self.rows  # without working credentials every other check could only say "not checked"
        if self.config.organization is not None:
            self.progress("organization: id, management account, root, accounts, OUs, SCPs, trusted access")
            org = self.config.organization
            if org.id is None:
                self.add(Result.WARN, "organization", "organization", "organization.create: true; checks skipped")
            else:
                self.guarded("organization", "organization", "organizations:DescribeOrganization", self.check_org)
                self.guarded("root", "organization", "organizations:ListRoots", self.check_root)
                self.guarded(
                    "accounts",
                    "organization",
                    "organizations:ListAccounts/ListAccountsForParent/ListParents",
                    self.check_accounts,
                )
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
                self.progress("Control Tower: landing zone, its trail and log group")
                self.guarded(
                    "Control Tower",
                    self.where(deployer, self._control_tower_home()),
                    "cloudtrail:DescribeTrails, iam:GetRole, logs:DescribeLogGroups",
                    self.check_control_tower,
                )
        accounts = self._accounts_to_check()
        # Side by side, reported in the config's order: each account's rows, then its progress line.
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            checks = [pool.submit(self._rows_of_account, account) for account in accounts]
            try:
                for index, (account, check) in enumerate(zip(accounts, checks, strict=True), 1):
                    self.rows.extend(check.result())
                    self.progress(f"account {index}/{len(accounts)}: {self.where(account)}")
            except BaseException:
                pool.shutdown(cancel_futures=True)  # an error (or Ctrl-C) stops the accounts not begun
                raise
        return self.rows

    def _rows_of_account(self, account: str) -> list[Row]:
        """The rows of one member account's checks, made on a copy of this run with rows of its own."""
        own = dataclasses.replace(self, rows=[])
        try:
            own.check_account(account)
        finally:
            self.sessions.release(account)  # nothing after an account's own checks asks it again
        return own.rows

    def check_account(self, account: str) -> None:
        try:
            self.sessions.credentials(account)
        except Unreachable as error:
            self.add(Result.WARN, "member role", self.where(account), f"not checked: {error}", self._role_fix())
            return
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
        if self.config.on_control_tower:
            self.guarded(
                "Control Tower enrollment",
                self.where(account),
                "iam:GetRole, config:DescribeConfigurationRecorders",
                lambda a=account: self.check_enrollment(a),
            )

    def _accounts_to_check(self) -> list[str]:
        touched = {e.account for e in self.plan.environments}
        for fixed in self.plan.fixed_names:
            touched.update(fixed.accounts)
        return [a.id for a in self.config.accounts if a.id in touched]

    # --- organization --------------------------------------------------------------------------

    def check_caller(self) -> bool:
        """Whose credentials these are; False (a blocker row) when there are none that work. STS answers
        GetCallerIdentity to any valid credentials, whatever their policies allow, so a failure means none
        were found, they are invalid or expired, or STS could not be reached."""
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, SSOError, TokenRetrievalError
        from botocore.exceptions import ConnectionError as Unconnected

        expected = deploying_account(self.config)
        run_as = f"run with credentials of {expected} (e.g. AWS_PROFILE=<its profile> make preflight)"
        try:
            caller = self.sessions.caller_sts.get_caller_identity()["Account"]
        except (Unconnected, HTTPClientError) as error:
            detail = (
                f"STS could not be reached: {_code_and_message(error)} calling sts:GetCallerIdentity; "
                "nothing else checked"
            )
            self.add(Result.BLOCKER, "credentials", "caller", detail, "check the network, proxy and CA bundle")
            return False
        except (ClientError, BotoCoreError) as error:
            detail = (
                f"no working AWS credentials: {_code_and_message(error)} calling sts:GetCallerIdentity; "
                "nothing else checked"
            )
            if isinstance(error, SSOError | TokenRetrievalError):  # an IAM Identity Center session to renew
                run_as = f"aws sso login --profile {self.sessions.base.profile_name}, then run again"
            self.add(Result.BLOCKER, "credentials", "caller", detail, run_as)
            return False
        if caller == expected:
            self.add(Result.PASS, "credentials", self.where(caller), "credentials of the deploying account")
        else:
            self.add(
                Result.BLOCKER,
                "credentials",
                f"account {caller}",
                f"credentials are of account {caller}, the deploying account is {expected}",
                run_as,
            )
        return True

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
                "create it (docs/organization.md 'Deploying into your organization': organization.create: true) or use the management account",
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
        # The accounts directly under each parent the config places accounts in, listed once per parent
        # (20 accounts a page): an account found under its parent needs no ListParents call of its own, so
        # a thousand accounts in a few OUs cost about fifty calls rather than a thousand.
        children: dict[str, set[str]] = {}

        def under(parent_id: str) -> set[str]:
            if parent_id not in children:
                children[parent_id] = {
                    a["Id"]
                    for page in orgs.get_paginator("list_accounts_for_parent").paginate(ParentId=parent_id)
                    for a in page["Accounts"]
                }
            return children[parent_id]

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
            expected = root_id if account.ou is None else unit_ids.get(account.ou)
            parent = expected if expected is not None and account.id in under(expected) else None
            if parent is None:  # elsewhere: where exactly, for the row
                parent = self._parent(account.id)["Id"]
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
            # Every attached SCP counts: FullAWSAccess and Control Tower's aws-guardrails-* too.
            total = len(attached) + len([n for n in planned if n not in attached])
            guardrails = [n for n in attached if n.startswith(CONTROL_TOWER_SCP_PREFIX)]
            shown = ", ".join(f"{n} (Control Tower)" if n in guardrails else n for n in attached)
            detail = f"{len(attached)} attached ({shown}) + {len(planned)} of the baseline = {total}"
            if total > MAX_SCPS_PER_TARGET:
                fix = (
                    "move the baseline's SCPs to another target in service_control_policies.attachments (the root, "
                    "say), or detach one of yours there; leave Control Tower's aws-guardrails-* attached (detaching "
                    "or editing them is landing-zone drift)"
                    if guardrails
                    else "detach SCPs there (aws organizations detach-policy) or move the baseline's to another "
                    "target in service_control_policies.attachments"
                )
                self.add(
                    Result.BLOCKER, "SCP quota", label, f"{detail}; AWS allows {MAX_SCPS_PER_TARGET} per target", fix
                )
            else:
                self.add(Result.PASS, "SCP quota", label, f"{detail} of {MAX_SCPS_PER_TARGET}")

    def _planned_names(self, resource_type: str) -> list[str]:
        return list(dict.fromkeys(f.name for f in self.plan.fixed_names if f.resource_type == resource_type))

    def _enabled_by_stack(self) -> dict[str, str]:
        """Trusted access the management stack enables itself, with why."""
        from stacks.org_settings import organization_options
        from stacks.parts import wants_workload_baseline

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
        planned = self._planned_names("AWS::CloudTrail::Trail")
        where = self.where(deployer, self.config.home_region)
        others = [t for t in trails if t.get("IsOrganizationTrail") and t["Name"] not in planned]
        if self.config.on_control_tower and not planned:
            # Control Tower mode: the baseline reuses Control Tower's trail and creates none, so that
            # trail is no duplicate; a third organization trail still is.
            settings = self._control_tower_settings()
            reused = [t["Name"] for t in others if is_control_tower_trail(t, settings)]
            others = [t for t in others if not is_control_tower_trail(t, settings)]
            if not others:
                self.add(
                    Result.PASS,
                    "organization trails",
                    where,
                    "the baseline creates no organization trail; it reuses Control Tower's "
                    f"({', '.join(reused) or settings.trail_name})",
                )
                return
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

    # --- Control Tower ---------------------------------------------------------------------------

    def _control_tower_settings(self) -> ControlTower:
        """The config's section, or Control Tower's default names when the mode is off (for detection)."""
        return self.config.control_tower if self.config.control_tower is not None else ControlTower()

    def _control_tower_home(self) -> str:
        return self._control_tower_settings().home_region or self.config.home_region

    def detect_landing_zone(self) -> LandingZone:
        """Read-only look at the management account in the landing zone's home region."""
        from botocore.exceptions import BotoCoreError, ClientError

        settings = self._control_tower_settings()
        management = deploying_account(self.config)
        home = self._control_tower_home()
        arn: str | None = None
        governed: tuple[str, ...] | None = None
        try:
            client = self.sessions.client(management, "controltower", home)
            zones = client.list_landing_zones()["landingZones"]
            if zones:
                arn = zones[0]["arn"]
                zone = client.get_landing_zone(landingZoneIdentifier=arn)["landingZone"]
                regions = (zone.get("manifest") or {}).get("governedRegions")
                governed = tuple(regions) if regions else None
                api = f"controltower:ListLandingZones: {arn} (version {zone.get('version')}, {zone.get('status')})"
            else:
                api = "controltower:ListLandingZones: none"
        except (ClientError, BotoCoreError) as error:
            # moto 5.2.5 has no Control Tower API (HTTP 404 "Not yet implemented"); a caller without
            # controltower:ListLandingZones gets AccessDenied. Either way the resources decide.
            api = f"controltower:ListLandingZones not answered ({_code(error)}): detected from the resources"
        trails = self.sessions.client(management, "cloudtrail", home).describe_trails(includeShadowTrails=True)[
            "trailList"
        ]
        iam = self.sessions.client(management, "iam", self.config.home_region)
        roles = tuple(r for r in CONTROL_TOWER_MANAGEMENT_ROLES if _exists(lambda r=r: iam.get_role(RoleName=r)))
        return LandingZone(
            api=api,
            arn=arn,
            governed_regions=governed,
            trails=tuple(t for t in trails if is_control_tower_trail(t, settings)),
            roles=roles,
        )

    def check_control_tower(self) -> None:
        zone = self.detect_landing_zone()
        self.landing_zone = zone
        management = deploying_account(self.config)
        home = self._control_tower_home()
        where = self.where(management, home)
        section = self.config.control_tower
        if not self.config.on_control_tower:
            if not zone.found:
                self.add(Result.PASS, "Control Tower", where, f"no landing zone ({zone.evidence()}); {zone.api}")
                return
            state = "control_tower.enabled: false" if section is not None else "no control_tower section"
            self.add(
                Result.BLOCKER,
                "Control Tower",
                where,
                f"a Control Tower landing zone is there ({zone.evidence()}) but the config has {state}: the "
                "baseline would add a second organization trail and a recorder where Control Tower has one",
                "set control_tower.enabled: true"
                if section is not None
                else "add a control_tower: section to the config (docs/control-tower.md 'With AWS Control Tower')",
            )
            return
        assert section is not None
        if not zone.found:
            self.add(
                Result.BLOCKER,
                "Control Tower",
                where,
                f"control_tower is on, but no landing zone is there ({zone.evidence()}; {zone.api})",
                "set up the landing zone first (docs/control-tower.md 'With AWS Control Tower', deploy order), check "
                "control_tower.home_region, or remove the control_tower section",
            )
            return
        note = "" if zone.arn else f" ({zone.api})"
        self.add(Result.PASS, "Control Tower", where, f"landing zone: {zone.evidence()}{note}")
        self._check_control_tower_trail(zone, section, where)
        self._check_control_tower_log_group(section, where)
        missing_roles = [r for r in CONTROL_TOWER_MANAGEMENT_ROLES if r not in zone.roles]
        if missing_roles:
            self.add(
                Result.WARN,
                "Control Tower",
                self.where(management),
                f"role(s) {', '.join(missing_roles)} missing: Control Tower cannot keep managing the landing zone",
                "repair the landing zone (Control Tower console: Landing zone settings > Repair, or "
                "aws controltower reset-landing-zone)",
            )
        if zone.governed_regions is not None:
            ungoverned = [r for r in self.config.regions if r not in zone.governed_regions]
            for region in ungoverned:
                self.add(
                    Result.BLOCKER,
                    "Control Tower",
                    f"landing zone {region}",
                    f"governed_regions has {region}; the landing zone governs {', '.join(zone.governed_regions)}: "
                    "Control Tower runs no recorder there",
                    f"add {region} to the landing zone's governed regions (Landing zone settings > Modify), or "
                    "remove it from governed_regions",
                )

    def _check_control_tower_trail(self, zone: LandingZone, section: ControlTower, where: str) -> None:
        home = self._control_tower_home()
        trail = next((t for t in zone.trails if t["Name"] == section.trail_name), None)
        if trail is None:
            others = [t["Name"] for t in zone.trails]
            self.add(
                Result.BLOCKER,
                "Control Tower trail",
                where,
                f"no trail named {section.trail_name} (control_tower.trail_name); Control Tower's trails: "
                f"{', '.join(others) or 'none'}",
                f"set control_tower.trail_name: {others[0]}"
                if others
                else "turn on the landing zone's AWS CloudTrail (Landing zone settings > Modify); the alarms need it",
            )
            return
        if trail.get("HomeRegion") not in (None, home):
            self.add(
                Result.BLOCKER,
                "Control Tower trail",
                where,
                f"{trail['Name']} lives in {trail['HomeRegion']}, the config says {home}",
                f"set control_tower.home_region: {trail['HomeRegion']}",
            )
            return
        arn = trail.get("CloudWatchLogsLogGroupArn")
        if not arn:
            self.add(
                Result.BLOCKER,
                "Control Tower trail",
                where,
                f"{trail['Name']} delivers to no CloudWatch Logs group: the baseline's security alarms filter "
                f"{section.trail_log_group}",
                "turn on CloudWatch Logs delivery of the landing zone's trail (Landing zone settings), then rerun",
            )
            return
        group = log_group_name(arn)
        if group != section.trail_log_group:
            self.add(
                Result.BLOCKER,
                "Control Tower trail",
                where,
                f"{trail['Name']} delivers to log group {group}, control_tower.trail_log_group is "
                f"{section.trail_log_group}",
                f"set control_tower.trail_log_group: {group}",
            )
            return
        self.add(Result.PASS, "Control Tower trail", where, f"{trail['Name']} delivers to CloudWatch Logs {group}")

    def _check_control_tower_log_group(self, section: ControlTower, where: str) -> None:
        management = deploying_account(self.config)
        logs = self.sessions.client(management, "logs", self._control_tower_home())
        if _find_log_groups(logs, [section.trail_log_group]):
            self.add(Result.PASS, "Control Tower log group", where, f"{section.trail_log_group} exists")
            return
        self.add(
            Result.BLOCKER,
            "Control Tower log group",
            where,
            f"log group {section.trail_log_group} (control_tower.trail_log_group) does not exist: the alarms' "
            "metric filters cannot be created on it",
            "turn on CloudWatch Logs delivery of the landing zone's trail (Landing zone settings), or set "
            "control_tower.trail_log_group to the group it delivers to",
        )

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
        """Where the baseline creates a recorder, none may exist; where it adopts one, it must exist.
        In Control Tower mode only the first: ``check_enrollment`` looks for Control Tower's recorders."""
        adopt = None if self.config.on_control_tower else self.config.aws_config.existing_recorder_name
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
                    _recorder_fix(self.config, recorders, channels, region),
                )
            else:
                clean.append(region)
        if clean:
            detail = f"adopted recorder {adopt} present" if adopt else "no recorder, no delivery channel"
            self.add(Result.PASS, "AWS Config recorder", self.where(account), f"{detail} in {', '.join(clean)}")

    def check_enrollment(self, account: str) -> None:
        """Control Tower mode: where the plan evaluates Config rules without a recorder of its own, Control
        Tower's recorder must record (the account enrolled, the region governed), and the account should
        have the role Control Tower manages it with."""
        zone = self.landing_zone
        if zone is None or not zone.found:
            return  # the Control Tower row says there is no landing zone (or why it was not checked)
        settings = self._control_tower_settings()
        own = {r for f in self.plan.fixed_names if _recorder_of(f, account) for r in f.regions}
        needed = list(
            dict.fromkeys(
                r
                for f in self.plan.fixed_names
                if f.resource_type == "AWS::Config::ConfigRule" and account in f.accounts
                for r in f.regions
                if r not in own
            )
        )
        if not needed:
            return
        name = settings.config_recorder_name
        if account == deploying_account(self.config):
            self.add(
                Result.BLOCKER,
                "Control Tower enrollment",
                self.where(account),
                f"Config rules in {', '.join(needed)} but no recorder of the baseline: Control Tower runs none in "
                "the management account",
                "let the baseline create the management account's recorder (drop aws_config.existing_recorder_name)",
            )
            return
        iam = self.sessions.client(account, "iam", self.config.home_region)
        role = _exists(lambda: iam.get_role(RoleName=settings.execution_role_name))
        found: dict[str, list[str]] = {}
        for region in needed:
            client = self.sessions.client(account, "config", region)
            found[region] = [r["name"] for r in client.describe_configuration_recorders()["ConfigurationRecorders"]]
        missing = [r for r in needed if name not in found[r]]
        unit = next((a.ou for a in self.config.accounts if a.id == account), None)
        if not role and missing == needed:
            self.add(
                Result.BLOCKER,
                "Control Tower enrollment",
                self.where(account),
                f"not enrolled in Control Tower: no role {settings.execution_role_name}, no recorder {name} in "
                f"{', '.join(needed)}",
                f"enroll it: register its OU {unit or '(root)'} in Control Tower, or Control Tower > Organization > "
                f"Enroll (an invited account needs role {settings.execution_role_name} first)",
            )
            return
        for region in missing:
            others = found[region]
            governed = zone.governed_regions
            detail = f"no AWS Config recorder {name} (found: {', '.join(others) or 'none'}): "
            detail += (
                f"{region} is not a governed region of the landing zone ({', '.join(governed)})"
                if governed is not None and region not in governed
                else f"Control Tower does not record {region} for this account"
            )
            fix = (
                f"add {region} to the landing zone's governed regions (Landing zone settings > Modify), then "
                f"update the account (or re-register OU {unit or '(root)'}); or remove {region} from governed_regions"
            )
            if others:
                fix += f"; if {others[0]} is Control Tower's, set control_tower.config_recorder_name: {others[0]}"
            self.add(Result.BLOCKER, "Control Tower enrollment", self.where(account, region), detail, fix)
        if not role:
            self.add(
                Result.WARN,
                "Control Tower enrollment",
                self.where(account),
                f"no role {settings.execution_role_name}: Control Tower cannot update this account",
                "update or re-enroll the account in Control Tower (it recreates the role)",
            )
        if not missing and role:
            self.add(
                Result.PASS,
                "Control Tower enrollment",
                self.where(account),
                f"role {settings.execution_role_name}, recorder {name} in {', '.join(needed)}",
            )


def _recorder_of(fixed: FixedName, account: str) -> bool:
    return fixed.resource_type == "AWS::Config::ConfigurationRecorder" and account in fixed.accounts


def _recorder_fix(config: BaselineConfig, recorders: list[str], channels: list[str], region: str) -> str:
    if not recorders:
        return f"aws configservice delete-delivery-channel --delivery-channel-name {channels[0]} --region {region}"
    if not recorders[0].startswith(CONTROL_TOWER_PREFIX):
        return f"set aws_config.existing_recorder_name: {recorders[0]}"
    if config.on_control_tower:
        # The plan creates a recorder where Control Tower records: stacks that do not honour the mode here.
        return f"do not deploy: the stacks create a recorder where Control Tower's {recorders[0]} records"
    return (
        f"Control Tower's recorder: add a control_tower: section (docs/control-tower.md 'With AWS Control Tower'), or set "
        f"aws_config.existing_recorder_name: {recorders[0]}"
    )


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
    # GetParameters takes ten names and lists the missing ones as invalid: one call per ten names.
    found: set[str] = set()
    for start in range(0, len(names), 10):
        found.update(p["Name"] for p in client.get_parameters(Names=names[start : start + 10])["Parameters"])
    return [n for n in names if n in found]


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
#: The IAM action each finder calls (docs/organization.md "Preflight" lists them for the read-only member role).
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
    "AWS::SSM::Parameter": "ssm:GetParameters",
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
    jobs: int = DEFAULT_JOBS,
) -> list[Row]:
    """All checks against the organization the ``session``'s credentials reach; returns the rows.
    ``jobs``: member accounts checked at once (1: one after another)."""
    if jobs < 1:
        raise ValueError(f"jobs: {jobs!r} is not allowed: at least 1 (member accounts checked at once)")
    plan = plan if plan is not None else build_plan(config)
    sessions = Sessions(session, home_account=deploying_account(config), member_role=member_role)
    try:
        return Preflight(config, plan, sessions, progress, jobs=jobs).run()
    finally:
        sessions.close()


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: a whole number, at least 1")
    return value


#: The open-file limit the CLI asks for, within the hard limit: an account checked keeps a connection open
#: per client it made (about four per governed region), so 16 accounts of a 17-region organization at
#: once need about 1,100, past the 1,024 many Linux systems give a process by default (256 in a macOS
#: shell). 8,192 is also under macOS's per-process ceiling (OPEN_MAX, 10,240).
WANTED_OPEN_FILES = 8192


def raise_open_file_limit(wanted: int = WANTED_OPEN_FILES) -> tuple[int, int]:
    """Raise this process's soft limit on open files to ``wanted``, or to the hard limit if that is lower;
    never lower it. Returns the soft limit before and after (the same when nothing changed)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return 0, 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, target


def unknown_profile(name: str, from_option: bool) -> str:
    """The line for a profile (``--profile`` or ``AWS_PROFILE``) that the AWS config and credentials files
    do not hold, with the profiles they do hold."""
    import botocore.session

    given = f"--profile {name}" if from_option else f"AWS_PROFILE={name}"
    session = botocore.session.Session()
    session.set_config_variable("profile", None)  # list the files' profiles, whatever AWS_PROFILE says
    known = ", ".join(sorted(session.available_profiles)) or "none"
    return (
        f"{given}: no such profile in the AWS config or credentials files (profiles there: {known}); "
        "name a profile of the deploying account, or set one up (aws configure sso)"
    )


@config_errors_exit_1
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--member-role", default=DEFAULT_MEMBER_ROLE, help=f"default: {DEFAULT_MEMBER_ROLE}")
    parser.add_argument("--profile", default=None, help="AWS profile of the deploying account")
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=DEFAULT_JOBS,
        help=f"member accounts checked at once (default {DEFAULT_JOBS}; 1: one after another)",
    )
    args = parser.parse_args(argv[1:])
    config = load_config(args.config)
    import boto3
    from botocore.exceptions import ConfigParseError, ProfileNotFound

    try:
        session = boto3.Session(profile_name=args.profile, region_name=config.home_region)
    except ProfileNotFound as error:
        print(f"preflight: {unknown_profile(error.kwargs['profile'], args.profile is not None)}", file=sys.stderr)
        return 1
    except ConfigParseError as error:
        print(f"preflight: {error}: fix its syntax (an INI file: [profile NAME] sections)", file=sys.stderr)
        return 1
    before, after = raise_open_file_limit()
    if after > before:
        print(f"preflight: open-file limit raised from {before} to {after} for this run", file=sys.stderr)
    print(f"preflight: {args.config}: building the stacks (no synth) ...", file=sys.stderr, flush=True)
    rows = run_preflight(
        config,
        session=session,
        member_role=args.member_role,
        progress=lambda line: print(f"preflight: {line}", file=sys.stderr, flush=True),
        jobs=args.jobs,
    )
    print(table(rows))
    print(summary(rows))
    return 1 if any(r.result is Result.BLOCKER for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
