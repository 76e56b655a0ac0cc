"""Saved CloudWatch Logs Insights queries for the trail log group, flow-log groups and your own.

Query definitions appear in the Logs Insights console under "Saved queries", grouped in
folders by the ``/`` in their names, with their log groups preselected.

Example::

    from constructs_lib import InsightsQueries, SavedQuery

    InsightsQueries(
        stack,
        "Queries",
        trail_log_group=trail.log_group,
        flow_log_groups=[flow_logs_group],
        custom_queries=[
            SavedQuery(
                name="Deletes by principal",
                query_string="filter eventName like /^Delete/ | stats count(*) by userIdentity.arn",
                log_groups=[trail.log_group],
            )
        ],
    )
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib._errors import Problems
from constructs_lib.event_patterns import SECURITY_GROUP_CHANGE_EVENTS

_QUERY_NAME = re.compile(r"^[^\s/][^\n]{0,254}$")
_SLUG = re.compile(r"[^A-Za-z0-9]+")
MAX_QUERY_LENGTH = 10_000

_sg_events = ", ".join(f'"{name}"' for name in SECURITY_GROUP_CHANGE_EVENTS)

#: Queries over a CloudTrail log group, by display name.
TRAIL_QUERIES: dict[str, str] = {
    "Top API callers": (
        "stats count(*) as calls by userIdentity.arn, eventSource, eventName\n| sort calls desc\n| limit 50"
    ),
    "Access denied by principal": (
        "filter errorCode like /AccessDenied|UnauthorizedOperation|Unauthorized/\n"
        "| stats count(*) as denied by userIdentity.arn, eventSource, eventName, errorCode\n"
        "| sort denied desc\n| limit 50"
    ),
    "Console logins without MFA": (
        'filter eventName = "ConsoleLogin" and responseElements.ConsoleLogin = "Success"'
        ' and additionalEventData.MFAUsed != "Yes"\n'
        "| fields @timestamp, userIdentity.type, userIdentity.arn, sourceIPAddress, userAgent\n"
        "| sort @timestamp desc"
    ),
    "Root activity": (
        'filter userIdentity.type = "Root" and not ispresent(userIdentity.invokedBy)'
        ' and eventType != "AwsServiceEvent"\n'
        "| fields @timestamp, eventSource, eventName, awsRegion, sourceIPAddress, userAgent, errorCode\n"
        "| sort @timestamp desc"
    ),
    "Security group changes": (
        f'filter eventSource = "ec2.amazonaws.com" and eventName in [{_sg_events}]\n'
        "| fields @timestamp, userIdentity.arn, eventName, requestParameters.groupId, awsRegion, errorCode\n"
        "| sort @timestamp desc"
    ),
}

#: Queries over VPC flow-log groups (default log format), by display name.
FLOW_LOG_QUERIES: dict[str, str] = {
    "Top talkers": (
        "stats sum(bytes) as bytesTransferred, sum(packets) as packetsTransferred by srcAddr, dstAddr\n"
        "| sort bytesTransferred desc\n| limit 25"
    ),
    "Rejected traffic by port": (
        'filter action = "REJECT"\n| stats count(*) as rejected by dstPort, protocol\n| sort rejected desc\n| limit 25'
    ),
}


@dataclass(frozen=True, kw_only=True)
class SavedQuery:
    """A Logs Insights query to save.

    :param name: display name; ``/`` puts it in a folder (1-255 characters).
    :param query_string: the Logs Insights query (at most 10,000 characters).
    :param log_groups: preselected when the query is opened. Default: none (pick in the console).
    """

    name: str
    query_string: str
    log_groups: Sequence[logs.ILogGroup] = ()

    def problems(self, where: str) -> list[str]:
        types = Problems(where)
        if types.check_sequence(f"{where}.log_groups", self.log_groups):
            for index, group in enumerate(self.log_groups):
                types.check_resource(f"{where}.log_groups[{index}]", group, "logs.ILogGroup", optional=False)
        found = types.items
        if not isinstance(self.name, str) or not _QUERY_NAME.match(self.name):
            found.append(
                f"{where}.name {self.name!r} is not a query name: 1-255 characters on one line, "
                "not starting with a space or '/'"
            )
        if not isinstance(self.query_string, str) or not self.query_string.strip():
            found.append(f"{where}.query_string is empty (query {self.name!r}): give a Logs Insights query")
        elif len(self.query_string) > MAX_QUERY_LENGTH:
            found.append(
                f"{where}.query_string of {self.name!r} has {len(self.query_string)} characters; "
                f"at most {MAX_QUERY_LENGTH}"
            )
        return found


class InsightsQueries(Construct):
    """Saved Logs Insights queries (``AWS::Logs::QueryDefinition``), one per query.

    Trail queries: top API callers, access denied by principal, console logins without MFA,
    root activity, security-group changes. Flow-log queries: top talkers, rejected traffic by
    port. Plus any ``custom_queries``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        trail_log_group: logs.ILogGroup | None = None,
        flow_log_groups: Sequence[logs.ILogGroup] = (),
        custom_queries: Sequence[SavedQuery] = (),
        folder: str = "Baseline",
    ) -> None:
        """
        :param trail_log_group: CloudTrail's log group; no trail queries without it. Default: none.
        :param flow_log_groups: VPC flow-log groups; no flow-log queries without them. Default: none.
        :param custom_queries: saved as given, in ``folder``/Custom. Default: none.
        :param folder: folder of every query here (queries are named ``<folder>/<group>/<name>``).
            Default: ``Baseline``.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"InsightsQueries({self.node.path})")
        problems.check_resource("trail_log_group", trail_log_group, "logs.ILogGroup")
        if problems.check_sequence("flow_log_groups", flow_log_groups):
            for index, group in enumerate(flow_log_groups):
                problems.check_resource(f"flow_log_groups[{index}]", group, "logs.ILogGroup", optional=False)
        if not problems.check_sequence("custom_queries", custom_queries):
            custom_queries = ()
        if problems.check_type("folder", folder, str):
            problems.check(
                bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$", folder)),
                f"folder {folder!r} is not a folder name: 1-64 letters, digits, space, '_', '.' or '-'",
            )
        flow_log_groups = list(flow_log_groups) if isinstance(flow_log_groups, (list, tuple)) else []
        custom_queries = list(custom_queries)
        problems.check(
            bool(problems.items) or trail_log_group is not None or bool(flow_log_groups) or bool(custom_queries),
            "nothing to save: give trail_log_group, flow_log_groups or custom_queries",
        )
        names: set[str] = set()
        for index, query in enumerate(custom_queries):
            if not isinstance(query, SavedQuery):
                problems.add(f"custom_queries[{index}]: {query!r} is not a SavedQuery")
                continue
            for problem in query.problems(f"custom_queries[{index}]"):
                problems.add(problem)
            problems.check(query.name not in names, f"custom_queries[{index}].name {query.name!r} is used twice")
            names.add(query.name)
        problems.raise_if_any()

        self.query_definitions: dict[str, logs.CfnQueryDefinition] = {}
        if trail_log_group is not None:
            for name, query in TRAIL_QUERIES.items():
                self._add(f"{folder}/CloudTrail/{name}", query, [trail_log_group])
        if flow_log_groups:
            for name, query in FLOW_LOG_QUERIES.items():
                self._add(f"{folder}/Flow logs/{name}", query, flow_log_groups)
        for query in custom_queries:
            self._add(f"{folder}/Custom/{query.name}", query.query_string, list(query.log_groups))

    def _add(self, full_name: str, query: str, log_groups: Sequence[logs.ILogGroup]) -> None:
        # The construct id comes from the name, never from a position in a list.
        construct_id = _SLUG.sub("-", full_name).strip("-")
        self.query_definitions[full_name] = logs.CfnQueryDefinition(
            self,
            construct_id,
            name=full_name,
            query_string=query,
            log_group_names=[group.log_group_name for group in log_groups] or None,
        )
