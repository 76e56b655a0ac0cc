"""stacks/preflight.py end to end on moto (in-process ``mock_aws``) with an organization of several
accounts: the checks of member accounts assume a role there, which moto honours by switching account.

A ready organization passes; each blocker is seeded once into it and must be reported with its fix.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import json
import resource
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from stacks import preflight
from stacks.config import parse_config
from stacks.deploy_plan import DeployPlan, FixedName, build_plan
from stacks.preflight import LandingZone, Result, Row, run_preflight
from tests.conftest import EXAMPLE_CONFIGS

#: moto's default account: the credentials the preflight runs with (the management account).
MANAGEMENT = "123456789012"
HOME = "eu-west-1"


def _toolkit_template() -> str:
    """The part of the CDK bootstrap stack the preflight reads: TrustedAccounts and the version parameter."""
    return json.dumps(
        {
            "Parameters": {"TrustedAccounts": {"Type": "String", "Default": ""}, "Version": {"Type": "String"}},
            "Resources": {
                "CdkBootstrapVersion": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {
                        "Type": "String",
                        "Name": "/cdk-bootstrap/hnb659fds/version",
                        "Value": {"Ref": "Version"},
                    },
                }
            },
        }
    )


class Org:
    """The emulated organization: ids of accounts and OUs, and sessions into each account."""

    def __init__(self) -> None:
        self.base = boto3.Session(region_name=HOME)
        self._sessions = preflight.Sessions(
            self.base, home_account=MANAGEMENT, member_role="OrganizationAccountAccessRole"
        )
        self.orgs = self.base.client("organizations")
        self.org_id = self.orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        self.root_id = self.orgs.list_roots()["Roots"][0]["Id"]
        self.orgs.enable_policy_type(RootId=self.root_id, PolicyType="SERVICE_CONTROL_POLICY")
        self.accounts = {"management": MANAGEMENT}
        for name in ("log-archive", "audit", "shop-prod", "shop-dev"):
            status = self.orgs.create_account(Email=f"aws-{name}@acme.example", AccountName=name)["CreateAccountStatus"]
            self.accounts[name] = status["AccountId"]
        self.ous: dict[str, str] = {}
        for name, parent in (
            ("Security", None),
            ("Infrastructure", None),
            ("Workloads", None),
            ("Production", "Workloads"),
            ("NonProduction", "Workloads"),
        ):
            parent_id = self.root_id if parent is None else self.ous[parent]
            self.ous[name] = self.orgs.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"][
                "Id"
            ]
        for account, ou in (
            ("log-archive", "Security"),
            ("audit", "Security"),
            ("shop-prod", "Production"),
            ("shop-dev", "NonProduction"),
        ):
            self.move(account, ou)

    def move(self, account: str, ou: str) -> None:
        source = self.orgs.list_parents(ChildId=self.accounts[account])["Parents"][0]["Id"]
        self.orgs.move_account(
            AccountId=self.accounts[account], SourceParentId=source, DestinationParentId=self.ous[ou]
        )

    def client(self, account: str, service: str, region: str = HOME) -> Any:
        """A client in the account named ``account``, as the preflight makes them (its ``Sessions``)."""
        return self._sessions.client(self.accounts[account], service, region)

    def bootstrap(self, account: str, region: str, *, version: str = "33", trust: bool = True) -> None:
        cloudformation = self.client(account, "cloudformation", region)
        self.unbootstrap(account, region)
        trusted = MANAGEMENT if trust and self.accounts[account] != MANAGEMENT else ""
        cloudformation.create_stack(
            StackName="CDKToolkit",
            TemplateBody=_toolkit_template(),
            Parameters=[
                {"ParameterKey": "TrustedAccounts", "ParameterValue": trusted},
                {"ParameterKey": "Version", "ParameterValue": version},
            ],
        )

    def unbootstrap(self, account: str, region: str) -> None:
        cloudformation = self.client(account, "cloudformation", region)
        if any(
            s["StackName"] == "CDKToolkit"
            for s in cloudformation.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ):
            cloudformation.delete_stack(StackName="CDKToolkit")

    def config_data(self) -> dict[str, Any]:
        """config/example.yaml with this organization's ids; every OU exists and is referenced by id."""
        data = _example_data()
        data["organization"]["id"] = self.org_id

        def ids(units: list[dict[str, Any]]) -> None:
            for unit in units:
                unit["id"] = self.ous[unit["name"]]
                ids(unit.get("children", []))

        ids(data["organization"]["organizational_units"])
        return data


#: Member account ids moto hands out, in creation order: those of config/example.yaml.
MEMBER_IDS = {
    "log-archive": "222222222222",
    "audit": "333333333333",
    "shop-prod": "444444444444",
    "shop-dev": "555555555555",
}


def _example_data() -> dict[str, Any]:
    """config/example.yaml with moto's default account as the management account."""
    data = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
    for account in data["accounts"]:
        if account["role"] == "management":
            account["id"] = MANAGEMENT
    return data


@pytest.fixture(autouse=True, scope="module")
def one_loader_of_service_models() -> Iterator[None]:
    """Every boto3 session of these tests (one per account the preflight assumes a role in, per test)
    reads the same botocore service models: parse each JSON file once per module, not once per
    session. The models are static files; what the preflight asks moto is unchanged.

    And each service's client class is made once per module, not once per client (about a thousand
    clients, each a class of a method per operation): botocore makes it from the service's model and
    the handlers registered for ``creating-client-class``, the same for every session of these tests.
    Each client is still an instance of its own, with its own credentials, region and connections.

    And the clients share what botocore's event aliasing learnt: each client copies the session's
    event emitter, whose copy starts with an empty cache of the names it maps (``s3`` events to their
    older names, say), a pure function of the name, worked out again for every event of every client."""
    import botocore.client
    import botocore.hooks
    import botocore.loaders
    import botocore.session

    loaders: dict[Any, botocore.loaders.Loader] = {}
    original = botocore.session.create_loader

    def create_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = original(search_path_string)
        return loaders[search_path_string]

    classes: dict[tuple[str, str], type] = {}
    create_class = botocore.client.ClientCreator._create_client_class

    def create_client_class(creator: Any, service_name: str, service_model: Any) -> type:
        key = (service_name, service_model.api_version)
        if key not in classes:
            classes[key] = create_class(creator, service_name, service_model)
        return classes[key]

    copy_aliaser = botocore.hooks.EventAliaser.__copy__

    def copy_sharing_names(aliaser: botocore.hooks.EventAliaser) -> botocore.hooks.EventAliaser:
        copied = copy_aliaser(aliaser)  # with a copy of the same aliases, so the same names
        copied._alias_name_cache = aliaser._alias_name_cache
        return copied

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", create_loader)
        patch.setattr(botocore.client.ClientCreator, "_create_client_class", create_client_class)
        patch.setattr(botocore.hooks.EventAliaser, "__copy__", copy_sharing_names)
        yield


