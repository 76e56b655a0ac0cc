"""ConfigAggregator: one view of AWS Config data across accounts and regions."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib import _nag, _names
from constructs_lib._errors import Problems

ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
AGGREGATOR_NAME_PATTERN = re.compile(r"^[\w-]{1,256}$")


class ConfigAggregator(Construct):
    """AWS Config aggregator over the whole organization or over a list of accounts.

    Organization mode deploys in the management account or in a delegated administrator for
    AWS Config (register it once from the management account:
    ``aws organizations register-delegated-administrator --service-principal
    config.amazonaws.com --account-id <audit>``); it creates the role with the managed policy
    ``service-role/AWSConfigRoleForOrganizations``. Account mode aggregates the given accounts
    (other accounts must authorize this one; the own account needs nothing).

    Example::

        from constructs_lib import ConfigAggregator

        ConfigAggregator(stack, "Aggregator", organization=True, regions=["eu-west-1", "us-east-1"])
        ConfigAggregator(stack, "Local", account_ids=[stack.account], regions=["eu-west-1", "us-west-2"])
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aggregator_name: str | None = None,
        organization: bool = False,
        account_ids: Sequence[str] = (),
        regions: Sequence[str] | None = None,
    ) -> None:
        """
        :param aggregator_name: 1-256 letters, digits, '_' or '-' (unique per account and region).
            Default: derived from the construct path (``<stack>-<path>-<hash>``).
        :param organization: aggregate every account of the organization. Default: False.
        :param account_ids: aggregate these accounts (account mode). Default: none.
        :param regions: aggregate these regions. Default: all regions, including those AWS adds.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"ConfigAggregator({self.node.path})")
        problems.check_type("aggregator_name", aggregator_name, str, optional=True)
        problems.check_type("organization", organization, bool)
        problems.check_sequence("account_ids", account_ids, str)
        if regions is not None:
            problems.check_sequence("regions", regions, str)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        account_ids = list(account_ids)
        region_list = list(regions) if regions is not None else None
        if aggregator_name is None:
            aggregator_name = _names.unique(self, name_prefix=None, suffix="", max_length=256)
        problems.check(
            bool(AGGREGATOR_NAME_PATTERN.match(aggregator_name)),
            f"aggregator_name {aggregator_name!r} must be 1-256 letters, digits, '_' or '-'",
        )
        problems.check(
            organization != bool(account_ids),
            "give exactly one source: organization=True or account_ids "
            f"(got organization={organization}, account_ids={account_ids!r})",
        )
        for account in account_ids:
            problems.check(
                isinstance(account, str)
                and (bool(ACCOUNT_ID_PATTERN.match(account)) or cdk.Token.is_unresolved(account)),
                f"account_ids: {account!r} is not a 12-digit account id",
            )
        if region_list is not None:
            problems.check(bool(region_list), "regions is empty: give at least one region, or None for all regions")
            for region in region_list:
                problems.check(
                    isinstance(region, str) and bool(REGION_PATTERN.match(region)),
                    f"regions: {region!r} is not a region like 'eu-west-1'",
                )
        problems.raise_if_any()

        _names.claim(self, "Config aggregator name", aggregator_name)
        self.role: iam.Role | None = None
        organization_source = None
        account_sources = None
        if organization:
            self.role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("config.amazonaws.com").with_conditions(
                    {"StringEquals": {"AWS:SourceAccount": cdk.Stack.of(self).account}}
                ),
                description="Lets the AWS Config aggregator read the organization's accounts",
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSConfigRoleForOrganizations")
                ],
            )
            _nag.acknowledge(
                self.role,
                "AWS documents the managed policy service-role/AWSConfigRoleForOrganizations for an "
                "organization aggregator; it only reads the organization's account list.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRoleForOrganizations]",
            )
            organization_source = config.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=self.role.role_arn,
                all_aws_regions=True if region_list is None else None,
                aws_regions=region_list,
            )
        else:
            account_sources = [
                config.CfnConfigurationAggregator.AccountAggregationSourceProperty(
                    account_ids=account_ids,
                    all_aws_regions=True if region_list is None else None,
                    aws_regions=region_list,
                )
            ]
        self.aggregator = config.CfnConfigurationAggregator(
            self,
            "Resource",
            configuration_aggregator_name=aggregator_name,
            organization_aggregation_source=organization_source,
            account_aggregation_sources=account_sources,
        )
        self.aggregator_name = aggregator_name
