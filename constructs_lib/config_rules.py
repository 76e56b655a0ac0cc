"""ConfigRules: curated AWS managed rules, custom managed rules, conformance packs and alerts.

The curated rules check this very baseline and the basics around it (CloudTrail, alarms, flow
logs, log retention, S3, KMS, root user, SSH, EBS). Each is data, so it can be switched off or
re-parameterised, and each waits for the recorder so a first deploy into an empty account works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct, IDependable

from constructs_lib import _names
from constructs_lib._errors import Problems
from constructs_lib.config_recorder import ConfigRecorder
from constructs_lib.config_rule_tags import ConfigRuleTags
from constructs_lib.managed_rules import BUNDLED_PACKS_DIR as BUNDLED_PACKS_DIR
from constructs_lib.managed_rules import CURATED_RULES as CURATED_RULES
from constructs_lib.managed_rules import MAX_TEMPLATE_BODY_BYTES as MAX_TEMPLATE_BODY_BYTES
from constructs_lib.managed_rules import PACK_NAME_PATTERN as PACK_NAME_PATTERN
from constructs_lib.managed_rules import RULE_NAME_PATTERN as RULE_NAME_PATTERN
from constructs_lib.managed_rules import ManagedRuleSpec as ManagedRuleSpec

#: AWS Config's limit on a rule name, prefix included.
MAX_RULE_NAME_LENGTH = 64
#: Length of a rule-name prefix derived from the construct path (before its '-'): with the '-',
#: the longest curated name (46 characters) exactly fills AWS Config's 64.
DERIVED_PREFIX_LENGTH = 17

#: Periodic frequencies of managed rules, as ``config.MaximumExecutionFrequency``.
EXECUTION_FREQUENCIES: dict[str, config.MaximumExecutionFrequency] = {
    "One_Hour": config.MaximumExecutionFrequency.ONE_HOUR,
    "Three_Hours": config.MaximumExecutionFrequency.THREE_HOURS,
    "Six_Hours": config.MaximumExecutionFrequency.SIX_HOURS,
    "Twelve_Hours": config.MaximumExecutionFrequency.TWELVE_HOURS,
    "TwentyFour_Hours": config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS,
}


@dataclass(frozen=True, kw_only=True)
class CustomManagedRule:
    """A managed rule chosen by the user, in addition to the curated ones.

    :param name: rule name (after ``rule_name_prefix``), 1-64 letters, digits, '-' or '_'.
    :param spec: identifier, parameters and scope.
    """

    name: str
    spec: ManagedRuleSpec


class ConformancePackTemplate:
    """Where a conformance pack's template comes from: a bundled file, a file, a body or S3."""

    def __init__(self, *, body: str | None = None, s3_uri: str | None = None, source: str) -> None:
        self.body = body
        self.s3_uri = s3_uri
        self.source = source

    @classmethod
    def bundled(cls, name: str) -> ConformancePackTemplate:
        """A template shipped in ``constructs_lib/conformance_packs/<name>.yaml``."""
        available = sorted(p.stem for p in BUNDLED_PACKS_DIR.glob("*.yaml"))
        if name not in available:
            raise ValueError(
                f"ConformancePackTemplate.bundled: {name!r} is not a bundled pack; available: {', '.join(available)}"
            )
        return cls.from_file(BUNDLED_PACKS_DIR / f"{name}.yaml")

    @classmethod
    def from_file(cls, path: str | Path) -> ConformancePackTemplate:
        """A template file of your own (read now, so a missing file fails at synth)."""
        path = Path(path)
        try:
            body = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"ConformancePackTemplate.from_file: {path} cannot be read ({error.strerror})") from None
        return cls.from_body(body, source=str(path))

    @classmethod
    def from_body(cls, body: str, *, source: str = "template body") -> ConformancePackTemplate:
        size = len(body.encode("utf-8"))
        if size > MAX_TEMPLATE_BODY_BYTES:
            raise ValueError(
                f"ConformancePackTemplate: {source} is {size} bytes; AWS Config accepts at most "
                f"{MAX_TEMPLATE_BODY_BYTES} in a template body: upload it to S3 and use from_s3_uri"
            )
        if not body.strip():
            raise ValueError(f"ConformancePackTemplate: {source} is empty")
        return cls(body=body, source=source)

    @classmethod
    def from_s3_uri(cls, uri: str) -> ConformancePackTemplate:
        """A template in S3 (``s3://bucket/key``), for templates above 51,200 bytes."""
        if not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", uri):
            raise ValueError(f"ConformancePackTemplate.from_s3_uri: {uri!r} is not an s3://bucket/key URI")
        return cls(s3_uri=uri, source=uri)