@pytest.fixture(scope="module")
def ready_plan() -> DeployPlan:
    """Built once: environments and fixed names depend on account ids and names, not on org or OU ids."""
    return build_plan(parse_config(_example_data()))


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": HOME,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    import moto.organizations.utils

    # The management account's record draws an id first (then takes the caller's): a throwaway one.
    ids = iter(["000000000000", *MEMBER_IDS.values()])
    monkeypatch.setattr(moto.organizations.utils, "make_random_account_id", lambda: next(ids))
    with mock_aws():
        emulated = Org()
        assert emulated.accounts == {"management": MANAGEMENT, **MEMBER_IDS}
        for region in ("eu-west-1", "eu-central-1", "us-east-1"):
            emulated.bootstrap("management", region)
        for account in ("log-archive", "audit", "shop-prod"):
            emulated.bootstrap(account, HOME)
        yield emulated


def _run(org: Org, plan: DeployPlan, data: dict[str, Any] | None = None, **options: Any) -> list[Row]:
    config = parse_config(data if data is not None else org.config_data())
    return run_preflight(config, session=org.base, plan=plan, **options)


def _of(rows: list[Row], result: Result) -> list[Row]:
    return [r for r in rows if r.result is result]


def test_a_ready_organization_passes(org: Org, ready_plan: DeployPlan):
    progress: list[str] = []
    rows = _run(org, ready_plan, progress=progress.append)
    assert _of(rows, Result.BLOCKER) == []
    print(preflight.table(rows))
    # Trusted access is left to the management stack, which enables it itself: a warning that says so.
    warnings = _of(rows, Result.WARN)
    assert {r.where for r in warnings if r.check == "trusted access"} == {
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
        "config-multiaccountsetup.amazonaws.com",
        "member.org.stacksets.cloudformation.amazonaws.com",
    }
    assert all("enables it itself" in r.detail for r in warnings if r.check == "trusted access")
    # moto 5.2.5 has no OAM API: the sink check of the audit account says it could not check.
    (unchecked,) = [r for r in warnings if r.check != "trusted access"]
    assert (unchecked.check, unchecked.where) == ("fixed name", "audit (333333333333) eu-west-1")
    assert "oam:ListSinks" in unchecked.detail
    checks = {r.check for r in _of(rows, Result.PASS)}
    assert checks >= {"credentials", "organization", "root", "account", "OU", "SCP quota", "CDK bootstrap"}
    assert checks >= {"fixed names", "AWS Config recorder", "organization trails", "delegated admin"}
    bootstrapped = {r.where for r in rows if r.check == "CDK bootstrap"}
    assert bootstrapped == {
        f"management ({MANAGEMENT}) eu-west-1",
        f"management ({MANAGEMENT}) eu-central-1",
        f"management ({MANAGEMENT}) us-east-1",
        "log-archive (222222222222) eu-west-1",
        "audit (333333333333) eu-west-1",
        "shop-prod (444444444444) eu-west-1",
    }
    assert progress[0].startswith("organization") and progress[-1] == "account 5/5: shop-dev (555555555555)"


def _bucket(org: Org) -> None:
    org.client("log-archive", "s3").create_bucket(
        Bucket="acme-cloudtrail-222222222222-eu-west-1", CreateBucketConfiguration={"LocationConstraint": HOME}
    )


def _trail(org: Org) -> None:
    org.client("management", "s3").create_bucket(
        Bucket="old-trail-bucket", CreateBucketConfiguration={"LocationConstraint": HOME}
    )
    org.client("management", "cloudtrail").create_trail(Name="acme-organization-trail", S3BucketName="old-trail-bucket")


def _recorder(org: Org) -> None:
    org.client("audit", "config", "eu-central-1").put_configuration_recorder(
        ConfigurationRecorder={
            "name": "aws-controltower-BaselineConfigRecorder",
            "roleARN": "arn:aws:iam::333333333333:role/x",
        }
    )


def _scps(org: Org) -> None:
    for index in range(2):
        policy = org.orgs.create_policy(
            Name=f"legacy-{index}",
            Description="",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]}
            ),
        )["Policy"]["PolicySummary"]["Id"]
        org.orgs.attach_policy(PolicyId=policy, TargetId=org.root_id)


def _scp_name(org: Org) -> None:
    org.orgs.create_policy(
        Name="guardrails",
        Description="",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )


def _units(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(units: list[dict[str, Any]]) -> None:
        for unit in units:
            found[unit["name"]] = unit
            walk(unit.get("children", []))

    walk(data["organization"]["organizational_units"])
    return found


#: seed -> (seed the organization, seed the config data, expected blocker: check, where contains, fix contains).
#: The seeds touch different accounts, OUs and names, so they are seeded together and run once (each
#: run costs seconds): every seed must yield exactly its own blocker row.
BLOCKERS: dict[
    str, tuple[Callable[[Org], Any] | None, Callable[[dict[str, Any]], Any] | None, tuple[str, str, str]]
] = {
    "organization id": (
        None,
        lambda d: d["organization"].update(id="o-zzzzzzzzzz"),
        ("organization", "organization o-", "set organization.id: o-"),
    ),
    "account missing": (
        None,
        (
            lambda d: d["accounts"].append(
                {
                    "name": "shop-qa",
                    "id": "666666666666",
                    "email": "qa@acme.example",
                    "role": "workload",
                    "ou": "Production",
                }
            )
        ),
        ("account", "shop-qa (666666666666)", "invite-account-to-organization --target Id=666666666666"),
    ),
    "account closed": (
        lambda o: o.orgs.close_account(AccountId="555555555555"),
        None,
        ("account", "shop-dev (555555555555)", "only ACTIVE accounts"),
    ),
    "account in another OU": (
        lambda o: o.move("shop-prod", "Security"),
        None,
        ("account", "shop-prod (444444444444)", "aws organizations move-account --account-id 444444444444"),
    ),
    "OU id missing": (
        None,
        lambda d: _units(d)["Infrastructure"].update(id="ou-zzzz-zzzzzzzz"),
        ("OU", "OU Infrastructure", "use the real id"),
    ),
    "OU exists but config creates it": (
        None,
        lambda d: _units(d)["NonProduction"].pop("id"),
        ("OU", "OU NonProduction", ".id: ou-"),
    ),
    "SCP quota": (_scps, None, ("SCP quota", "root", "detach-policy")),
    "SCP name taken": (_scp_name, None, ("fixed name", "organization", "cdk import")),
    "role taken": (
        lambda o: o.client("management", "iam").create_role(
            RoleName="CloudTrail_CloudWatchLogs_Role", AssumeRolePolicyDocument="{}"
        ),
        None,
        ("fixed name", "management (123456789012)", "aws iam delete-role --role-name CloudTrail_CloudWatchLogs_Role"),
    ),
    "bucket taken": (_bucket, None, ("fixed name", "log-archive (222222222222)", "naming.prefix")),
    # One of the 23 SSM parameter names of the example the preflight asks about, ten per call.
    "parameter taken": (
        lambda o: o.client("audit", "ssm").put_parameter(
            Name="AmazonCloudWatch-acme-onprem-windows", Value="{}", Type="String"
        ),
        None,
        ("fixed name", "audit (333333333333) eu-west-1", "AWS::SSM::Parameter AmazonCloudWatch-acme-onprem-windows"),
    ),
    "trail taken": (_trail, None, ("fixed name", "management (123456789012) eu-west-1", "cdk import")),
    "recorder exists": (
        _recorder,
        None,
        (
            "AWS Config recorder",
            "audit (333333333333) eu-central-1",
            "existing_recorder_name: aws-controltower-BaselineConfigRecorder",
        ),
    ),
    "not bootstrapped": (
        lambda o: o.unbootstrap("shop-prod", HOME),
        None,
        (
            "CDK bootstrap",
            "shop-prod (444444444444) eu-west-1",
            "npx cdk bootstrap aws://444444444444/eu-west-1 --trust 123456789012",
        ),
    ),
    "bootstrap too old": (
        lambda o: o.bootstrap("management", "us-east-1", version="5"),
        None,
        ("CDK bootstrap", "management (123456789012) us-east-1", "npx cdk bootstrap aws://123456789012/us-east-1"),
    ),
    "bootstrap without trust": (
        lambda o: o.bootstrap("audit", HOME, trust=False),
        None,
        ("CDK bootstrap", "audit (333333333333) eu-west-1", "--cloudformation-execution-policies"),
    ),
}


def test_each_blocker_is_reported_with_its_fix(org: Org, ready_plan: DeployPlan):
    data = org.config_data()
    for seed_org, seed_config, _ in BLOCKERS.values():
        if seed_org is not None:
            seed_org(org)
        if seed_config is not None:
            seed_config(data)
    asked_for_parents: list[str] = []
    org.base.events.register(
        "provide-client-params.organizations.ListParents",
        lambda params, **_: asked_for_parents.append(params["ChildId"]),
    )
    rows = _run(org, ready_plan, data)
    blockers = _of(rows, Result.BLOCKER)
    for seed, (_, _, (check, where, fix)) in BLOCKERS.items():
        matching = [r for r in blockers if r.check == check and where in r.where and fix in r.fix]
        assert len(matching) == 1, f"{seed}: {matching}\n{preflight.table(blockers)}"
    assert len(blockers) == len(BLOCKERS), preflight.table(blockers)
    # Accounts are found under the parent the config expects (ListAccountsForParent, once per parent):
    # only the account that sits elsewhere is asked for its parent; the rest are the OUs' depth checks.
    assert [c for c in asked_for_parents if not c.startswith("ou-")] == [org.accounts["shop-prod"]]
    # The member accounts, checked side by side (8 at a time by default), give the rows of one after another.
    assert _run(org, ready_plan, data, jobs=1) == rows


def test_management_account_mismatch_is_a_blocker(org: Org, ready_plan: DeployPlan):
    data = org.config_data()
    data["accounts"][0]["id"] = "999999999999"
    blockers = _of(_run(org, ready_plan, data), Result.BLOCKER)
    organization = [r for r in blockers if r.check == "organization"]
    assert [r.detail for r in organization] == ["management account is 123456789012, config says 999999999999"]
    # The credentials are not those of the configured management account either.
    assert "credentials" in {r.check for r in blockers}


def test_warnings_existing_org_trail_and_delegated_admin_elsewhere(org: Org, ready_plan: DeployPlan):
    org.client("management", "s3").create_bucket(
        Bucket="ct-bucket", CreateBucketConfiguration={"LocationConstraint": HOME}
    )
    # Not Control Tower's (that would be a landing zone: test_a_landing_zone_with_the_mode_off_is_a_blocker).
    org.client("management", "cloudtrail").create_trail(
        Name="legacy-organization-trail", S3BucketName="ct-bucket", IsOrganizationTrail=True
    )
    org.orgs.register_delegated_administrator(
        AccountId="222222222222", ServicePrincipal="config-multiaccountsetup.amazonaws.com"
    )
    org.orgs.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    rows = _run(org, ready_plan)
    assert _of(rows, Result.BLOCKER) == []
    by_check = {
        (r.check, r.result): r for r in rows if r.check in ("organization trails", "delegated admin", "trusted access")
    }
    trail = by_check[("organization trails", Result.WARN)]
    assert "legacy-organization-trail" in trail.detail and "bills management events again" in trail.detail
    admin = by_check[("delegated admin", Result.WARN)]
    assert admin.where == "config-multiaccountsetup.amazonaws.com" and "222222222222" in admin.detail
    assert "deregister-delegated-administrator --account-id 222222222222" in admin.fix
    enabled = [r for r in rows if r.check == "trusted access" and r.result is Result.PASS]
    assert [r.where for r in enabled] == ["cloudtrail.amazonaws.com"]


def test_an_unreachable_member_account_is_a_warning_not_a_traceback(
    org: Org, ready_plan: DeployPlan, monkeypatch: pytest.MonkeyPatch
):
    # moto's AssumeRole accepts any role (it does not check that it exists), so refuse one account here.
    real = preflight.Sessions.credentials

    def credentials(self: preflight.Sessions, account: str) -> Any:
        if account == "444444444444":
            raise preflight.Unreachable(
                "cannot assume arn:aws:iam::444444444444:role/OrganizationAccountAccessRole: AccessDenied"
            )
        return real(self, account)

    monkeypatch.setattr(preflight.Sessions, "credentials", credentials)
    rows = _run(org, ready_plan)
    assert _of(rows, Result.BLOCKER) == []
    (row,) = [r for r in rows if r.check == "member role"]
    assert row.result is Result.WARN and row.where == "shop-prod (444444444444)"
    assert "--member-role" in row.fix
    # The organization-level account row still comes from the management account's view.
    assert {r.check for r in rows if r.where.startswith("shop-prod")} == {"account", "member role"}


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No credentials anywhere boto3 looks: environment, shared files, instance metadata."""
    from tests.stacks.test_synth_without_credentials import CREDENTIAL_VARIABLES

    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_credentials")
def test_without_working_credentials_one_blocker_says_so_and_nothing_else_is_asked(ready_plan: DeployPlan):
    """Not a "not checked" warning per check and exit code 0: the one row a run without credentials can give."""
    config = parse_config(_example_data())
    rows = run_preflight(config, session=boto3.Session(region_name=HOME), plan=ready_plan)
    assert [(r.result, r.check, r.where) for r in rows] == [(Result.BLOCKER, "credentials", "caller")]
    assert rows[0].detail == (
        "no working AWS credentials: NoCredentialsError (Unable to locate credentials) calling "
        "sts:GetCallerIdentity; nothing else checked"
    )
    assert rows[0].fix == f"run with credentials of {MANAGEMENT} (e.g. AWS_PROFILE=<its profile> make preflight)"


def _unreachable() -> Exception:
    from botocore.exceptions import EndpointConnectionError

    return EndpointConnectionError(endpoint_url="https://sts.eu-west-1.amazonaws.com/")


def _expired_token() -> Exception:
    from botocore.exceptions import ClientError

    error = {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"}
    return ClientError({"Error": error}, "GetCallerIdentity")


def _expired_sso_session() -> Exception:
    from botocore.exceptions import UnauthorizedSSOTokenError

    return UnauthorizedSSOTokenError()


@pytest.mark.parametrize(
    ("error", "detail", "fix"),
    [
        (
            _unreachable,
            "STS could not be reached: EndpointConnectionError (Could not connect to the endpoint URL: "
            '"https://sts.eu-west-1.amazonaws.com/")',
            "check the network, proxy and CA bundle",
        ),
        (
            _expired_token,
            "no working AWS credentials: ExpiredToken (The security token included in the request is expired)",
            f"run with credentials of {MANAGEMENT} (e.g. AWS_PROFILE=<its profile> make preflight)",
        ),
        (
            _expired_sso_session,
            "no working AWS credentials: UnauthorizedSSOTokenError (The SSO session associated with this profile "
            "has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the "
            "corresponding profile.)",
            "aws sso login --profile default, then run again",  # the caller's profile (moto's session: default)
        ),
    ],
    ids=["unreachable", "expired-token", "expired-sso-session"],
)
def test_a_failed_caller_identity_is_one_blocker_with_what_was_said_and_its_fix(
    org: Org,
    ready_plan: DeployPlan,
    monkeypatch: pytest.MonkeyPatch,
    error: Callable[[], Exception],
    detail: str,
    fix: str,
):
    class Sts:
        def get_caller_identity(self) -> Any:
            raise error()

    monkeypatch.setattr(preflight.Sessions, "caller_sts", property(lambda self: Sts()))
    (row,) = _run(org, ready_plan)
    assert (row.result, row.check, row.where) == (Result.BLOCKER, "credentials", "caller")
    assert (row.detail, row.fix) == (f"{detail} calling sts:GetCallerIdentity; nothing else checked", fix)
    assert org.base.profile_name == "default"


@pytest.mark.usefixtures("no_credentials")
def test_an_aws_config_file_that_does_not_parse_is_one_line(tmp_path, capsys):
    (tmp_path / "no-config").write_text("[profile mgmt\nregion = eu-west-1\n")
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(_example_data()))
    assert preflight.main(["preflight", str(path), "--profile", "mgmt"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", (
        f"preflight: Unable to parse config file: {tmp_path / 'no-config'}: fix its syntax (an INI file: "
        "[profile NAME] sections)\n"
    ))  # fmt: skip


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize("option", [True, False], ids=["--profile", "AWS_PROFILE"])
def test_an_unknown_profile_is_one_line_naming_the_profiles_there(
    option: bool, monkeypatch: pytest.MonkeyPatch, tmp_path, capsys
):
    (tmp_path / "no-config").write_text("[profile mgmt]\nregion = eu-west-1\n[default]\nregion = eu-west-1\n")
    (tmp_path / "no-credentials").write_text("[dev]\naws_access_key_id = x\naws_secret_access_key = y\n")
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(_example_data()))
    if not option:
        monkeypatch.setenv("AWS_PROFILE", "nope")
    assert preflight.main(["preflight", str(path), *(["--profile", "nope"] if option else [])]) == 1
    out, err = capsys.readouterr()
    given = "--profile nope" if option else "AWS_PROFILE=nope"
    assert (out, err.splitlines()) == ("", [
        f"preflight: {given}: no such profile in the AWS config or credentials files (profiles there: default, "
        "dev, mgmt); name a profile of the deploying account, or set one up (aws configure sso)"
    ])  # fmt: skip


@pytest.fixture
def open_files() -> Iterator[tuple[int, int]]:
    """This process's open-file limits, restored after the test."""
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield limits
    resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def test_cli_exit_code_and_table(
    org: Org,
    ready_plan: DeployPlan,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    capsys,
    open_files: tuple[int, int],
):
    org.unbootstrap("shop-prod", HOME)
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(org.config_data()))
    monkeypatch.setattr(preflight, "build_plan", lambda config: ready_plan)
    hard = open_files[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # a macOS shell's default
    assert preflight.main(["preflight", str(path)]) == 1
    raised = preflight.WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else min(preflight.WANTED_OPEN_FILES, hard)
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (raised, hard)
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == f"preflight: open-file limit raised from 256 to {raised} for this run"
    assert out.splitlines()[0].split() == ["result", "check", "where", "detail", "fix"]
    assert "BLOCKER  CDK bootstrap" in out
    assert out.rstrip().splitlines()[-1].endswith("1 blocker(s)")
    assert "preflight: account 5/5: shop-dev (555555555555)" in err


@pytest.mark.parametrize("jobs", [1, 8])
def test_an_accounts_clients_are_closed_and_let_go_once_its_checks_are_done(
    org: Org, ready_plan: DeployPlan, monkeypatch: pytest.MonkeyPatch, jobs: int
):
    """Each boto3 client keeps a socket open per endpoint it called: kept for the whole run, a thousand
    workload accounts would hold some 11,000 open files. When an account is reported done, its clients are closed
    and unreferenced; at the end every client is closed, the caller's STS client too."""

    @dataclasses.dataclass
    class Made:
        client: weakref.ref[Any]
        account: str = "caller"
        closed: bool = False

    made: list[Made] = []
    of_client: weakref.WeakKeyDictionary[Any, Made] = weakref.WeakKeyDictionary()
    make, client_of = preflight.Sessions._make_client, preflight.Sessions.client

    def make_client(self: preflight.Sessions, service: str, **settings: Any) -> Any:
        client = make(self, service, **settings)
        made.append(entry := Made(weakref.ref(client)))
        of_client[client] = entry
        close = client.close

        def closing() -> None:  # refers to the entry, not the client: no reference cycle added
            entry.closed = True
            close()

        client.close = closing
        return client

    def client(self: preflight.Sessions, account: str, service: str, region: str) -> Any:
        made_client = client_of(self, account, service, region)
        of_client[made_client].account = account
        return made_client

    monkeypatch.setattr(preflight.Sessions, "_make_client", make_client)
    monkeypatch.setattr(preflight.Sessions, "client", client)
    still_held: list[str] = []

    def progress(line: str) -> None:
        if line.startswith("account "):
            gc.collect()  # a botocore client holds reference cycles: let go of means collectable
            done = line.rsplit("(", 1)[1].rstrip(")")
            still_held.extend(f"{done}: {m.account}" for m in made if m.account == done and m.client())

    # Collections during the run come only from the progress lines above: gc.collect() does nothing while
    # another thread's collection is under way, and an automatic one on a member account's thread can be
    # (it runs finalizers, which let other threads run). Then the account just reported looked held: seen
    # with eight jobs beside two busy processes about once in 50 runs, the clients collectable 50 ms later
    # (none in 200 runs with the collector off).
    # What exists before the run (this process's imports, moto's organization) is collected once and
    # frozen out of those collections, 0.2-0.3 s each otherwise. The clients are all made during the run,
    # so every pass still sees them; a frozen object that came to hold one would keep it (a failure, as it
    # should be). Frozen, an automatic collection would have little to weigh its generations against and
    # run full passes often, on any thread: the collector stays off until the run is done.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        rows = _run(org, ready_plan, progress=progress, jobs=jobs)
    finally:
        gc.enable()
    assert _of(rows, Result.BLOCKER) == []
    assert {m.account for m in made} == {"caller", MANAGEMENT, *MEMBER_IDS.values()} and len(made) > 20
    assert still_held == []
    gc.collect()
    assert [m.account for m in made if m.client()] == []
    assert [m.account for m in made if not m.closed] == []


def test_the_open_file_limit_is_raised_within_the_hard_limit_and_never_lowered(open_files: tuple[int, int]):
    hard = open_files[1]
    ceiling = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    low, high = min(300, ceiling // 4), min(600, ceiling // 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    assert preflight.raise_open_file_limit(high) == (low, high)
    assert preflight.raise_open_file_limit(high - 1) == (high, high)  # never lowered
    if hard != resource.RLIM_INFINITY:
        assert preflight.raise_open_file_limit(hard + 1) == (high, hard)  # at most the hard limit
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[1] == hard


def _out_of_sockets() -> None:
    """What botocore raises when no socket can be opened: urllib3's error around the OSError, inside botocore's."""
    from botocore.exceptions import EndpointConnectionError
    from urllib3.exceptions import NewConnectionError

    cause = OSError(errno.EMFILE, "Too many open files")
    wrapped = NewConnectionError(None, f"Failed to establish a new connection: {cause}")
    wrapped.__cause__ = cause
    raise EndpointConnectionError(endpoint_url="https://logs.eu-west-1.amazonaws.com/", error=wrapped)


def _out_of_files() -> None:
    raise OSError(errno.EMFILE, "Too many open files")  # e.g. opening the CA bundle


def _unreadable() -> None:
    raise PermissionError(errno.EACCES, "Permission denied", "/etc/ssl/certs/ca-bundle.crt")


def _guarded(plan: DeployPlan, check: Callable[[], None], jobs: int) -> list[Row]:
    """The rows ``Preflight.guarded`` adds when one check raises (every call of every check runs in it)."""
    sessions = preflight.Sessions(None, home_account=MANAGEMENT, member_role="BaselinePreflight")
    run = preflight.Preflight(parse_config(_example_data()), plan, sessions, jobs=jobs)
    run.guarded("fixed name", "audit (333333333333) eu-west-1", "logs:DescribeLogGroups", check)
    return run.rows


@pytest.mark.parametrize(("check", "jobs"), [(_out_of_sockets, 8), (_out_of_files, 1)])
def test_running_out_of_open_files_is_said_with_its_fix(ready_plan: DeployPlan, check: Callable[[], None], jobs: int):
    (row,) = _guarded(ready_plan, check, jobs)
    assert row.result is Result.WARN and row.check == "fixed name"
    assert row.detail == (
        "not checked: this process ran out of open files calling logs:DescribeLogGroups (each client of the "
        f"{jobs} account(s) checked at once keeps a connection open)"
    )
    fewer = f"run with fewer --jobs than {jobs}, or " if jobs > 1 else ""
    assert row.fix == f"{fewer}raise the open-file limit (ulimit -n)"


def test_another_os_error_is_not_taken_for_an_answer_of_aws(ready_plan: DeployPlan):
    with pytest.raises(PermissionError):
        _guarded(ready_plan, _unreadable, 8)
    # while an API's error is still a warning that says what to grant
    from botocore.exceptions import ClientError

    def denied() -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeLogGroups")

    (row,) = _guarded(ready_plan, denied, 8)
    assert row.detail == "not checked: AccessDenied calling logs:DescribeLogGroups"
    assert row.fix == "allow logs:DescribeLogGroups to the caller (or the member role BaselinePreflight)"


def test_jobs_below_one_are_refused_with_what_is_allowed(capsys: pytest.CaptureFixture[str]):
    for given in ("0", "-2", "many"):
        with pytest.raises(SystemExit) as exit_:
            preflight.main(["preflight", str(EXAMPLE_CONFIGS["example"]), "--jobs", given])
        assert exit_.value.code == 2
        assert f"--jobs: '{given}' is not allowed: a whole number, at least 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs: 0 is not allowed: at least 1"):
        run_preflight(parse_config(_example_data()), session=None, jobs=0)


def test_bootstrap_versions_match_the_templates_and_the_pinned_cli():
    from tests.conftest import ROOT

    template = json.loads(
        (ROOT / "tests/stacks/__snapshots__/test_gates/test_snapshot[example-acme-audit].json").read_text()
    )
    (assertion,) = template["Rules"]["CheckBootstrapVersion"]["Assertions"]
    rejected = assertion["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
    assert rejected == [str(v) for v in range(1, preflight.REQUIRED_BOOTSTRAP_VERSION)]
    cli = (ROOT / "node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml").read_text()
    assert f"Value: '{preflight.CLI_BOOTSTRAP_VERSION}'" in cli.split("CdkBootstrapVersion:", 1)[1][:400]


# --- on AWS Control Tower ------------------------------------------------------------------------

CT_TRAIL = "aws-controltower-BaselineCloudTrail"
CT_LOG_GROUP = "aws-controltower/CloudTrailLogs"
CT_RECORDER = "aws-controltower-BaselineConfigRecorder"
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")


def _on_control_tower(data: dict[str, Any], **section: Any) -> dict[str, Any]:
    """``data`` turned into a config on Control Tower: the section, and without what the mode refuses
    (settings of Control Tower's trail and log archive, an exemption list without its roles)."""
    for owned in ("cloudtrail", "log_archive"):
        data.pop(owned, None)
    data["service_control_policies"].pop("exempt_role_names", None)  # the defaults add Control Tower's roles
    for key in ("recording_frequency", "snapshot_delivery_frequency", "excluded_resource_types"):
        data["aws_config"].pop(key, None)
    data["control_tower"] = section
    return data


def _control_tower_data(org: Org, **section: Any) -> dict[str, Any]:
    return _on_control_tower(org.config_data(), **section)


def _as_control_tower_composes(plan: DeployPlan) -> DeployPlan:
    """The plan without what the stacks leave to Control Tower in its mode: the organization trail and the
    recorders (and delivery channels) of member accounts; the management account keeps its own, as Control
    Tower runs none there. Once the stacks honour control_tower themselves this drops nothing."""

    def kept(fixed: FixedName) -> bool:
        if fixed.resource_type == "AWS::CloudTrail::Trail":
            return False
        if fixed.resource_type in ("AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel"):
            return fixed.accounts == (MANAGEMENT,)
        return True

    return DeployPlan(
        environments=plan.environments,
        fixed_names=tuple(f for f in plan.fixed_names if kept(f)),
        stack_names=plan.stack_names,
    )


@pytest.fixture(scope="module")
def control_tower_plan() -> DeployPlan:
    data = _on_control_tower(_example_data())
    # Control Tower mode creates no OU, so every OU has an id; the plan does not depend on which.
    for index, unit in enumerate(_units(data).values()):
        unit["id"] = f"ou-plan-{index:08d}"
    return _as_control_tower_composes(build_plan(parse_config(data)))


def _guardrail(org: Org, target: str, suffix: str) -> None:
    """An SCP as Control Tower names its preventive controls' policies, attached to ``target``."""
    policy = org.orgs.create_policy(
        Name=f"aws-guardrails-{suffix}",
        Description="",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "cloudtrail:DeleteTrail", "Resource": "*"}],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    org.orgs.attach_policy(PolicyId=policy, TargetId=target)


def _landing_zone(org: Org) -> None:
    """What a landing zone leaves in the organization: its roles, its trail delivering to its log group in
    the management account, the execution role and a recorder per governed region in every enrolled
    account, an aws-guardrails-* SCP on every registered OU."""
    iam = org.client("management", "iam")
    for role in ("AWSControlTowerAdmin", "AWSControlTowerStackSetRole", "AWSControlTowerCloudTrailRole"):
        iam.create_role(RoleName=role, Path="/service-role/", AssumeRolePolicyDocument="{}")
    logs = org.client("management", "logs")
    logs.create_log_group(logGroupName=CT_LOG_GROUP)
    org.client("management", "s3").create_bucket(
        Bucket="aws-controltower-logs-222222222222-eu-west-1", CreateBucketConfiguration={"LocationConstraint": HOME}
    )
    org.client("management", "cloudtrail").create_trail(
        Name=CT_TRAIL,
        S3BucketName="aws-controltower-logs-222222222222-eu-west-1",
        IsOrganizationTrail=True,
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{HOME}:{MANAGEMENT}:log-group:{CT_LOG_GROUP}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{MANAGEMENT}:role/service-role/AWSControlTowerCloudTrailRole",
    )
    for account, account_id in MEMBER_IDS.items():
        org.client(account, "iam").create_role(RoleName="AWSControlTowerExecution", AssumeRolePolicyDocument="{}")
        for region in REGIONS:
            org.client(account, "config", region).put_configuration_recorder(
                ConfigurationRecorder={
                    "name": CT_RECORDER,
                    "roleARN": f"arn:aws:iam::{account_id}:role/aws-controltower-ConfigRecorderRole",
                }
            )
    for index, unit in enumerate(("Security", "Infrastructure", "Workloads", "Production", "NonProduction")):
        _guardrail(org, org.ous[unit], f"ou{index}")


@pytest.fixture
def ct_org(org: Org) -> Org:
    _landing_zone(org)
    return org


def test_on_control_tower_a_ready_landing_zone_passes(ct_org: Org, control_tower_plan: DeployPlan):
    rows = _run(ct_org, control_tower_plan, _control_tower_data(ct_org))
    print(preflight.table(rows))
    assert _of(rows, Result.BLOCKER) == []
    assert {r.check for r in _of(rows, Result.WARN)} == {"trusted access", "fixed name"}  # + moto's missing OAM
    passed = {(r.check, r.where): r.detail for r in _of(rows, Result.PASS)}
    where = f"management ({MANAGEMENT}) {HOME}"
    assert CT_TRAIL in passed[("Control Tower", where)] and "AWSControlTowerAdmin" in passed[("Control Tower", where)]
    assert passed[("Control Tower trail", where)] == f"{CT_TRAIL} delivers to CloudWatch Logs {CT_LOG_GROUP}"
    assert passed[("Control Tower log group", where)] == f"{CT_LOG_GROUP} exists"
    # Its trail is reused, not counted as a duplicate of one the baseline creates.
    assert "reuses Control Tower's (aws-controltower-BaselineCloudTrail)" in passed[("organization trails", where)]
    enrolled = {w for (check, w) in passed if check == "Control Tower enrollment"}
    assert enrolled == {f"{name} ({account_id})" for name, account_id in MEMBER_IDS.items()}
    assert passed[("Control Tower enrollment", "shop-dev (555555555555)")] == (
        f"role AWSControlTowerExecution, recorder {CT_RECORDER} in eu-west-1, eu-central-1, us-east-1"
    )
    # Control Tower runs no recorder in the management account: nothing there waits for one of its.
    assert ("Control Tower enrollment", f"management ({MANAGEMENT})") not in passed
    if any(f.resource_type == "AWS::Config::ConfigurationRecorder" for f in control_tower_plan.fixed_names):
        # Stacks that keep a recorder of the baseline's own there: it is checked like any other.
        assert ("AWS Config recorder", f"management ({MANAGEMENT})") in passed
    # Control Tower's SCPs are counted on every target the baseline attaches to (here the root only).
    assert passed[("SCP quota", "root")].startswith("1 attached (FullAWSAccess) + 3 of the baseline = 4")


def _not_enrolled(org: Org) -> None:
    org.client("shop-dev", "iam").delete_role(RoleName="AWSControlTowerExecution")
    for region in REGIONS:
        org.client("shop-dev", "config", region).delete_configuration_recorder(ConfigurationRecorderName=CT_RECORDER)


def _trail_without_cloudwatch_logs(org: Org) -> None:
    org.client("management", "cloudtrail").update_trail(
        Name=CT_TRAIL, CloudWatchLogsLogGroupArn="", CloudWatchLogsRoleArn=""
    )


#: seed -> (seed the organization, seed the config data, expected blocker: check, where contains, fix contains)
CONTROL_TOWER_BLOCKERS: dict[
    str, tuple[Callable[[Org], Any] | None, Callable[[dict[str, Any]], Any] | None, tuple[str, str, str]]
] = {
    "trail without CloudWatch Logs": (
        _trail_without_cloudwatch_logs,
        None,
        ("Control Tower trail", f"management ({MANAGEMENT}) {HOME}", "turn on CloudWatch Logs delivery"),
    ),
    "log group absent": (
        lambda o: o.client("management", "logs").delete_log_group(logGroupName=CT_LOG_GROUP),
        None,
        ("Control Tower log group", f"management ({MANAGEMENT}) {HOME}", "Landing zone settings"),
    ),
    "region not governed": (
        lambda o: o.client("shop-prod", "config", "us-east-1").delete_configuration_recorder(
            ConfigurationRecorderName=CT_RECORDER
        ),
        None,
        ("Control Tower enrollment", "shop-prod (444444444444) us-east-1", "add us-east-1 to the landing zone"),
    ),
    "account not enrolled": (
        _not_enrolled,
        None,
        ("Control Tower enrollment", "shop-dev (555555555555)", "register its OU NonProduction"),
    ),
    "SCP quota with Control Tower's SCPs": (
        lambda o: _guardrail(o, o.ous["Production"], "extra"),
        lambda d: d["service_control_policies"]["attachments"].update(
            organizational_units={"Production": ["protect-audit-logging", "protect-monitoring", "guardrails"]}
        ),
        ("SCP quota", "OU Production", "leave Control Tower's aws-guardrails-* attached"),
    ),
}


def test_on_control_tower_each_blocker_is_reported_with_its_fix(ct_org: Org, control_tower_plan: DeployPlan):
    data = _control_tower_data(ct_org)
    for seed_org, seed_config, _ in CONTROL_TOWER_BLOCKERS.values():
        if seed_org is not None:
            seed_org(ct_org)
        if seed_config is not None:
            seed_config(data)
    blockers = _of(_run(ct_org, control_tower_plan, data), Result.BLOCKER)
    for seed, (_, _, (check, where, fix)) in CONTROL_TOWER_BLOCKERS.items():
        matching = [r for r in blockers if r.check == check and where in r.where and fix in r.fix]
        assert len(matching) == 1, f"{seed}: {matching}\n{preflight.table(blockers)}"
    assert len(blockers) == len(CONTROL_TOWER_BLOCKERS), preflight.table(blockers)
    (quota,) = [r for r in blockers if r.check == "SCP quota"]
    # FullAWSAccess and both of Control Tower's SCPs count: 3 + 3 of the baseline = 6.
    assert quota.detail.startswith(
        "3 attached (FullAWSAccess, aws-guardrails-ou3 (Control Tower), aws-guardrails-extra (Control Tower)) "
        "+ 3 of the baseline = 6; AWS allows 5"
    )
    (trail,) = [r for r in blockers if r.check == "Control Tower trail"]
    assert trail.detail.startswith(f"{CT_TRAIL} delivers to no CloudWatch Logs group")
    (region,) = [r for r in blockers if r.where.endswith("us-east-1")]
    assert region.detail.startswith(f"no AWS Config recorder {CT_RECORDER} (found: none)")


def test_a_landing_zone_with_the_mode_off_is_a_blocker(ct_org: Org, ready_plan: DeployPlan):
    rows = _run(ct_org, ready_plan)
    (row,) = [r for r in rows if r.check == "Control Tower"]
    assert row.result is Result.BLOCKER and row.where == f"management ({MANAGEMENT}) {HOME}"
    assert "no control_tower section" in row.detail and CT_TRAIL in row.detail
    assert row.fix == "add a control_tower: section to the config (docs/control-tower.md 'With AWS Control Tower')"
    # The baseline's recorders would collide with Control Tower's: each says so, with the same way out.
    recorders = [r for r in rows if r.check == "AWS Config recorder" and r.result is Result.BLOCKER]
    assert len(recorders) == len(MEMBER_IDS) * len(REGIONS)
    assert all("add a control_tower: section" in r.fix for r in recorders)
    # Switched off explicitly: the fix is to switch it on.
    rows = _run(ct_org, ready_plan, _control_tower_data(ct_org, enabled=False))
    (row,) = [r for r in rows if r.check == "Control Tower"]
    assert (row.result, row.fix) == (Result.BLOCKER, "set control_tower.enabled: true")
    assert "control_tower.enabled: false" in row.detail


def test_the_mode_on_without_a_landing_zone_is_a_blocker(org: Org, control_tower_plan: DeployPlan):
    rows = _run(org, control_tower_plan, _control_tower_data(org))
    (row,) = [r for r in rows if r.check == "Control Tower"]
    assert row.result is Result.BLOCKER and "no landing zone is there" in row.detail
    # moto has no Control Tower API: the row says detection rested on the resources.
    assert "controltower:ListLandingZones not answered (404)" in row.detail
    assert "set up the landing zone first" in row.fix
    # Nothing else is asked of a landing zone that is not there.
    assert not [r for r in rows if r.check.startswith("Control Tower ")]


def test_an_unmanaged_org_without_a_landing_zone_passes_the_detection(org: Org, ready_plan: DeployPlan):
    rows = _run(org, ready_plan)
    (row,) = [r for r in rows if r.check == "Control Tower"]
    assert row.result is Result.PASS and row.detail.startswith("no landing zone (no trail aws-controltower-*")


class _ControlTowerApi:
    """controltower:ListLandingZones / GetLandingZone as AWS answers them (moto 5.2.5 has no Control Tower)."""

    ARN = "arn:aws:controltower:eu-west-1:123456789012:landingzone/1A2B3C4D5E6F7G8H"

    def list_landing_zones(self) -> dict[str, Any]:
        return {"landingZones": [{"arn": self.ARN}]}

    def get_landing_zone(self, landingZoneIdentifier: str) -> dict[str, Any]:
        assert landingZoneIdentifier == self.ARN
        return {
            "landingZone": {
                "arn": self.ARN,
                "version": "3.3",
                "status": "ACTIVE",
                "manifest": {"governedRegions": ["eu-west-1", "eu-central-1"]},
            }
        }


def test_the_control_tower_api_names_the_landing_zone_and_its_governed_regions(
    ct_org: Org, control_tower_plan: DeployPlan, monkeypatch: pytest.MonkeyPatch
):
    real = preflight.Sessions.client

    def client(self: preflight.Sessions, account: str, service: str, region: str) -> Any:
        return _ControlTowerApi() if service == "controltower" else real(self, account, service, region)

    monkeypatch.setattr(preflight.Sessions, "client", client)
    ct_org.client("shop-prod", "config", "us-east-1").delete_configuration_recorder(
        ConfigurationRecorderName=CT_RECORDER
    )
    rows = _run(ct_org, control_tower_plan, _control_tower_data(ct_org))
    found = next(r for r in rows if r.check == "Control Tower" and r.result is Result.PASS)
    assert found.detail.startswith(f"landing zone: landing zone {_ControlTowerApi.ARN}")
    blockers = _of(rows, Result.BLOCKER)
    (ungoverned,) = [r for r in blockers if r.where == "landing zone us-east-1"]
    assert "the landing zone governs eu-west-1, eu-central-1" in ungoverned.detail
    (recorder,) = [r for r in blockers if r.check == "Control Tower enrollment"]
    assert recorder.where == "shop-prod (444444444444) us-east-1"
    assert "us-east-1 is not a governed region of the landing zone (eu-west-1, eu-central-1)" in recorder.detail


def test_landing_zone_detection_rests_on_trail_admin_role_or_api():
    empty = LandingZone(api="", arn=None, governed_regions=None, trails=(), roles=())
    assert not empty.found
    assert LandingZone(api="", arn=None, governed_regions=None, trails=({"Name": CT_TRAIL},), roles=()).found
    assert LandingZone(api="", arn=None, governed_regions=None, trails=(), roles=("AWSControlTowerAdmin",)).found
    assert LandingZone(api="", arn="arn:x", governed_regions=None, trails=(), roles=()).found
    # A leftover StackSet role alone is no landing zone.
    assert not LandingZone(
        api="", arn=None, governed_regions=None, trails=(), roles=("AWSControlTowerStackSetRole",)
    ).found
    assert preflight.log_group_name(f"arn:aws:logs:{HOME}:{MANAGEMENT}:log-group:{CT_LOG_GROUP}:*") == CT_LOG_GROUP


def test_member_account_clients_keep_the_settings_of_the_callers_profile(
    org: Org, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """Clients in member accounts come from the caller's session (``--profile``) with the assumed role's
    credentials, so that profile's settings (retries, CA bundle, endpoints) apply there too."""
    config_file = tmp_path / "config"
    config_file.write_text(
        "[profile deployer]\nregion = eu-west-1\nmax_attempts = 7\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    base = boto3.Session(profile_name="deployer")
    sessions = preflight.Sessions(base, home_account=MANAGEMENT, member_role="OrganizationAccountAccessRole")
    member = sessions.client("444444444444", "ssm", HOME)
    assert member.meta.config.retries["total_max_attempts"] == 7
    assert sessions.client(MANAGEMENT, "ssm", HOME).meta.config.retries["total_max_attempts"] == 7
    # The member client acts in the member account.
    assert sessions.client("444444444444", "sts", HOME).get_caller_identity()["Account"] == "444444444444"


def test_one_sts_client_assumes_the_role_in_every_member_account(org: Org, monkeypatch: pytest.MonkeyPatch):
    """Each member account's role is assumed once, all through one STS client of the caller's session
    (an organization of a thousand accounts would otherwise make a thousand of them)."""
    base = boto3.Session(region_name=HOME)
    made: list[str] = []
    make = base.client

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service)
        return make(service, *args, **kwargs)

    monkeypatch.setattr(base, "client", client)
    sessions = preflight.Sessions(base, home_account=MANAGEMENT, member_role="OrganizationAccountAccessRole")
    for account in MEMBER_IDS.values():
        identity = sessions.client(account, "sts", HOME).get_caller_identity()
        assert identity["Account"] == account
        assert sessions.credentials(account) is sessions.credentials(account)  # assumed once
    assert made.count("sts") == 1 + len(MEMBER_IDS)  # the shared one, and each account's own client
