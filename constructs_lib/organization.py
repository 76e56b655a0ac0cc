"""Organization: AWS Organizations with nested OUs, accounts, service control policies and delegated admins."""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_organizations as organizations
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib import _nag, scp
from constructs_lib._errors import Problems

_OU_NAME = re.compile(r"^[\s\S]{1,128}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCOUNT_NAME = re.compile(r"^[\u0020-\u007E]{1,50}$")
_SCP_NAME = re.compile(r"^[\s\S]{1,128}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
_OU_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")


@dataclass(frozen=True, kw_only=True)
class OrganizationalUnitSpec:
    """An organizational unit and the OUs nested in it.

    :param name: OU name, unique in the whole tree (SCP targets and accounts name it).
    :param ou_id: id of an OU that exists already (``ou-xxxx-xxxxxxxx``): it is referenced, not
        created, and OUs nested in it without an id are created under it. Default: None (create it).
    :param children: nested OUs. Default: none.
    """

    name: str
    ou_id: str | None = None
    children: Sequence[OrganizationalUnitSpec] = ()

    def walk(self, parent: str | None = None) -> Iterator[tuple[OrganizationalUnitSpec, str | None]]:
        """This OU and every OU below it, each with the name of its parent (None: the root)."""
        yield self, parent
        for child in self.children:
            yield from child.walk(self.name)


@dataclass(frozen=True, kw_only=True)
class AccountSpec:
    """A member account: referenced by ``account_id`` (it exists) or created (``email`` given).

    :param name: account name, unique; SCP targets and delegated administrators name it.
    :param account_id: 12-digit id of an existing account. Default: None (create the account).
    :param email: root user email of an account to create. Default: None (reference ``account_id``).
    :param parent_ou: OU name a created account is placed in. Default: None (the root). A referenced
        account stays where it is: CloudFormation cannot move an account it did not create.
    :param role_name: role Organizations creates in a new account for the management account.
        Default: ``OrganizationAccountAccessRole``.
    """

    name: str
    account_id: str | None = None
    email: str | None = None
    parent_ou: str | None = None
    role_name: str | None = None

    @property
    def created(self) -> bool:
        return self.account_id is None


class PolicyTarget:
    """Where an SCP is attached: the root, an OU or an account, by name."""

    def __init__(self, kind: str, name: str | None = None) -> None:
        self.kind = kind
        self.name = name

    @classmethod
    def root(cls) -> PolicyTarget:
        """The organization root: every account but the management account."""
        return cls("root")

    @classmethod
    def organizational_unit(cls, name: str) -> PolicyTarget:
        return cls("ou", name)

    @classmethod
    def account(cls, name: str) -> PolicyTarget:
        return cls("account", name)

    @property
    def label(self) -> str:
        return "root" if self.kind == "root" else f"{self.kind} {self.name!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicyTarget) and (self.kind, self.name) == (other.kind, other.name)

    def __hash__(self) -> int:
        return hash((self.kind, self.name))

    def __repr__(self) -> str:
        return f"PolicyTarget({self.label})"


@dataclass(frozen=True, kw_only=True)
class ServiceControlPolicy:
    """An SCP and where it is attached.

    :param name: policy name, unique in the organization.
    :param document: the policy in the IAM JSON grammar (a ``dict``), for example from ``constructs_lib.scp``.
    :param targets: where to attach it. Default: nowhere (created, not attached).
    :param description: Default: none.
    """

    name: str
    document: Mapping[str, Any]
    targets: Sequence[PolicyTarget] = ()
    description: str | None = None


class DelegatedService(enum.Enum):
    """Services whose administration the organization can delegate to a member account."""

    #: AWS Config aggregators, registered through Organizations.
    CONFIG = "config.amazonaws.com"
    #: AWS Config organization rules and conformance packs, registered through Organizations.
    CONFIG_RULES = "config-multiaccountsetup.amazonaws.com"
    #: CloudTrail organization trails and event data stores, registered through CloudTrail's own API
    #: (it also creates the service-linked role CloudTrail needs).
    CLOUDTRAIL = "cloudtrail.amazonaws.com"


class Organization(Construct):
    """An AWS Organizations organization with all features, its OU tree, accounts and SCPs.

    Deploy it in the management account. With ``organization_id`` it manages the organization that
    exists (the usual case: an organization is created once, outside any stack); without, it creates
    one. OUs with an ``ou_id`` are referenced, the others created. CloudFormation has no resource for enabling the SCP
    policy type, trusted access or delegated administrators, so each is one narrowly scoped
    ``AwsCustomResource``: idempotent ("already enabled" is success), never undone on delete (a
    removed resource must not silently drop guardrails). SCPs wait for the policy type, so the
    first deploy works.

    Example::

        from constructs_lib import scp
        from constructs_lib.organization import (
            AccountSpec, DelegatedService, Organization, OrganizationalUnitSpec, PolicyTarget,
            ServiceControlPolicy,
        )

        org = Organization(
            stack,
            "Organization",
            organization_id="o-a1b2c3d4e5",  # the existing organization; its root id is read at deploy time
            organizational_units=[OrganizationalUnitSpec(name="Workloads", ou_id="ou-ab12-cd34ef56",
                                                         children=[OrganizationalUnitSpec(name="Prod")])],
            accounts=[AccountSpec(name="audit", account_id="333333333333")],
            service_control_policies=[
                ServiceControlPolicy(
                    name="guardrails",
                    document=scp.guardrails_policy(exempt_role_names=["BreakGlass"]),
                    targets=[PolicyTarget.root()],
                )
            ],
            exempt_role_names=["BreakGlass"],
            delegated_administrators={DelegatedService.CONFIG: "audit"},
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        organization_id: str | None = None,
        root_id: str | None = None,
        organizational_units: Sequence[OrganizationalUnitSpec] = (),
        accounts: Sequence[AccountSpec] = (),
        service_control_policies: Sequence[ServiceControlPolicy] = (),
        exempt_role_names: Sequence[str] = (),
        trusted_access_services: Sequence[str] = (),
        delegated_administrators: Mapping[DelegatedService, str] | None = None,
        partition: str = scp.DEFAULT_PARTITION,
    ) -> None:
        """
        :param organization_id: id of the existing organization to manage (``o-…``); deploy in its
            management account. Default: None (create a new organization, retained on delete).
        :param root_id: id of that organization's root (``r-…``). Default: read at deploy time with
            ``organizations:ListRoots`` (only with ``organization_id``; a created organization's
            root id comes from the resource).
        :param organizational_units: the OU tree below the root. Default: none.
        :param accounts: member accounts, created or referenced by id. Default: none.
        :param service_control_policies: SCPs and their targets; each is validated (grammar, 5,120
            bytes minified, no lock-out of ``exempt_role_names``) and at most 4 attach to one target
            (FullAWSAccess is the fifth). Default: none.
        :param exempt_role_names: roles every Deny statement must exempt; checked, not added. Default: none.
        :param trusted_access_services: service principals given trusted access, say
            ``cloudtrail.amazonaws.com`` (an organization trail needs it). Default: none, plus the
            services of ``delegated_administrators``.
        :param delegated_administrators: service -> account name registered as its delegated
            administrator. Default: none.
        :param partition: partition the SCP ARNs are validated against. Default: ``aws``.
        """
        super().__init__(scope, construct_id)
        delegated = dict(delegated_administrators or {})
        units = [pair for top in organizational_units for pair in top.walk()]
        self._validate(
            units, accounts, service_control_policies, exempt_role_names, delegated, partition, organization_id, root_id
        )

        #: The organization created here; None when ``organization_id`` references an existing one.
        self.organization: organizations.CfnOrganization | None = None
        if organization_id is None:
            self.organization = organizations.CfnOrganization(self, "Resource", feature_set="ALL")
            self.organization.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
            self.organization_id: str = self.organization.attr_id
            self.root_id: str = self.organization.attr_root_id
        else:
            self.organization_id = organization_id
            self.root_id = root_id if root_id is not None else self._read_root_id()

        #: OU name -> its resource, for the OUs created here (stateful: retained).
        self.organizational_units: dict[str, organizations.CfnOrganizationalUnit] = {}
        #: OU name -> its id, for every OU (a token for the OUs created here).
        self.organizational_unit_ids: dict[str, str] = {}
        for unit, parent in units:
            if unit.ou_id is not None:
                self.organizational_unit_ids[unit.name] = unit.ou_id
                continue
            resource = organizations.CfnOrganizationalUnit(
                self,
                f"Ou{_pascal(unit.name)}",
                name=unit.name,
                parent_id=self.root_id if parent is None else self.organizational_unit_ids[parent],
            )
            resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
            self.organizational_units[unit.name] = resource
            self.organizational_unit_ids[unit.name] = resource.attr_id

        #: account name -> account id (a token for accounts created here).
        self.account_ids: dict[str, str] = {}
        #: account name -> resource, for the accounts created here (stateful: retained).
        self.created_accounts: dict[str, organizations.CfnAccount] = {}
        for account in accounts:
            if account.account_id is not None:
                self.account_ids[account.name] = account.account_id
                continue
            created = organizations.CfnAccount(
                self,
                f"Account{_pascal(account.name)}",
                account_name=account.name,
                email=str(account.email),
                parent_ids=[self._parent_id(account.parent_ou)],
                role_name=account.role_name,
            )
            created.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
            self.created_accounts[account.name] = created
            self.account_ids[account.name] = created.attr_account_id

        self.service_control_policies_enabled = self._enable_service_control_policies()
        #: SCP name -> its resource.
        self.policies: dict[str, organizations.CfnPolicy] = {}
        for policy in service_control_policies:
            resource = organizations.CfnPolicy(
                self,
                f"Scp{_pascal(policy.name)}",
                name=policy.name,
                type="SERVICE_CONTROL_POLICY",
                content=dict(policy.document),
                description=policy.description,
                target_ids=[self.target_id(target) for target in policy.targets] or None,
            )
            # Attaching before the policy type is enabled fails with PolicyTypeNotEnabledException.
            resource.node.add_dependency(self.service_control_policies_enabled)
            self.policies[policy.name] = resource

        services = list(dict.fromkeys([*trusted_access_services, *(s.value for s in delegated)]))
        #: service principal -> the custom resource enabling its trusted access.
        self.trusted_access: dict[str, cr.AwsCustomResource] = {
            service: self._enable_trusted_access(service) for service in services
        }
        #: service -> the custom resource registering its delegated administrator.
        self.delegated_administrators: dict[DelegatedService, cr.AwsCustomResource] = {}
        for service, account_name in delegated.items():
            registration = self._register_delegated_administrator(service, self.account_ids[account_name])
            registration.node.add_dependency(self.trusted_access[service.value])
            for created in self.created_accounts.values():
                registration.node.add_dependency(created)
            self.delegated_administrators[service] = registration

    def enable_stack_sets_access(self) -> cr.AwsCustomResource:
        """CloudFormation StackSets' trusted access to Organizations, which service-managed
        StackSets need; created once, on first call."""
        existing = self.node.try_find_child("StackSetsAccess")
        if isinstance(existing, cr.AwsCustomResource):
            return existing
        # CloudFormation has no resource for it. ActivateOrganizationsAccess enables the trusted
        # access and creates the StackSets service-linked role; activating it again succeeds.
        call = cr.AwsSdkCall(
            service="CloudFormation",
            action="activateOrganizationsAccess",
            parameters={},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.organization_id}/stacksets-access"),
        )
        resource = self._custom_resource(
            "StackSetsAccess",
            call,
            [
                iam.PolicyStatement(actions=["cloudformation:ActivateOrganizationsAccess"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["organizations:EnableAWSServiceAccess"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {
                            "organizations:ServicePrincipal": "member.org.stacksets.cloudformation.amazonaws.com"
                        }
                    },
                ),
                iam.PolicyStatement(actions=["organizations:DescribeOrganization"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=["*"],
                    conditions={"StringEquals": {"iam:AWSServiceName": "stacksets.cloudformation.amazonaws.com"}},
                ),
            ],
        )
        return resource

    def target_id(self, target: PolicyTarget) -> str:
        """The root id, OU id or account id of ``target``."""
        if target.kind == "root":
            return self.root_id
        if target.kind == "ou":
            return self.organizational_unit_ids[str(target.name)]
        return self.account_ids[str(target.name)]

    def _parent_id(self, ou: str | None) -> str:
        return self.root_id if ou is None else self.organizational_unit_ids[ou]

    def _read_root_id(self) -> str:
        """The root id of the existing organization, read once at deploy time."""
        # An organization has exactly one root; ListRoots is read-only and has no resource type.
        call = cr.AwsSdkCall(
            service="Organizations",
            action="listRoots",
            parameters={},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.organization_id}/root"),
            output_paths=["Roots.0.Id"],
            region="us-east-1",
        )
        reader = self._custom_resource(
            "RootId", call, [iam.PolicyStatement(actions=["organizations:ListRoots"], resources=["*"])]
        )
        return reader.get_response_field("Roots.0.Id")

    def _arn(self, resource: str) -> str:
        stack = cdk.Stack.of(self)
        return f"arn:{stack.partition}:organizations::{stack.account}:{resource}"

    def _custom_resource(
        self, construct_id: str, call: cr.AwsSdkCall, statements: Sequence[iam.PolicyStatement]
    ) -> cr.AwsCustomResource:
        resource = cr.AwsCustomResource(
            self,
            construct_id,
            on_create=call,
            on_update=call,
            # No on_delete: removing this resource from the app must not silently disable SCPs,
            # trusted access or a delegated administrator; undo those deliberately.
            policy=cr.AwsCustomResourcePolicy.from_statements(list(statements)),
            install_latest_aws_sdk=False,
        )
        policy = resource.node.find_child("CustomResourcePolicy")
        _nag.acknowledge(
            policy,
            "AwsCustomResource attaches one policy per custom resource to its provider role; this one grants only "
            "the single API call of this resource, so keeping it next to the call is the narrowest form",
            *_nag.in_compliance_packs("IAMNoInlinePolicy"),
        )
        if any("*" in statement.resources for statement in statements):
            _nag.acknowledge(
                policy,
                "The action has no resource type in the service authorization reference, so IAM accepts only "
                "Resource '*'; where the service offers one, a condition key narrows it to the one service principal",
                "AwsSolutions-IAM5[Resource::*]",
            )
        log_group = self._acknowledge_provider()
        if log_group is not None:
            # Lambda creates /aws/lambda/<fn> itself when the function first logs; the stack's log
            # group of that name must exist before any call, or its creation fails ("already exists").
            resource.node.add_dependency(log_group)
        return resource

    def _acknowledge_provider(self) -> Construct | None:
        """Findings on the provider Lambda that ``AwsCustomResource`` shares across the stack."""
        provider = cdk.Stack.of(self).node.try_find_child(
            "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        )
        if provider is None:
            return None
        _nag.acknowledge_deploy_time_function(provider.node.find_child("Resource"), "the Organizations APIs")
        log_group = provider.node.try_find_child("LogGroup")  # with @aws-cdk/aws-lambda:useCdkManagedLogGroup
        if log_group is not None:
            _nag.acknowledge(
                log_group,
                "Holds only the provider's own traces of Organizations set-up calls (root, account and service "
                "ids, no secrets or audit data); CloudWatch Logs encrypts it at rest with a service key",
                *_nag.in_compliance_packs("CloudWatchLogGroupEncrypted"),
            )
        _nag.acknowledge(
            provider.node.find_child("ServiceRole"),
            "The aws-cdk provider role uses the AWS managed AWSLambdaBasicExecutionRole, which only lets the "
            "function write its own CloudWatch Logs",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        )
        return log_group

    def _enable_service_control_policies(self) -> cr.AwsCustomResource:
        # CloudFormation has no resource or property that enables a policy type in a root.
        call = cr.AwsSdkCall(
            service="Organizations",
            action="enablePolicyType",
            parameters={"RootId": self.root_id, "PolicyType": "SERVICE_CONTROL_POLICY"},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.root_id}/SERVICE_CONTROL_POLICY"),
            # Already enabled (a re-deploy, or enabled by hand before) is success.
            ignore_error_codes_matching="PolicyTypeAlreadyEnabledException",
            # Organizations is a global service served from us-east-1.
            region="us-east-1",
        )
        return self._custom_resource(
            "EnableServiceControlPolicies",
            call,
            [
                iam.PolicyStatement(
                    actions=["organizations:EnablePolicyType"],
                    resources=[self._arn(f"root/{self.organization_id}/{self.root_id}")],
                    conditions={"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}},
                )
            ],
        )

    def _enable_trusted_access(self, service: str) -> cr.AwsCustomResource:
        # CloudFormation cannot enable trusted access; EnableAWSServiceAccess is idempotent
        # (enabling an enabled service succeeds), so no error code needs ignoring.
        call = cr.AwsSdkCall(
            service="Organizations",
            action="enableAWSServiceAccess",
            parameters={"ServicePrincipal": service},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.organization_id}/trusted-access/{service}"),
            region="us-east-1",
        )
        resource = self._custom_resource(
            f"TrustedAccess{_pascal(service.split('.')[0])}",
            call,
            [
                iam.PolicyStatement(
                    actions=["organizations:EnableAWSServiceAccess"],
                    # The action has no resource type: only '*' is possible; the condition narrows it.
                    resources=["*"],
                    conditions={"StringEquals": {"organizations:ServicePrincipal": service}},
                )
            ],
        )
        return resource

    def _register_delegated_administrator(self, service: DelegatedService, account_id: str) -> cr.AwsCustomResource:
        # CloudFormation has no resource for delegated administrators.
        account_arn = self._arn(f"account/{self.organization_id}/{account_id}")
        # CloudTrail documents two service principals for its delegated administrator; the
        # condition must name both (cloudtrail-delegated-administrator-permissions).
        principals = (
            [service.value, f"context.{service.value}"] if service is DelegatedService.CLOUDTRAIL else [service.value]
        )
        register = iam.PolicyStatement(
            actions=["organizations:RegisterDelegatedAdministrator"],
            resources=[account_arn],
            conditions={"StringEquals": {"organizations:ServicePrincipal": principals}},
        )
        physical_id = cr.PhysicalResourceId.of(f"{self.organization_id}/delegated-admin/{service.value}/{account_id}")
        if service is DelegatedService.CLOUDTRAIL:
            # CloudTrail wants its own API: it registers the account with Organizations and creates
            # the AWSServiceRoleForCloudTrail service-linked role the delegated admin uses.
            call = cr.AwsSdkCall(
                service="CloudTrail",
                action="registerOrganizationDelegatedAdmin",
                parameters={"MemberAccountId": account_id},
                physical_resource_id=physical_id,
                ignore_error_codes_matching="AccountRegisteredException",
            )
            # The service-linked roles of both CloudTrail service principals.
            service_roles = [
                cdk.Stack.of(self).format_arn(
                    service="iam", region="", resource="role", resource_name=f"aws-service-role/{principal}/*"
                )
                for principal in principals
            ]
            statements = [
                # RegisterOrganizationDelegatedAdmin has no resource type: only '*' is possible.
                iam.PolicyStatement(actions=["cloudtrail:RegisterOrganizationDelegatedAdmin"], resources=["*"]),
                register,
                iam.PolicyStatement(actions=["organizations:ListAWSServiceAccessForOrganization"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=service_roles,
                    conditions={"StringEquals": {"iam:AWSServiceName": principals}},
                ),
                iam.PolicyStatement(actions=["iam:GetRole"], resources=service_roles),
            ]
        else:
            call = cr.AwsSdkCall(
                service="Organizations",
                action="registerDelegatedAdministrator",
                parameters={"AccountId": account_id, "ServicePrincipal": service.value},
                physical_resource_id=physical_id,
                # Already registered (a re-deploy, or registered by hand) is success.
                ignore_error_codes_matching="AccountAlreadyRegisteredException",
                region="us-east-1",
            )
            statements = [register]
            service_roles = []
        resource = self._custom_resource(f"DelegatedAdmin{_pascal(service.name.lower())}", call, statements)
        if service_roles:
            _nag.acknowledge(
                resource.node.find_child("CustomResourcePolicy"),
                "CloudTrail names its service-linked roles itself; the wildcard stays inside the "
                "aws-service-role path of the CloudTrail service principals, and creating them is further "
                "limited by iam:AWSServiceName",
                *(f"AwsSolutions-IAM5[Resource::{_nag.rendered(self, arn)}]" for arn in service_roles),
            )
        return resource

    @staticmethod
    def _validate_existing(
        problems: Problems,
        organization_id: str | None,
        root_id: str | None,
        units: list[tuple[OrganizationalUnitSpec, str | None]],
    ) -> None:
        if organization_id is not None:
            problems.check(
                bool(_ORGANIZATION_ID.match(organization_id)),
                f"organization_id: {organization_id!r} is not an organization id like 'o-a1b2c3d4e5'",
            )
        if root_id is not None:
            problems.check(
                organization_id is not None,
                f"root_id: {root_id!r} needs organization_id (a created organization's root id comes from the resource)",
            )
            problems.check(bool(_ROOT_ID.match(root_id)), f"root_id: {root_id!r} is not a root id like 'r-ab12'")
        seen: dict[str, str] = {}
        for unit, _ in units:
            if unit.ou_id is None:
                continue
            where = f"organizational_units[{unit.name!r}].ou_id"
            problems.check(
                bool(_OU_ID.match(unit.ou_id)), f"{where}: {unit.ou_id!r} is not an OU id like 'ou-ab12-cd34ef56'"
            )
            problems.check(
                organization_id is not None,
                f"{where}: {unit.ou_id!r} references an existing OU, but the organization is created here; "
                "pass organization_id or drop ou_id",
            )
            problems.check(
                unit.ou_id not in seen, f"{where}: {unit.ou_id!r} is already the id of OU {seen.get(unit.ou_id)!r}"
            )
            seen.setdefault(unit.ou_id, unit.name)

    def _validate(
        self,
        units: list[tuple[OrganizationalUnitSpec, str | None]],
        accounts: Sequence[AccountSpec],
        policies: Sequence[ServiceControlPolicy],
        exempt_role_names: Sequence[str],
        delegated: Mapping[DelegatedService, str],
        partition: str,
        organization_id: str | None,
        root_id: str | None,
    ) -> None:
        problems = Problems("Organization")
        self._validate_existing(problems, organization_id, root_id, units)
        unit_names = Counter(unit.name for unit, _ in units)
        for name, count in unit_names.items():
            problems.check(
                count == 1, f"organizational_units: OU name {name!r} is used {count} times; names must be unique"
            )
            problems.check(
                bool(_OU_NAME.match(name)), f"organizational_units: {name!r} is not an OU name (1-128 characters)"
            )
        _unique_ids(problems, "organizational_units", [unit.name for unit, _ in units])

        account_names = Counter(a.name for a in accounts)
        for name, count in account_names.items():
            problems.check(count == 1, f"accounts: account name {name!r} is used {count} times; names must be unique")
        _unique_ids(problems, "accounts", [a.name for a in accounts if a.created])
        for account in accounts:
            where = f"accounts[{account.name!r}]"
            problems.check(
                bool(_ACCOUNT_NAME.match(account.name)), f"{where}.name: is not an account name (1-50 characters)"
            )
            if (account.account_id is None) == (account.email is None):
                problems.add(
                    f"{where}: give exactly one of account_id (reference an existing account) or email "
                    f"(create one), got account_id={account.account_id!r}, email={account.email!r}"
                )
            if account.account_id is not None:
                problems.check(
                    bool(_ACCOUNT_ID.match(account.account_id)),
                    f"{where}.account_id: {account.account_id!r} is not a 12-digit AWS account id",
                )
                problems.check(
                    account.parent_ou is None and account.role_name is None,
                    f"{where}: parent_ou and role_name apply only to accounts created here; a referenced account "
                    "stays where it is (move it with the console or `cdk import` it)",
                )
            if account.email is not None:
                problems.check(bool(_EMAIL.match(account.email)), f"{where}.email: {account.email!r} is not an email")
            if account.parent_ou is not None and account.parent_ou not in unit_names:
                problems.add(
                    f"{where}.parent_ou: {account.parent_ou!r} is not a declared OU; declared: {_list(unit_names)}"
                )

        policy_names = Counter(p.name for p in policies)
        for name, count in policy_names.items():
            problems.check(count == 1, f"service_control_policies: name {name!r} is used {count} times")
        _unique_ids(problems, "service_control_policies", [p.name for p in policies])
        attached: dict[str, list[str]] = {}
        for policy in policies:
            where = f"service_control_policies[{policy.name!r}]"
            problems.check(bool(_SCP_NAME.match(policy.name)), f"{where}.name: must be 1-128 characters")
            for problem in scp.policy_problems(
                policy.document, exempt_role_names=exempt_role_names, partition=partition
            ):
                problems.add(f"{where}: {problem}")
            for target in policy.targets:
                known = (
                    target.kind == "root"
                    or (target.kind == "ou" and target.name in unit_names)
                    or (target.kind == "account" and target.name in account_names)
                )
                if not known:
                    declared = _list(unit_names) if target.kind == "ou" else _list(account_names)
                    problems.add(f"{where}.targets: {target.label} is not declared; declared: {declared}")
                attached.setdefault(target.label, []).append(policy.name)
        for problem in scp.attachment_problems(attached):
            problems.add(f"service_control_policies: {problem}")

        for service, account_name in delegated.items():
            if not isinstance(service, DelegatedService):
                problems.add(
                    f"delegated_administrators: {service!r} is not a DelegatedService; allowed: "
                    f"{', '.join(s.name for s in DelegatedService)}"
                )
            if account_name not in account_names:
                problems.add(
                    f"delegated_administrators[{getattr(service, 'name', service)}]: account {account_name!r} is not "
                    f"declared in accounts; declared: {_list(account_names)}"
                )
        problems.raise_if_any()


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _unique_ids(problems: Problems, where: str, names: Sequence[str]) -> None:
    """Construct ids come from names; two names that differ only in punctuation would collide."""
    by_id: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        by_id.setdefault(_pascal(name), []).append(name)
    for ident, same in by_id.items():
        if len(same) > 1 or not ident:
            problems.add(f"{where}: names {same} need letters or digits that tell them apart (construct id {ident!r})")


def _list(names: Mapping[str, int] | Sequence[str]) -> str:
    return ", ".join(sorted(names)) or "none"
