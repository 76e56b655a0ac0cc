"""Cross-field checks of the ``telemetry`` section: flow log accounts, agent tags and schedule, on premises."""

from __future__ import annotations

import re

from stacks.config._base import TAG_KEY, TAG_KEY_RULE, TAG_VALUE, TAG_VALUE_RULE
from stacks.config.model import BaselineConfig
from stacks.config.organization import AccountRole


def _telemetry_problems(config: BaselineConfig) -> list[str]:
    problems: list[str] = []
    telemetry = config.telemetry
    names = [a.name for a in config.accounts]
    for account in telemetry.flow_logs.vpc_ids:
        if account not in names:
            problems.append(
                f"telemetry.flow_logs.vpc_ids: {account!r} is not an account name; declared: {', '.join(names)}"
            )
    if (
        not config.single_account
        and any(telemetry.flow_logs.vpc_ids.values())
        and telemetry.flow_logs.destination != "cloudwatch-logs"
    ):
        problems.append(
            f"telemetry.flow_logs.destination: {telemetry.flow_logs.destination!r} needs a bucket in each account; "
            "organization mode delivers flow logs of listed VPCs to 'cloudwatch-logs' only"
        )
    agent = telemetry.cloudwatch_agent
    if not TAG_KEY.match(agent.tag_key) or agent.tag_key.lower().startswith("aws:"):
        problems.append(f"telemetry.cloudwatch_agent.tag_key: {agent.tag_key!r} is not a tag key: {TAG_KEY_RULE}")
    if not agent.tag_values:
        problems.append("telemetry.cloudwatch_agent.tag_values: [] needs one or more tag values")
    for index, value in enumerate(agent.tag_values):
        if not TAG_VALUE.match(value):
            problems.append(
                f"telemetry.cloudwatch_agent.tag_values[{index}]: {value!r} is not a tag value: {TAG_VALUE_RULE}"
            )
    schedule = re.match(r"^(rate\((\d+) (minutes?|hours?|days?)\)|cron\(.+\))$", agent.schedule)
    if schedule is None or ((schedule.group(3) or "").startswith("minute") and int(schedule.group(2)) < 30):
        problems.append(
            f"telemetry.cloudwatch_agent.schedule: {agent.schedule!r} must be rate(N minutes|hours|days) "
            "of at least 30 minutes, or cron(...)"
        )
    if telemetry.example_workload and not (config.single_account or config.accounts_with_role(AccountRole.WORKLOAD)):
        problems.append("telemetry.example_workload: needs an account with role 'workload' to deploy into")
    return problems


def _on_premises_problems(config: BaselineConfig) -> list[str]:
    settings = config.telemetry.on_premises
    where = "telemetry.on_premises"
    problems: list[str] = []
    names = [a.name for a in config.accounts]
    if settings.account is not None and settings.account not in names:
        problems.append(f"{where}.account: {settings.account!r} is not an account name; declared: {', '.join(names)}")
    if settings.enabled and not config.single_account and settings.account is None:
        problems.append(f"{where}.account: organization mode needs the name of the account the servers register with")
    if not settings.platforms or len(set(settings.platforms)) != len(settings.platforms):
        problems.append(f"{where}.platforms: {settings.platforms!r} must list linux and/or windows, each once")
    if not re.match(r"^[\w.:/=+\-@ ]{1,128}$", settings.tag_key) or settings.tag_key.startswith("aws:"):
        problems.append(f"{where}.tag_key: {settings.tag_key!r} is not a tag key (1-128 characters, not 'aws:...')")
    if settings.tag_key == config.telemetry.cloudwatch_agent.tag_key and any(
        v.startswith("on-premises-") for v in config.telemetry.cloudwatch_agent.tag_values
    ):
        problems.append(
            f"telemetry.cloudwatch_agent.tag_values: {config.telemetry.cloudwatch_agent.tag_values!r} overlap the "
            f"on-premises tag values (on-premises-<platform>); EC2 associations would target hybrid nodes"
        )
    if not re.match(r"^[\w\s.:/=+\-@]{0,256}$", settings.default_instance_name):
        problems.append(
            f"{where}.default_instance_name: {settings.default_instance_name!r} must be up to 256 letters, digits, "
            "spaces and _.:/=+-@"
        )
    if not 0 < len(settings.renewal) <= 64:
        problems.append(f"{where}.renewal: {settings.renewal!r} must be 1-64 characters")
    return problems
