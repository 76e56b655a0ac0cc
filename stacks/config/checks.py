"""Checks across fields and sections, run on a config the models accepted: ``_semantic_problems``
collects them all. Each problem names the path, the value and what is allowed."""

from __future__ import annotations

import re
from collections import Counter

from constructs_lib.detections import builtin_detections
from stacks.config._base import LOG_GROUP_NAME, MAX_OU_DEPTH, MAX_OUS, tag_problems
from stacks.config.alarms import AlarmSettings
from stacks.config.checks_aws_config import _aws_config_problems
from stacks.config.checks_control_tower import _control_tower_problems
from stacks.config.checks_scp import _scp_problems
from stacks.config.checks_telemetry import _on_premises_problems, _telemetry_problems
from stacks.config.model import BaselineConfig
from stacks.config.observability import QUERY_FOLDER
from stacks.config.organization import AccountRole, Organization, OrganizationalUnit


def _alarm_problems(alarms: AlarmSettings) -> list[str]:
    """Detection keys named in the ``alarms`` section must exist and be switched on."""
    problems: list[str] = []
    builtins = list(builtin_detections())
    custom = [detection.key for detection in alarms.custom]
    for index, key in enumerate(alarms.disabled):
        if key not in builtins:
            problems.append(
                f"alarms.disabled[{index}]: {key!r} is not a built-in detection; allowed: {', '.join(builtins)}"
            )
    for index, detection in enumerate(alarms.custom):
        if detection.key in builtins:
            problems.append(
                f"alarms.custom[{index}].name: {detection.name!r} has the key {detection.key!r} of a built-in "
                "detection; choose another name"
            )
        elif custom.index(detection.key) != index:
            problems.append(
                f"alarms.custom[{index}].name: {detection.name!r} is already used by "
                f"alarms.custom[{custom.index(detection.key)}]"
            )
    enabled = [key for key in builtins if key not in alarms.disabled] + custom
    for key, threshold in alarms.thresholds.items():
        if key not in enabled:
            state = "disabled" if key in alarms.disabled else "not a detection"
            problems.append(f"alarms.thresholds: {key!r} is {state}; allowed: {', '.join(enabled)}")
        if threshold < 1:
            problems.append(f"alarms.thresholds.{key}: {threshold} is not a whole number of events >= 1")
    if alarms.anomaly_detection.enabled:
        metrics = alarms.anomaly_detection.metrics
        duplicates = sorted({key for key in metrics if metrics.count(key) > 1})
        if duplicates:
            problems.append(f"alarms.anomaly_detection.metrics: {duplicates!r} listed more than once")
        for index, key in enumerate(metrics):
            if key not in enabled:
                state = "disabled" if key in alarms.disabled else "not a detection"
                problems.append(
                    f"alarms.anomaly_detection.metrics[{index}]: {key!r} is {state}; allowed: {', '.join(enabled)}"
                )
    if alarms.enabled and not enabled:
        problems.append("alarms.disabled: every detection is disabled; set alarms.enabled to false instead")
    return problems


