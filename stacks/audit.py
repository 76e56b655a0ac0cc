"""Audit account: the organization-wide AWS Config aggregator; the central bus, dashboard and OAM sink are
added by ``stacks.baseline`` (they need the trail's alarms)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib import ConfigAggregator
from stacks.config import BaselineConfig
from stacks.naming import Names


class AuditStack(cdk.Stack):
    """Organization-wide AWS Config aggregator over every governed region.

    The account must be the management account or a delegated administrator for AWS Config
    (``aws organizations register-delegated-administrator --service-principal config.amazonaws.com``).

    :param aggregator: whether to create the aggregator (not when Control Tower's is reused, or the
        stack holds only the central bus, dashboard and sink). Default: True.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: BaselineConfig, aggregator: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        self.aggregator: ConfigAggregator | None = None
        if not aggregator:
            return
        self.aggregator = ConfigAggregator(
            self,
            "ConfigAggregator",
            aggregator_name=f"{names.prefix}-organization",
            organization=True,
            regions=config.regions,
        )
        cdk.CfnOutput(self, "ConfigAggregatorName", value=self.aggregator.aggregator_name)