@dataclass(frozen=True, kw_only=True)
class ConformancePack:
    """A conformance pack to deploy.

    :param name: pack name, a letter then letters, digits or '-'.
    :param template: where the template comes from.
    :param input_parameters: the template's parameters. Default: none.
    """

    name: str
    template: ConformancePackTemplate
    input_parameters: Mapping[str, str] = field(default_factory=dict)


#: EventBridge pattern of a Config rule result turning NON_COMPLIANT.
NON_COMPLIANT_PATTERN = events.EventPattern(
    source=["aws.config"],
    detail_type=["Config Rules Compliance Change"],
    detail={
        "messageType": ["ComplianceChangeNotification"],
        "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
    },
)


class ConfigRules(Construct):
    """Curated and custom AWS Config managed rules, conformance packs and NON_COMPLIANT alerts.

    Every rule and pack depends on the recorder (when it is created in this stack), so a first
    deploy into an account without AWS Config succeeds. Rules that check account-wide or global
    settings (``home_region_only``) are created only where ``home_region`` is True.

    Example::

        from constructs_lib import (
            ConfigRecorder,
            ConfigRules,
            ConformancePack,
            ConformancePackTemplate,
            CustomManagedRule,
            ManagedRuleSpec,
        )

        rules = ConfigRules(
            stack,
            "Rules",
            recorder=recorder,
            home_region=True,
            rule_name_prefix="acme-",
            disabled_rules=["restricted-ssh"],
            parameter_overrides={"cw-loggroup-retention-period-check": {"MinRetentionTime": "731"}},
            custom_rules=[
                CustomManagedRule(
                    name="rds-storage-encrypted",
                    spec=ManagedRuleSpec(
                        identifier="RDS_STORAGE_ENCRYPTED",
                        description="An RDS instance is not encrypted.",
                        resource_types=["AWS::RDS::DBInstance"],
                    ),
                )
            ],
            conformance_packs=[
                ConformancePack(name="logging", template=ConformancePackTemplate.bundled("logging-and-monitoring"))
            ],
            notification_topic=topic,
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        recorder: ConfigRecorder | None = None,
        home_region: bool = True,
        home_region_condition: cdk.CfnCondition | None = None,
        rule_name_prefix: str | None = None,
        disabled_rules: Sequence[str] = (),
        parameter_overrides: Mapping[str, Mapping[str, str]] | None = None,
        custom_rules: Sequence[CustomManagedRule] = (),
        conformance_packs: Sequence[ConformancePack] = (),
        notification_topic: sns.ITopic | None = None,
        protection_tag: tuple[str, str] | None = None,
    ) -> None:
        """
        :param recorder: the recorder the rules wait for. Default: none (the account already
            records; adopt it with ``ConfigRecorder(existing_recorder_name=...)`` to say so).
        :param home_region: this is the home region: create the ``home_region_only`` rules.
            Default: True.
        :param home_region_condition: for a region-agnostic template (a StackSet): create the
            ``home_region_only`` rules with this condition (``AWS::Region`` equals the home region)
            instead of deciding at synth; ``home_region`` is then ignored. Default: none.
        :param rule_name_prefix: put in front of every rule name, like ``acme-`` (up to 31
            letters, digits, '-' or '_'; ``""`` for the bare curated names). Every rule name must
            stay within 64 characters. Default: derived from the construct path
            (``<stack>-<path><hash>-``, at most 18 characters), so two ``ConfigRules`` in one
            account and region never collide.
        :param disabled_rules: names of ``CURATED_RULES`` not to create. Default: none.
        :param parameter_overrides: per curated rule name, parameters that replace or add to
            its defaults. Default: none.
        :param custom_rules: further managed rules. Default: none.
        :param conformance_packs: Default: none.
        :param notification_topic: receives an EventBridge event whenever a rule result turns
            NON_COMPLIANT (a KMS-encrypted topic's key must admit ``events.amazonaws.com``).
            Default: no alert.
        :param protection_tag: ``(key, value)`` put on every rule created here (``ConfigRuleTags``),
            so an SCP built with ``MonitoringResources(config_rule_tag=...)`` protects these rules
            and no others. Default: rules untagged.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"ConfigRules({self.node.path})")
        problems.check_type("recorder", recorder, ConfigRecorder, optional=True)
        problems.check_type("home_region", home_region, bool)
        problems.check_resource("home_region_condition", home_region_condition, "cdk.CfnCondition")
        problems.check_type("rule_name_prefix", rule_name_prefix, str, optional=True)
        problems.check_sequence("disabled_rules", disabled_rules, str)
        if problems.check_mapping("parameter_overrides", parameter_overrides) and parameter_overrides is not None:
            for name, parameters in parameter_overrides.items():
                problems.check_mapping(f"parameter_overrides[{name!r}]", parameters)
        if problems.check_sequence("custom_rules", custom_rules, CustomManagedRule):
            for index, rule in enumerate(custom_rules):
                problems.check_type(f"custom_rules[{index}].spec", rule.spec, ManagedRuleSpec)
        if problems.check_sequence("conformance_packs", conformance_packs, ConformancePack):
            for index, pack in enumerate(conformance_packs):
                problems.check_type(f"conformance_packs[{index}].template", pack.template, ConformancePackTemplate)
                problems.check_mapping(f"conformance_packs[{index}].input_parameters", pack.input_parameters)
        problems.check_resource("notification_topic", notification_topic, "sns.ITopic")
        if protection_tag is not None:
            problems.check(
                isinstance(protection_tag, tuple)
                and len(protection_tag) == 2
                and all(isinstance(part, str) and part for part in protection_tag),
                f"protection_tag: {protection_tag!r} is not a (key, value) tuple of two non-empty strings",
            )
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        parameter_overrides = dict(parameter_overrides or {})
        disabled_rules = list(disabled_rules)
        custom_rules = list(custom_rules)
        conformance_packs = list(conformance_packs)

        known = ", ".join(CURATED_RULES)
        for name in disabled_rules:
            problems.check(name in CURATED_RULES, f"disabled_rules: {name!r} is not a curated rule; known: {known}")
        for name, parameters in parameter_overrides.items():
            if name not in CURATED_RULES:
                problems.add(f"parameter_overrides: {name!r} is not a curated rule; known: {known}")
            elif name in disabled_rules:
                problems.add(f"parameter_overrides: {name!r} is in disabled_rules; drop one of them")
            for key, value in parameters.items():
                problems.check(
                    isinstance(value, str),
                    f"parameter_overrides[{name!r}][{key!r}]: {value!r} is not a string (Config takes parameters as strings)",
                )
        if rule_name_prefix is None:
            rule_name_prefix = _names.unique(self, name_prefix=None, suffix="", max_length=DERIVED_PREFIX_LENGTH) + "-"
        problems.check(
            rule_name_prefix == "" or bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$", rule_name_prefix)),
            f"rule_name_prefix {rule_name_prefix!r} must be up to 31 letters, digits, '-' or '_'",
        )
        seen: set[str] = set()
        for index, rule in enumerate(custom_rules):
            owner = f"custom_rules[{index}]"
            problems.check(
                isinstance(rule.name, str) and bool(RULE_NAME_PATTERN.match(rule.name)),
                f"{owner}.name: {rule.name!r} is not a rule name (1-64 letters, digits, '-' or '_')",
            )
            problems.check(
                rule.name not in CURATED_RULES,
                f"{owner}.name: {rule.name!r} is a curated rule; change its parameters with parameter_overrides instead",
            )
            problems.check(rule.name not in seen, f"{owner}.name: {rule.name!r} is used twice")
            seen.add(rule.name)
            for message in rule.spec.problems(f"{owner}.spec"):
                problems.add(message)
        too_long = [
            rule_name_prefix + name
            for name in [*CURATED_RULES, *(rule.name for rule in custom_rules if isinstance(rule.name, str))]
            if name not in disabled_rules and len(rule_name_prefix + name) > MAX_RULE_NAME_LENGTH
        ]
        problems.check(
            not too_long,
            f"rule_name_prefix {rule_name_prefix!r} makes rule names longer than AWS Config's "
            f"{MAX_RULE_NAME_LENGTH} characters: {', '.join(too_long)}; use a shorter prefix",
        )
        pack_names: set[str] = set()
        for index, pack in enumerate(conformance_packs):
            problems.check(
                isinstance(pack.name, str) and bool(PACK_NAME_PATTERN.match(pack.name)),
                f"conformance_packs[{index}].name: {pack.name!r} is not a pack name (a letter, then letters, digits or '-')",
            )
            problems.check(pack.name not in pack_names, f"conformance_packs[{index}].name: {pack.name!r} is used twice")
            pack_names.add(pack.name)
        problems.raise_if_any()

        #: What every rule name starts with (given or derived).
        self.rule_name_prefix: str = rule_name_prefix
        dependables: list[IDependable] = recorder.dependables if recorder is not None else []
        if home_region_condition is not None:
            home_region = True  # every rule is created; the condition gates the home-only ones
        self.rules: dict[str, config.ManagedRule] = {}
        chosen = [
            (name, spec)
            for name, spec in CURATED_RULES.items()
            if name not in disabled_rules and (home_region or not spec.home_region_only)
        ]
        for name, spec in chosen:
            parameters = {**spec.input_parameters, **parameter_overrides.get(name, {})}
            self.rules[name] = self._rule(name, rule_name_prefix + name, spec, parameters, dependables)
        for rule in custom_rules:
            if home_region or not rule.spec.home_region_only:
                self.rules[rule.name] = self._rule(
                    rule.name, rule_name_prefix + rule.name, rule.spec, dict(rule.spec.input_parameters), dependables
                )
        if home_region_condition is not None:
            specs = {**CURATED_RULES, **{rule.name: rule.spec for rule in custom_rules}}
            for name, managed_rule in self.rules.items():
                if specs[name].home_region_only:
                    cfn_rule = managed_rule.node.default_child
                    assert isinstance(cfn_rule, cdk.CfnResource)
                    cfn_rule.cfn_options.condition = home_region_condition

        self.conformance_packs: dict[str, config.CfnConformancePack] = {}
        for pack in conformance_packs:
            _names.claim(self, "Config conformance pack name", pack.name)
            resource = config.CfnConformancePack(
                self,
                f"Pack-{pack.name}",
                conformance_pack_name=pack.name,
                template_body=pack.template.body,
                template_s3_uri=pack.template.s3_uri,
                conformance_pack_input_parameters=[
                    config.CfnConformancePack.ConformancePackInputParameterProperty(
                        parameter_name=key, parameter_value=value
                    )
                    for key, value in pack.input_parameters.items()
                ]
                or None,
            )
            if dependables:
                resource.node.add_dependency(*dependables)
            self.conformance_packs[pack.name] = resource

        #: The custom resource tagging the rules, with ``protection_tag``.
        self.rule_tags: ConfigRuleTags | None = None
        if protection_tag is not None and self.rules:
            self.rule_tags = ConfigRuleTags(self, "RuleTags", rules=self.rules.values(), tag=protection_tag)

        self.alert_rule: events.Rule | None = None
        if notification_topic is not None:
            self.alert_rule = events.Rule(
                self,
                "NonCompliantAlert",
                description="AWS Config: a rule result turned NON_COMPLIANT",
                event_pattern=NON_COMPLIANT_PATTERN,
                targets=[targets.SnsTopic(notification_topic)],
            )

    def _rule(
        self,
        construct_id: str,
        rule_name: str,
        spec: ManagedRuleSpec,
        parameters: Mapping[str, str],
        dependables: Sequence[IDependable],
    ) -> config.ManagedRule:
        _names.claim(self, "Config rule name", rule_name)
        # The construct id is the unprefixed name: stable when the prefix changes.
        rule = config.ManagedRule(
            self,
            construct_id,
            identifier=spec.identifier,
            config_rule_name=rule_name,
            description=spec.description,
            input_parameters=dict(parameters) or None,
            maximum_execution_frequency=(
                EXECUTION_FREQUENCIES[spec.maximum_execution_frequency]
                if spec.maximum_execution_frequency is not None
                else None
            ),
            rule_scope=(
                config.RuleScope.from_resources([config.ResourceType.of(t) for t in spec.resource_types])
                if spec.resource_types
                else None
            ),
        )
        # Config rejects rules while no recorder exists (NoAvailableConfigurationRecorderException).
        # One call for all of them: two round trips to node per rule, not two per rule and dependable.
        if dependables:
            rule.node.add_dependency(*dependables)
        return rule

    @property
    def rule_names(self) -> list[str]:
        return [rule.config_rule_name for rule in self.rules.values()]


def curated_rule_names() -> list[str]:
    """Names of ``CURATED_RULES``, for config validation and documentation."""
    return list(CURATED_RULES)