def _semantic_problems(config: BaselineConfig) -> list[str]:
    """Checks across fields, each naming the path, the value and what is allowed."""
    problems: list[str] = []

    for field in ("id", "name", "email"):
        first_use: dict[str, int] = {}
        for index, account in enumerate(config.accounts):
            value = getattr(account, field)
            if value in first_use:
                problems.append(
                    f"accounts[{index}].{field}: {value!r} is already used by accounts[{first_use[value]}]; "
                    f"each account needs its own {field}"
                )
            else:
                first_use[value] = index

    if config.governed_regions and config.home_region not in config.governed_regions:
        problems.append(
            f"governed_regions: {config.governed_regions!r} does not include home_region {config.home_region!r}; add it"
        )
    duplicates = [r for r, n in Counter(config.governed_regions).items() if n > 1]
    if duplicates:
        problems.append(f"governed_regions: {duplicates!r} listed more than once")

    if config.organization is None:
        if len(config.accounts) != 1:
            problems.append(
                f"accounts: single-account mode (no 'organization' section) takes exactly one account, got {len(config.accounts)}; "
                "add an 'organization' section for several accounts"
            )
        for index, account in enumerate(config.accounts):
            if account.ou is not None:
                problems.append(
                    f"accounts[{index}].ou: {account.ou!r} needs an 'organization' section (single-account mode has no OUs)"
                )
    else:
        problems.extend(_organization_problems(config.organization))
        units = config.organization.all_units()
        names = Counter(u.name for u in units)
        problems.extend(_construct_id_clashes(list(names)))
        if len(units) > MAX_OUS:
            problems.append(
                f"organization.organizational_units: {len(units)} OUs; an AWS organization holds at most {MAX_OUS}"
            )
        for name, count in names.items():
            if count > 1:
                problems.append(
                    f"organization.organizational_units: OU name {name!r} is declared {count} times; OU names must be unique"
                )
        for index, account in enumerate(config.accounts):
            if account.ou is not None and account.ou not in names:
                declared = ", ".join(sorted(names)) or "none"
                problems.append(f"accounts[{index}].ou: {account.ou!r} is not a declared OU; declared: {declared}")
            if account.role is AccountRole.MANAGEMENT and account.ou is not None:
                problems.append(
                    f"accounts[{index}].ou: the management account always sits in the root (got {account.ou!r}); remove 'ou'"
                )
        for role, allowed in (
            (AccountRole.MANAGEMENT, (1,)),
            (AccountRole.LOG_ARCHIVE, (1,)),
            (AccountRole.AUDIT, (0, 1)),
        ):
            found = config.accounts_with_role(role)
            if len(found) not in allowed:
                want = "exactly one" if allowed == (1,) else "at most one"
                got = ", ".join(a.name for a in found) or "none"
                problems.append(
                    f"accounts: organization mode needs {want} account with role {role.value!r} (got {got})"
                )

    trail = config.cloudtrail
    if trail.data_events.all_s3_buckets and trail.data_events.s3_bucket_names:
        problems.append(
            "cloudtrail.data_events.s3_bucket_names: all_s3_buckets is true already; drop the list or the flag"
        )
    if trail.data_events.all_lambda_functions and trail.data_events.lambda_function_arns:
        problems.append(
            "cloudtrail.data_events.lambda_function_arns: all_lambda_functions is true already; drop the list or the flag"
        )
    if trail.management_events == "none" and (trail.insights.api_call_rate or trail.insights.api_error_rate):
        problems.append("cloudtrail.insights: needs management events, but cloudtrail.management_events is 'none'")
    if trail.management_events == "read-only" and (trail.insights.api_call_rate or trail.insights.api_error_rate):
        problems.append("cloudtrail.insights: analyses write events, but cloudtrail.management_events is 'read-only'")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$", trail.trail_name):
        problems.append(
            f"cloudtrail.trail_name: {trail.trail_name!r} is not a trail name (3-128 letters, digits, '.', '_', '-')"
        )
    if trail.management_events == "none":
        events = trail.data_events
        if not (
            events.s3_bucket_names
            or events.all_s3_buckets
            or events.lambda_function_arns
            or events.all_lambda_functions
        ):
            problems.append(
                "cloudtrail.management_events: 'none' with no cloudtrail.data_events: the trail would record nothing"
            )
        for flag in ("exclude_kms_events", "exclude_rds_data_events"):
            if getattr(trail, flag):
                problems.append(
                    f"cloudtrail.{flag}: true filters management events, but cloudtrail.management_events is 'none'"
                )
    problems.extend(tag_problems("tags", config.tags))
    problems.extend(_alarm_problems(config.alarms))
    problems.extend(_aws_config_problems(config.aws_config))
    problems.extend(_telemetry_problems(config))
    problems.extend(_on_premises_problems(config))
    problems.extend(_stackset_problems(config))
    problems.extend(_observability_problems(config))
    problems.extend(_health_problems(config))
    problems.extend(_control_tower_problems(config))
    problems.extend(_scp_problems(config, check_documents=not problems))
    return problems


def _organization_problems(organization: Organization) -> list[str]:
    """The organization exists unless ``create`` says otherwise; OU ids are unique; the tree fits AWS's depth."""
    problems: list[str] = []
    if organization.id is None and not organization.create:
        problems.append(
            "organization.id: required key is missing: the stacks reference your existing organization by its id "
            "(`aws organizations describe-organization --query Organization.Id`); for an account without an "
            "organization, set organization.create: true"
        )
    if organization.create and organization.root_id is not None:
        problems.append(
            f"organization.root_id: {organization.root_id!r} names the root of an existing organization, "
            "but organization.create is true; drop one of them"
        )
    ids: dict[str, str] = {}

    def walk(units: list[OrganizationalUnit], depth: int, path: str) -> None:
        for index, unit in enumerate(units):
            where = f"{path}[{index}]"
            if depth > MAX_OU_DEPTH:
                problems.append(
                    f"{where}: OU {unit.name!r} sits {depth} levels below the root; AWS Organizations allows "
                    f"{MAX_OU_DEPTH}"
                )
            if unit.id is not None:
                if organization.create:
                    problems.append(
                        f"{where}.id: {unit.id!r} references an existing OU, but organization.create is true "
                        "(a new organization has no OUs yet); drop the id"
                    )
                if unit.id in ids:
                    problems.append(f"{where}.id: {unit.id!r} is already the id of OU {ids[unit.id]!r}")
                ids.setdefault(unit.id, unit.name)
            walk(unit.children, depth + 1, f"{where}.children")

    walk(organization.organizational_units, 1, "organization.organizational_units")
    return problems


