"""What the stacks create, reuse or leave out when the baseline runs on an AWS Control Tower landing
zone (``control_tower`` in the config, docs/control-tower.md "With AWS Control Tower").

Control Tower owns the organization trail (with its CloudWatch Logs group in the management
account's home region), the log-archive buckets, an AWS Config recorder in every enrolled account
and governed region, and (by default) the aggregator in the audit account. The baseline reuses
them by name and never creates a second one: AWS refuses a second recorder per account and region,
and a second organization trail doubles the CloudTrail bill.
"""

from __future__ import annotations

from stacks.config import BaselineConfig


def adopted_recorder_name(config: BaselineConfig) -> str | None:
    """The AWS Config recorder the baseline's rules are evaluated by instead of one of its own:
    Control Tower's in Control Tower mode, ``aws_config.existing_recorder_name`` otherwise."""
    if config.on_control_tower:
        assert config.control_tower is not None
        return config.control_tower.config_recorder_name
    return config.aws_config.existing_recorder_name


def trail_log_group_name(config: BaselineConfig) -> str:
    """The CloudWatch Logs group of the trail the security alarms and health checks read, in the
    management account's home region: Control Tower's, or the one ``AuditTrail`` creates."""
    if config.on_control_tower:
        assert config.control_tower is not None
        return config.control_tower.trail_log_group
    return f"/aws/cloudtrail/{config.cloudtrail.trail_name}"


def records_management_account(config: BaselineConfig) -> bool:
    """Whether the management account's own baseline stacks get AWS Config (recorder and rules).

    Control Tower records no resources in the management account and there is no Control Tower
    Config bucket it could deliver to: in Control Tower mode the management account gets the
    forwarding, health and agent parts of its baseline stacks, but no recorder and no rules (rules
    without a recorder never evaluate)."""
    return config.aws_config.enabled and not config.on_control_tower


def wants_aggregator(config: BaselineConfig) -> bool:
    """The baseline's organization aggregator: not when Control Tower's aggregator is reused."""
    if config.single_account or not (config.aws_config.enabled and config.aws_config.aggregator):
        return False
    return not (config.on_control_tower and config.control_tower is not None and config.control_tower.config_aggregator)
