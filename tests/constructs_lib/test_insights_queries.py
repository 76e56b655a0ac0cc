"""InsightsQueries: the saved queries, their log groups, folders, custom queries and errors."""

from __future__ import annotations

import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from constructs_lib.insights_queries import FLOW_LOG_QUERIES, TRAIL_QUERIES, InsightsQueries, SavedQuery
from tests.conftest import new_stack


def definitions(template: Template) -> dict[str, dict]:
    return {
        r["Properties"]["Name"]: r["Properties"] for r in template.find_resources("AWS::Logs::QueryDefinition").values()
    }


@pytest.fixture(scope="module")
def full() -> Template:
    stack = new_stack()
    trail = logs.LogGroup.from_log_group_name(stack, "Trail", "/aws/cloudtrail/org-trail")
    flows = [logs.LogGroup.from_log_group_name(stack, f"Flow{i}", f"/vpc/flow-logs/{i}") for i in (1, 2)]
    InsightsQueries(
        stack,
        "Queries",
        trail_log_group=trail,
        flow_log_groups=flows,
        custom_queries=[
            SavedQuery(name="Deletes", query_string="filter eventName like /^Delete/", log_groups=[trail]),
            SavedQuery(name="Anything", query_string="fields @message | limit 5"),
        ],
    )
    return Template.from_stack(stack)


def test_trail_queries_are_scoped_to_the_trail_log_group(full):
    found = definitions(full)
    for name in (
        "Top API callers",
        "Access denied by principal",
        "Console logins without MFA",
        "Root activity",
        "Security group changes",
    ):
        props = found[f"Baseline/CloudTrail/{name}"]
        assert props["LogGroupNames"] == ["/aws/cloudtrail/org-trail"]
        assert props["QueryString"] == TRAIL_QUERIES[name]


def test_trail_queries_say_what_their_names_promise():
    assert 'MFAUsed != "Yes"' in TRAIL_QUERIES["Console logins without MFA"]
    assert 'userIdentity.type = "Root"' in TRAIL_QUERIES["Root activity"]
    assert "AuthorizeSecurityGroupIngress" in TRAIL_QUERIES["Security group changes"]
    assert "AccessDenied" in TRAIL_QUERIES["Access denied by principal"]
    assert "by userIdentity.arn" in TRAIL_QUERIES["Top API callers"]


def test_flow_log_queries_are_scoped_to_every_flow_log_group(full):
    found = definitions(full)
    for name in ("Top talkers", "Rejected traffic by port"):
        props = found[f"Baseline/Flow logs/{name}"]
        assert props["LogGroupNames"] == ["/vpc/flow-logs/1", "/vpc/flow-logs/2"]
        assert props["QueryString"] == FLOW_LOG_QUERIES[name]
    assert 'action = "REJECT"' in FLOW_LOG_QUERIES["Rejected traffic by port"]


def test_custom_queries_are_saved_in_the_custom_folder(full):
    found = definitions(full)
    assert found["Baseline/Custom/Deletes"]["LogGroupNames"] == ["/aws/cloudtrail/org-trail"]
    assert "LogGroupNames" not in found["Baseline/Custom/Anything"]
    assert len(found) == len(TRAIL_QUERIES) + len(FLOW_LOG_QUERIES) + 2


def test_logical_ids_come_from_names():
    stack = new_stack()
    group = logs.LogGroup.from_log_group_name(stack, "Trail", "t")
    queries = InsightsQueries(stack, "Queries", trail_log_group=group, folder="Security")
    assert stack.resolve(queries.query_definitions["Security/CloudTrail/Root activity"].logical_id).startswith(
        "QueriesSecurityCloudTrailRootactivity"
    )


def test_only_what_was_given_is_saved():
    stack = new_stack()
    group = logs.LogGroup(stack, "Flow", retention=logs.RetentionDays.ONE_MONTH)
    InsightsQueries(stack, "Queries", flow_log_groups=[group], folder="Net")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::QueryDefinition", len(FLOW_LOG_QUERIES))
    template.has_resource_properties(
        "AWS::Logs::QueryDefinition",
        {"Name": "Net/Flow logs/Top talkers", "LogGroupNames": [{"Ref": Match.string_like_regexp("^Flow")}]},
    )


class TestErrors:
    def test_nothing_to_save(self):
        with pytest.raises(ValueError, match=r"nothing to save"):
            InsightsQueries(new_stack(), "Queries")

    def test_every_custom_query_problem_is_reported_together(self):
        with pytest.raises(ValueError, match=r"5 problems") as error:
            InsightsQueries(
                new_stack(),
                "Queries",
                folder="/bad",
                custom_queries=[
                    SavedQuery(name="", query_string="fields @message"),
                    SavedQuery(name="A", query_string="  "),
                    SavedQuery(name="A", query_string="x" * 10_001),
                ],
            )
        message = str(error.value)
        assert "folder '/bad'" in message
        assert "custom_queries[0].name ''" in message
        assert "custom_queries[1].query_string is empty" in message
        assert "custom_queries[2].query_string of 'A' has 10001 characters; at most 10000" in message
        assert "custom_queries[2].name 'A' is used twice" in message

    def test_duplicate_custom_names(self):
        with pytest.raises(ValueError, match=r"custom_queries\[1\].name 'A' is used twice"):
            InsightsQueries(
                new_stack(),
                "Queries",
                custom_queries=[SavedQuery(name="A", query_string="x"), SavedQuery(name="A", query_string="y")],
            )

    def test_not_a_saved_query(self):
        with pytest.raises(ValueError, match=r"custom_queries\[0\]: 'fields @x' is not a SavedQuery"):
            InsightsQueries(new_stack(), "Queries", custom_queries=["fields @x"])