def _construct_id_clashes(ou_names: list[str]) -> list[str]:
    """OU names the ``Organization`` construct cannot tell apart: its construct ids keep only the
    letters and digits of a name, capitalising each word (``constructs_lib.organization``)."""
    by_id: dict[str, list[str]] = {}
    for name in ou_names:
        ident = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
        by_id.setdefault(ident, []).append(name)
    return [
        f"organization.organizational_units: OU names {same!r} differ only in punctuation, spaces or the case "
        "of a first letter; give names that letters or digits tell apart"
        for same in by_id.values()
        if len(same) > 1
    ]


def _observability_problems(config: BaselineConfig) -> list[str]:
    settings = config.observability
    problems: list[str] = []
    if config.single_account:
        if settings.oam_sink_arn is not None:
            problems.append(
                f"observability.oam_sink_arn: {settings.oam_sink_arn!r} is for cross-account observability, "
                "but single-account mode has one account; remove it"
            )
    elif not config.accounts_with_role(AccountRole.AUDIT):
        # Switched on explicitly without an account to hold them: say so rather than skip silently.
        for field in ("central_bus", "dashboard", "oam"):
            if field in settings.model_fields_set and getattr(settings, field):
                problems.append(
                    f"observability.{field}: true needs an account with role 'audit' to hold it; "
                    "add one or set it false"
                )
    names = [query.name for query in settings.custom_queries]
    slugs: dict[str, str] = {}
    group_slugs: dict[str, str] = {}
    for index, name in enumerate(names):
        where = f"observability.custom_queries[{index}]"
        if name in names[:index]:
            problems.append(f"{where}.name: {name!r} is used twice; names must be unique")
            continue
        # Saved as '<folder>/Custom/<name>'; the construct id is that path made of letters, digits and '-'.
        full_name = f"{QUERY_FOLDER}/Custom/{name}"
        if len(full_name) > 255:
            problems.append(
                f"{where}.name: {name!r} is {len(name)} characters; saved as {QUERY_FOLDER}/Custom/<name>, "
                f"it may have at most {255 - len(QUERY_FOLDER) - 8} (a query definition name is 1-255 characters)"
            )
        slug = re.sub(r"[^A-Za-z0-9]+", "-", full_name).strip("-")
        if slug in slugs:
            problems.append(
                f"{where}.name: {name!r} differs from {slugs[slug]!r} only in punctuation or spaces; "
                "give names that letters or digits tell apart"
            )
        slugs.setdefault(slug, name)
        for group_index, group in enumerate(settings.custom_queries[index].log_groups):
            if not LOG_GROUP_NAME.match(group):
                problems.append(
                    f"{where}.log_groups[{group_index}]: {group!r} is not a log group name "
                    "(1-512 letters, digits, '.', '-', '_', '/' or '#')"
                )
                continue
            group_slug = re.sub(r"[^A-Za-z0-9]+", "-", group).strip("-") or "root"
            if group_slugs.setdefault(group_slug, group) != group:
                problems.append(
                    f"{where}.log_groups[{group_index}]: {group!r} differs from {group_slugs[group_slug]!r} only in "
                    "punctuation; the baseline cannot tell them apart"
                )
    if settings.custom_queries and not settings.queries:
        problems.append("observability.custom_queries: given, but observability.queries is false; set it true")
    return problems


def _health_problems(config: BaselineConfig) -> list[str]:
    health = config.health
    if not (health.enabled and health.canary):
        return []
    events = config.cloudtrail.management_events
    if events in ("read-only", "none"):
        return [
            f"health.canary: the canary's ssm:PutParameter is a write management event, but "
            f"cloudtrail.management_events is {events!r}, so the trail would never record it; "
            "record 'all' or 'write-only' management events, or set health.canary false"
        ]
    return []


def _stackset_problems(config: BaselineConfig) -> list[str]:
    targets = config.stacksets.target_organizational_units
    if config.organization is None:
        return ["stacksets.target_organizational_units: single-account mode has no OUs; remove it"] if targets else []
    declared = {u.name for u in config.organization.all_units()}
    return [
        f"stacksets.target_organizational_units[{index}]: {name!r} is not a declared OU; "
        f"declared: {', '.join(sorted(declared)) or 'none'}"
        for index, name in enumerate(targets)
        if name not in declared
    ]
