"""Every default a docstring documents ("Default: ...") is asserted here, on the synthesized template.

Covers ConfigRules, ManagedRuleSpec, ConfigAggregator, MonitoringDashboard, HostMetricNames,
Location, InsightsQueries, ObservabilitySink, ObservabilityLink and the Insights aspects. A
documented default without a check here (or a check for a prop that no longer documents one)
fails ``test_every_documented_default_has_a_check``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from constructs_lib import (
    CURATED_RULES,
    ConfigAggregator,
    ConfigRules,
    CustomManagedRule,
    DashboardSections,
    HostMetricNames,
    InsightsQueries,
    Location,
    LogGroupLocation,
    ManagedRuleSpec,
    MonitoringDashboard,
    ObservabilityLink,
    ObservabilitySink,
    SavedQuery,
)
from constructs_lib.config_rules import DERIVED_PREFIX_LENGTH
from constructs_lib.insights_aspects import (
    DEFAULT_LAMBDA_INSIGHTS_VERSION,
    CloudWatchObservabilityAddon,
    ContainerInsights,
    LambdaInsights,
)
from tests.conftest import new_stack

SINK_ARN = "arn:aws:oam:eu-west-1:333333333333:sink/a1b2c3d4-5678-90ab-cdef-1234567890ab"
DEFAULT_RESOURCE_TYPES = ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup", "AWS::XRay::Trace"]


def documented_defaults(owner: type, *, init: bool = True) -> set[str]:
    """The params whose docstring says ``Default:`` (of ``__init__``, or of the class for dataclasses)."""
    doc = (owner.__init__.__doc__ if init else owner.__doc__) or ""
    return {name for name, text in re.findall(r":param (\w+):(.*?)(?=:param|\Z)", doc, re.S) if "Default:" in text}


def resources(template: Template, resource_type: str) -> list[dict[str, Any]]:
    return list(template.find_resources(resource_type).values())


# --- ConfigRules and ManagedRuleSpec ---


@pytest.fixture(scope="module")
def rules() -> tuple[ConfigRules, Template]:
    stack = new_stack()
    construct = ConfigRules(stack, "Rules")
    return construct, Template.from_stack(stack)


@pytest.fixture(scope="module")
def bare_spec_rules() -> Template:
    """Outside the home region, a custom rule whose spec gives only identifier and description."""
    stack = new_stack()
    spec = ManagedRuleSpec(identifier="RDS_STORAGE_ENCRYPTED", description="An RDS instance is not encrypted.")
    ConfigRules(
        stack, "Rules", home_region=False, rule_name_prefix="", custom_rules=[CustomManagedRule(name="rds", spec=spec)]
    )
    return Template.from_stack(stack)


def _rule_names(template: Template) -> list[str]:
    return [r["Properties"]["ConfigRuleName"] for r in resources(template, "AWS::Config::ConfigRule")]


def _rules_recorder(rules: Any, _: Any) -> None:
    _construct, template = rules
    assert all("DependsOn" not in r for r in resources(template, "AWS::Config::ConfigRule"))


def _rules_home_region(rules: Any, _: Any) -> None:
    construct, _template = rules
    home_only = {name for name, spec in CURATED_RULES.items() if spec.home_region_only}
    assert home_only and home_only <= set(construct.rules)


def _rules_home_region_condition(rules: Any, _: Any) -> None:
    _, template = rules
    assert all("Condition" not in r for r in resources(template, "AWS::Config::ConfigRule"))
    assert "Conditions" not in template.to_json()


def _rules_prefix(rules: Any, _: Any) -> None:
    construct, template = rules
    derived = cdk.Names.unique_resource_name(construct, max_length=DERIVED_PREFIX_LENGTH, separator="-") + "-"
    assert construct.rule_name_prefix == derived
    assert sorted(_rule_names(template)) == sorted(derived + name for name in CURATED_RULES)


def _rules_disabled(rules: Any, _: Any) -> None:
    construct, _ = rules
    assert set(construct.rules) == set(CURATED_RULES)


def _rules_overrides(rules: Any, _: Any) -> None:
    construct, template = rules
    by_name = {
        r["Properties"]["ConfigRuleName"]: r["Properties"] for r in resources(template, "AWS::Config::ConfigRule")
    }
    for name, spec in CURATED_RULES.items():
        assert by_name[construct.rule_name_prefix + name].get("InputParameters", {}) == dict(spec.input_parameters)


def _rules_custom(rules: Any, _: Any) -> None:
    _, template = rules
    assert len(_rule_names(template)) == len(CURATED_RULES)


def _rules_packs(rules: Any, _: Any) -> None:
    construct, template = rules
    assert construct.conformance_packs == {} and resources(template, "AWS::Config::ConformancePack") == []


def _rules_topic(rules: Any, _: Any) -> None:
    construct, template = rules
    assert construct.alert_rule is None and resources(template, "AWS::Events::Rule") == []


def _rules_tag(rules: Any, _: Any) -> None:
    construct, template = rules
    assert construct.rule_tags is None and resources(template, "AWS::Lambda::Function") == []


def _spec_on_template(prop: str) -> Callable[[Any, Template], None]:
    def check(_: Any, template: Template) -> None:
        (rule,) = [
            r for r in resources(template, "AWS::Config::ConfigRule") if r["Properties"]["ConfigRuleName"] == "rds"
        ]
        assert prop not in rule["Properties"]

    return check


def _spec_home_region_only(_: Any, template: Template) -> None:
    # Not home-region-only: created although home_region=False.
    assert "rds" in _rule_names(template)


# --- ConfigAggregator ---


@pytest.fixture(scope="module")
def aggregators() -> tuple[ConfigAggregator, ConfigAggregator, Template]:
    stack = new_stack()
    accounts = ConfigAggregator(stack, "Accounts", account_ids=["111111111111"])
    organization = ConfigAggregator(stack, "Organization", organization=True)
    return accounts, organization, Template.from_stack(stack)


def _aggregator_props(aggregators: Any, logical_prefix: str) -> dict[str, Any]:
    _, _, template = aggregators
    found = template.find_resources("AWS::Config::ConfigurationAggregator")
    (props,) = [r["Properties"] for k, r in found.items() if k.startswith(logical_prefix)]
    return props


def _aggregator_name(aggregators: Any, _: Any) -> None:
    accounts, _, _ = aggregators
    assert accounts.aggregator_name == cdk.Names.unique_resource_name(accounts, max_length=256, separator="-")
    assert _aggregator_props(aggregators, "Accounts")["ConfigurationAggregatorName"] == accounts.aggregator_name


def _aggregator_organization(aggregators: Any, _: Any) -> None:
    accounts, _, _ = aggregators
    props = _aggregator_props(aggregators, "Accounts")
    assert "OrganizationAggregationSource" not in props and accounts.role is None


def _aggregator_accounts(aggregators: Any, _: Any) -> None:
    assert "AccountAggregationSources" not in _aggregator_props(aggregators, "Organization")


def _aggregator_regions(aggregators: Any, _: Any) -> None:
    assert _aggregator_props(aggregators, "Accounts")["AccountAggregationSources"][0]["AllAwsRegions"] is True
    assert _aggregator_props(aggregators, "Organization")["OrganizationAggregationSource"]["AllAwsRegions"] is True


# --- MonitoringDashboard, HostMetricNames, Location ---


def _body(template: Template) -> dict[str, Any]:
    ((dashboard),) = resources(template, "AWS::CloudWatch::Dashboard")
    rendered = dashboard["Properties"]["DashboardBody"]
    text = (
        "".join(p if isinstance(p, str) else "REF" for p in rendered["Fn::Join"][1])
        if isinstance(rendered, dict)
        else rendered
    )
    return json.loads(text)


@pytest.fixture(scope="module")
def dashboards() -> tuple[MonitoringDashboard, Template, MonitoringDashboard, Template]:
    bare_stack = new_stack()
    bare = MonitoringDashboard(bare_stack, "Dashboard")
    full_stack = new_stack()
    full = MonitoringDashboard(
        full_stack,
        "Dashboard",
        alarms=[
            cdk.aws_cloudwatch.Alarm.from_alarm_arn(
                full_stack, "Alarm", "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:root"
            )
        ],
        detection_metrics={"Root": cdk.aws_cloudwatch.Metric(namespace="Baseline", metric_name="Root")},
        trail_log_groups=[LogGroupLocation(log_group_name="/aws/cloudtrail/org")],
        config_events_log_group=LogGroupLocation(log_group_name="/aws/events/bus"),
        flow_log_groups=[LogGroupLocation(log_group_name="/vpc/flow-logs")],
        host_metric_locations=[Location()],
    )
    return bare, Template.from_stack(bare_stack), full, Template.from_stack(full_stack)


def _widgets(template: Template) -> list[dict[str, Any]]:
    return _body(template)["widgets"]


def _dashboard_name(dashboards: Any, _: Any) -> None:
    bare, template, _, _ = dashboards
    assert bare.dashboard_name == cdk.Names.unique_resource_name(bare, max_length=255, separator="-")
    assert resources(template, "AWS::CloudWatch::Dashboard")[0]["Properties"]["DashboardName"] == bare.dashboard_name


def _dashboard_sections(dashboards: Any, _: Any) -> None:
    _, _, full, _ = dashboards
    assert all(getattr(DashboardSections(), f.name) is True for f in dataclasses.fields(DashboardSections))
    assert len(full.sections) == len(dataclasses.fields(DashboardSections))


def _dashboard_empty(kind: str) -> Callable[[Any, Any], None]:
    def check(dashboards: Any, _: Any) -> None:
        bare, template, _, _ = dashboards
        assert bare.sections == [] and _widgets(template) == [], kind

    return check


def _dashboard_interval(dashboards: Any, _: Any) -> None:
    _, template, _, _ = dashboards
    assert _body(template)["start"] == "-P1D"


def _dashboard_band(dashboards: Any, _: Any) -> None:
    _, _, _, template = dashboards
    assert "ANOMALY_DETECTION_BAND(delivered, 2)" in json.dumps(_widgets(template))


def _host_names(field: str, metric: str) -> Callable[[Any, Any], None]:
    def check(dashboards: Any, _: Any) -> None:
        _, _, _, template = dashboards
        assert getattr(HostMetricNames(), field) == metric
        text = json.dumps(_widgets(template))
        assert (f'MetricName=\\"{metric}\\"' in text) if field != "namespace" else (f'Namespace=\\"{metric}\\"' in text)

    return check


def _dashboard_host_names(dashboards: Any, _: Any) -> None:
    _host_names("cpu", "cpu_usage_active")(dashboards, None)


def _location_region(dashboards: Any, _: Any) -> None:
    _, _, _, template = dashboards
    located = [w for w in _widgets(template) if w["type"] in ("metric", "log")]
    assert len(located) >= 5 and {w["properties"]["region"] for w in located} == {"eu-west-1"}


def _location_account(dashboards: Any, _: Any) -> None:
    _, _, _, template = dashboards
    assert all("accountId" not in w["properties"] for w in _widgets(template))


# --- InsightsQueries ---


@pytest.fixture(scope="module")
def queries() -> tuple[Template, Template]:
    custom_stack = new_stack()
    InsightsQueries(custom_stack, "Queries", custom_queries=[SavedQuery(name="Mine", query_string="stats count(*)")])
    trail_stack = new_stack()
    group = logs.LogGroup.from_log_group_name(trail_stack, "Trail", "/aws/cloudtrail/org")
    InsightsQueries(trail_stack, "Queries", trail_log_group=group)
    return Template.from_stack(custom_stack), Template.from_stack(trail_stack)


def _query_names(template: Template) -> list[str]:
    return [r["Properties"]["Name"] for r in resources(template, "AWS::Logs::QueryDefinition")]


def _queries_trail(queries: Any, _: Any) -> None:
    custom, _ = queries
    assert _query_names(custom) == ["Baseline/Custom/Mine"]


def _queries_flow(queries: Any, _: Any) -> None:
    _, trail = queries
    assert not [n for n in _query_names(trail) if "/Flow logs/" in n]


def _queries_custom(queries: Any, _: Any) -> None:
    _, trail = queries
    assert all(n.startswith("Baseline/CloudTrail/") for n in _query_names(trail)) and len(_query_names(trail)) == 5


def _queries_folder(queries: Any, _: Any) -> None:
    custom, trail = queries
    assert all(n.startswith("Baseline/") for n in _query_names(custom) + _query_names(trail))


def _saved_query_log_groups(queries: Any, _: Any) -> None:
    custom, _ = queries
    assert "LogGroupNames" not in resources(custom, "AWS::Logs::QueryDefinition")[0]["Properties"]


# --- ObservabilitySink and ObservabilityLink ---


@pytest.fixture(scope="module")
def oam() -> tuple[Template, Template, Template]:
    organization = new_stack()
    ObservabilitySink(organization, "Sink", organization_id="o-a1b2c3d4e5")
    accounts = new_stack(account="222222222222")
    ObservabilitySink(accounts, "Sink", account_ids=["111111111111"])
    link = new_stack()
    ObservabilityLink(link, "Link", sink_arn=SINK_ARN)
    return Template.from_stack(organization), Template.from_stack(accounts), Template.from_stack(link)


def _sink(template: Template) -> dict[str, Any]:
    return resources(template, "AWS::Oam::Sink")[0]["Properties"]


def _sink_name(oam: Any, _: Any) -> None:
    assert _sink(oam[0])["Name"] == "monitoring"


def _sink_organization(oam: Any, _: Any) -> None:
    assert [s["Sid"] for s in _sink(oam[1])["Policy"]["Statement"]] == ["AllowAccountsToLink"]


def _sink_accounts(oam: Any, _: Any) -> None:
    assert [s["Sid"] for s in _sink(oam[0])["Policy"]["Statement"]] == ["AllowOrganizationToLink"]


def _sink_resource_types(oam: Any, _: Any) -> None:
    (statement,) = _sink(oam[0])["Policy"]["Statement"]
    assert statement["Condition"]["ForAllValues:StringEquals"]["oam:ResourceTypes"] == DEFAULT_RESOURCE_TYPES


def _link_resource_types(oam: Any, _: Any) -> None:
    assert resources(oam[2], "AWS::Oam::Link")[0]["Properties"]["ResourceTypes"] == DEFAULT_RESOURCE_TYPES


def _link_label(oam: Any, _: Any) -> None:
    assert resources(oam[2], "AWS::Oam::Link")[0]["Properties"]["LabelTemplate"] == "$AccountName"


# --- Insights aspects ---


@pytest.fixture(scope="module")
def addon() -> Template:
    stack = new_stack()
    CloudWatchObservabilityAddon(stack, "Observability", cluster_name="prod")
    return Template.from_stack(stack)


def _container_level(_: Any, __: Any) -> None:
    stack = new_stack()
    cluster = ecs.CfnCluster(stack, "Cluster")
    cdk.Aspects.of(stack).add(ContainerInsights())
    Template.from_stack(stack).has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]}
    )
    assert cluster is not None


def _lambda_version(_: Any, __: Any) -> None:
    aspect = LambdaInsights()
    assert DEFAULT_LAMBDA_INSIGHTS_VERSION == "1.0.498.0"
    assert aspect.version == DEFAULT_LAMBDA_INSIGHTS_VERSION and aspect.fixed_arn is None


def _addon_props(template: Template) -> dict[str, Any]:
    return resources(template, "AWS::EKS::Addon")[0]["Properties"]


def _addon_version(_: Any, template: Template) -> None:
    assert "AddonVersion" not in _addon_props(template)


def _addon_role(_: Any, template: Template) -> None:
    ((role),) = resources(template, "AWS::IAM::Role")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "pods.eks.amazonaws.com"
    }
    arns = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "CloudWatchAgentServerPolicy" in arns and "AWSXrayWriteOnlyAccess" in arns


def _addon_pod_identity(_: Any, template: Template) -> None:
    (association,) = _addon_props(template)["PodIdentityAssociations"]
    assert association["ServiceAccount"] == "cloudwatch-agent"
    assert "ServiceAccountRoleArn" not in _addon_props(template)


def _addon_configuration(_: Any, template: Template) -> None:
    assert "ConfigurationValues" not in _addon_props(template)


#: (owner, documented on __init__ or on the class) -> {param: (fixture, check)}
CHECKS: dict[tuple[type, bool], dict[str, tuple[str | None, Callable[[Any, Any], None]]]] = {
    (ConfigRules, True): {
        "recorder": ("rules", _rules_recorder),
        "home_region": ("rules", _rules_home_region),
        "home_region_condition": ("rules", _rules_home_region_condition),
        "rule_name_prefix": ("rules", _rules_prefix),
        "disabled_rules": ("rules", _rules_disabled),
        "parameter_overrides": ("rules", _rules_overrides),
        "custom_rules": ("rules", _rules_custom),
        "conformance_packs": ("rules", _rules_packs),
        "notification_topic": ("rules", _rules_topic),
        "protection_tag": ("rules", _rules_tag),
    },
    (ManagedRuleSpec, False): {
        "input_parameters": ("bare_spec_rules", _spec_on_template("InputParameters")),
        "resource_types": ("bare_spec_rules", _spec_on_template("Scope")),
        "maximum_execution_frequency": ("bare_spec_rules", _spec_on_template("MaximumExecutionFrequency")),
        "home_region_only": ("bare_spec_rules", _spec_home_region_only),
    },
    (ConfigAggregator, True): {
        "aggregator_name": ("aggregators", _aggregator_name),
        "organization": ("aggregators", _aggregator_organization),
        "account_ids": ("aggregators", _aggregator_accounts),
        "regions": ("aggregators", _aggregator_regions),
    },
    (MonitoringDashboard, True): {
        "dashboard_name": ("dashboards", _dashboard_name),
        "sections": ("dashboards", _dashboard_sections),
        "alarms": ("dashboards", _dashboard_empty("alarms")),
        "detection_metrics": ("dashboards", _dashboard_empty("detection_metrics")),
        "trail_log_groups": ("dashboards", _dashboard_empty("trail_log_groups")),
        "config_events_log_group": ("dashboards", _dashboard_empty("config_events_log_group")),
        "flow_log_groups": ("dashboards", _dashboard_empty("flow_log_groups")),
        "host_metric_locations": ("dashboards", _dashboard_empty("host_metric_locations")),
        "host_metric_names": ("dashboards", _dashboard_host_names),
        "extra_widgets": ("dashboards", _dashboard_empty("extra_widgets")),
        "default_interval": ("dashboards", _dashboard_interval),
        "anomaly_band": ("dashboards", _dashboard_band),
    },
    (HostMetricNames, False): {
        "cpu": ("dashboards", _host_names("cpu", "cpu_usage_active")),
        "memory": ("dashboards", _host_names("memory", "mem_used_percent")),
        "disk": ("dashboards", _host_names("disk", "disk_used_percent")),
        "namespace": ("dashboards", _host_names("namespace", "CWAgent")),
    },
    (Location, False): {
        "region": ("dashboards", _location_region),
        "account_id": ("dashboards", _location_account),
    },
    (InsightsQueries, True): {
        "trail_log_group": ("queries", _queries_trail),
        "flow_log_groups": ("queries", _queries_flow),
        "custom_queries": ("queries", _queries_custom),
        "folder": ("queries", _queries_folder),
    },
    (SavedQuery, False): {"log_groups": ("queries", _saved_query_log_groups)},
    (ObservabilitySink, True): {
        "sink_name": ("oam", _sink_name),
        "organization_id": ("oam", _sink_organization),
        "account_ids": ("oam", _sink_accounts),
        "resource_types": ("oam", _sink_resource_types),
    },
    (ObservabilityLink, True): {
        "resource_types": ("oam", _link_resource_types),
        "label_template": ("oam", _link_label),
    },
    (ContainerInsights, True): {"level": (None, _container_level)},
    (LambdaInsights, True): {"version": (None, _lambda_version)},
    (CloudWatchObservabilityAddon, True): {
        "addon_version": ("addon", _addon_version),
        "role": ("addon", _addon_role),
        "use_pod_identity": ("addon", _addon_pod_identity),
        "configuration_values": ("addon", _addon_configuration),
    },
}

CASES = [
    pytest.param(fixture, check, id=f"{owner.__name__}.{param}")
    for (owner, _), params in CHECKS.items()
    for param, (fixture, check) in params.items()
]


@pytest.mark.parametrize(("owner", "init"), list(CHECKS), ids=[owner.__name__ for owner, _ in CHECKS])
def test_every_documented_default_has_a_check(owner: type, init: bool):
    assert documented_defaults(owner, init=init) == set(CHECKS[(owner, init)])


@pytest.mark.parametrize(("fixture", "check"), CASES)
def test_documented_default(fixture: str | None, check: Callable[[Any, Any], None], request: pytest.FixtureRequest):
    built = request.getfixturevalue(fixture) if fixture is not None else None
    template = built if isinstance(built, Template) else None
    check(built, template)
