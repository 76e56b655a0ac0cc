"""VpcFlowLogs: VPC, subnet or network-interface flow logs to CloudWatch Logs and/or S3.

Flow logs do not record everything: traffic to the Amazon DNS server, Windows license
activation, instance metadata (169.254.169.254), Amazon Time Sync (169.254.169.123), DHCP,
mirrored traffic, the VPC router's reserved IP and endpoint-ENI to Network Load Balancer traffic
are never logged (docs/telemetry.md "What flow logs do not capture").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from constructs_lib import _brought, _log_groups, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import MetricOptions, Unpack, logs_metric

FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
LOG_DELIVERY_SERVICE = policies.LOG_DELIVERY_SERVICE


class TrafficType(enum.Enum):
    """Which traffic a flow log records."""

    ALL = "ALL"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class AggregationInterval(enum.Enum):
    """Maximum interval in seconds over which a flow is aggregated into one record."""

    ONE_MINUTE = 60
    TEN_MINUTES = 600


class FlowLogField(enum.Enum):
    """Fields of flow log format versions 2 to 5, in the order AWS documents them."""

    # version 2 (the default format is exactly these, in this order)
    VERSION = "version"
    ACCOUNT_ID = "account-id"
    INTERFACE_ID = "interface-id"
    SRCADDR = "srcaddr"
    DSTADDR = "dstaddr"
    SRCPORT = "srcport"
    DSTPORT = "dstport"
    PROTOCOL = "protocol"
    PACKETS = "packets"
    BYTES = "bytes"
    START = "start"
    END = "end"
    ACTION = "action"
    LOG_STATUS = "log-status"
    # version 3
    VPC_ID = "vpc-id"
    SUBNET_ID = "subnet-id"
    INSTANCE_ID = "instance-id"
    TCP_FLAGS = "tcp-flags"
    TYPE = "type"
    PKT_SRCADDR = "pkt-srcaddr"
    PKT_DSTADDR = "pkt-dstaddr"
    # version 4
    REGION = "region"
    AZ_ID = "az-id"
    SUBLOCATION_TYPE = "sublocation-type"
    SUBLOCATION_ID = "sublocation-id"
    # version 5
    PKT_SRC_AWS_SERVICE = "pkt-src-aws-service"
    PKT_DST_AWS_SERVICE = "pkt-dst-aws-service"
    FLOW_DIRECTION = "flow-direction"
    TRAFFIC_PATH = "traffic-path"

    @property
    def format_version(self) -> int:
        """The flow log format version that introduced this field."""
        return _FIELD_VERSIONS[self]


_FIELD_VERSIONS: dict[FlowLogField, int] = {
    **{f: 2 for f in list(FlowLogField)[:14]},
    **{f: 3 for f in list(FlowLogField)[14:21]},
    **{f: 4 for f in list(FlowLogField)[21:25]},
    **{f: 5 for f in list(FlowLogField)[25:]},
}

#: Version 2 fields in the default order: the format AWS uses when none is given.
DEFAULT_FIELDS: tuple[FlowLogField, ...] = tuple(f for f in FlowLogField if f.format_version == 2)
#: Every field of versions 2 to 5: the richest record for investigations.
ALL_FIELDS_V5: tuple[FlowLogField, ...] = tuple(FlowLogField)


def format_string(fields: Sequence[FlowLogField]) -> str:
    """The ``LogFormat`` string of ``fields``: ``${field} ${field} ...``."""
    return " ".join(f"${{{field.value}}}" for field in fields)


class FlowLogResourceType(enum.Enum):
    VPC = "VPC"
    SUBNET = "Subnet"
    NETWORK_INTERFACE = "NetworkInterface"


_ID_PATTERNS = {
    FlowLogResourceType.VPC: re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$"),
    FlowLogResourceType.SUBNET: re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$"),
    FlowLogResourceType.NETWORK_INTERFACE: re.compile(r"^eni-[0-9a-f]{8}([0-9a-f]{9})?$"),
}


class FlowLogResource:
    """What a flow log watches: a VPC, a subnet or a network interface, as a construct or by id.

    Use the factory methods: ``FlowLogResource.vpc(my_vpc)``, ``FlowLogResource.vpc("vpc-0abc...")``,
    ``FlowLogResource.subnet(...)``, ``FlowLogResource.network_interface(...)``.
    """

    def __init__(self, resource_type: FlowLogResourceType, resource_id: str) -> None:
        self.resource_type = resource_type
        self.resource_id = resource_id

    @staticmethod
    def vpc(vpc: ec2.IVpc | ec2.CfnVPC | str) -> FlowLogResource:
        """A VPC: an ``ec2.Vpc`` / ``ec2.IVpc``, an ``ec2.CfnVPC`` or an existing ``vpc-...`` id."""
        if isinstance(vpc, ec2.CfnVPC):
            return FlowLogResource(FlowLogResourceType.VPC, vpc.ref)
        if isinstance(vpc, str):
            return FlowLogResource(FlowLogResourceType.VPC, vpc)
        return FlowLogResource(FlowLogResourceType.VPC, vpc.vpc_id)

    @staticmethod
    def subnet(subnet: ec2.ISubnet | ec2.CfnSubnet | str) -> FlowLogResource:
        """A subnet: an ``ec2.ISubnet``, an ``ec2.CfnSubnet`` or an existing ``subnet-...`` id."""
        if isinstance(subnet, ec2.CfnSubnet):
            return FlowLogResource(FlowLogResourceType.SUBNET, subnet.ref)
        if isinstance(subnet, str):
            return FlowLogResource(FlowLogResourceType.SUBNET, subnet)
        return FlowLogResource(FlowLogResourceType.SUBNET, subnet.subnet_id)

    @staticmethod
    def network_interface(interface: ec2.CfnNetworkInterface | str) -> FlowLogResource:
        """A network interface: an ``ec2.CfnNetworkInterface`` or an existing ``eni-...`` id."""
        if isinstance(interface, ec2.CfnNetworkInterface):
            return FlowLogResource(FlowLogResourceType.NETWORK_INTERFACE, interface.ref)
        return FlowLogResource(FlowLogResourceType.NETWORK_INTERFACE, interface)

    def problems(self) -> list[str]:
        if not isinstance(self.resource_id, str) or not self.resource_id:
            return [f"resource id must be a non-empty string (got {self.resource_id!r})"]
        if cdk.Token.is_unresolved(self.resource_id):
            return []
        pattern = _ID_PATTERNS[self.resource_type]
        if not pattern.match(self.resource_id):
            prefix = pattern.pattern[1:].split("-")[0]
            return [
                f"resource {self.resource_id!r} is not a {self.resource_type.value} id: expected "
                f"{prefix}- followed by 8 or 17 hexadecimal digits"
            ]
        return []


class DestinationKind(enum.Enum):
    CLOUDWATCH_LOGS = "cloud-watch-logs"
    S3 = "s3"


@dataclass(frozen=True, kw_only=True)
class FlowLogDestination:
    """Where flow log records go. Build with ``cloudwatch_logs(...)`` or ``s3(bucket, ...)``."""

    kind: DestinationKind
    log_group: logs.ILogGroup | None = None
    log_group_name: str | None = None
    retention: logs.RetentionDays | None = None
    key: kms.IKey | None = None
    role: iam.IRole | None = None
    bucket: s3.IBucket | None = None
    key_prefix: str | None = None
    parquet: bool = True
    hive_compatible_partitions: bool = True
    per_hour_partition: bool = True

    @staticmethod
    def cloudwatch_logs(
        *,
        log_group: logs.ILogGroup | None = None,
        log_group_name: str | None = None,
        retention: logs.RetentionDays | None = None,
        key: kms.IKey | None = None,
        role: iam.IRole | None = None,
    ) -> FlowLogDestination:
        """CloudWatch Logs, written through a role that only the VPC Flow Logs service of this account can assume.

        :param log_group: an existing group. Default: a new group, KMS-encrypted, with ``retention``.
        :param log_group_name: name of the new group. Default: ``/aws/vpc-flow-logs/<resource id>``.
        :param retention: of the new group. Default: one year.
        :param key: encrypts the new group (a key created in the same stack gets the CloudWatch Logs
            statement added). Default: a new key with rotation.
        :param role: role the service assumes. Default: a new role trusted by
            ``vpc-flow-logs.amazonaws.com`` with ``aws:SourceAccount`` and ``aws:SourceArn`` conditions.
        """
        return FlowLogDestination(
            kind=DestinationKind.CLOUDWATCH_LOGS,
            log_group=log_group,
            log_group_name=log_group_name,
            retention=retention,
            key=key,
            role=role,
        )

    @staticmethod
    def s3(
        bucket: s3.IBucket,
        *,
        key_prefix: str | None = None,
        parquet: bool = True,
        hive_compatible_partitions: bool = True,
        per_hour_partition: bool = True,
    ) -> FlowLogDestination:
        """An S3 bucket (say the central log-archive bucket).

        A bucket created in the same stack gets the bucket-policy statements
        ``delivery.logs.amazonaws.com`` needs (see ``flow_logs_bucket_statements``); an imported
        bucket's policy is not changed, so give it those statements where it is defined.

        :param key_prefix: S3 prefix in front of ``AWSLogs/``. Default: none.
        :param parquet: Apache Parquet instead of plain text (smaller, faster to query). Default: True.
        :param hive_compatible_partitions: ``aws-account-id=.../year=...`` prefixes. Default: True.
        :param per_hour_partition: one partition per hour instead of per day. Default: True.
        """
        return FlowLogDestination(
            kind=DestinationKind.S3,
            bucket=bucket,
            key_prefix=key_prefix,
            parquet=parquet,
            hive_compatible_partitions=hive_compatible_partitions,
            per_hour_partition=per_hour_partition,
        )

    def problems(self) -> list[str]:
        checks = Problems("")
        checks.check_resource("log_group", self.log_group, "logs.ILogGroup")
        checks.check_resource("key", self.key, "kms.IKey")
        checks.check_resource("role", self.role, "iam.IRole")
        checks.check_resource("bucket", self.bucket, "s3.IBucket")
        checks.check_type("log_group_name", self.log_group_name, str, optional=True)
        checks.check_type("key_prefix", self.key_prefix, str, optional=True)
        checks.check_enum("retention", self.retention, logs.RetentionDays, optional=True)
        for name in ("parquet", "hive_compatible_partitions", "per_hour_partition"):
            checks.check_type(name, getattr(self, name), bool)
        found: list[str] = list(checks.items)
        if found:
            return found
        if self.kind is DestinationKind.S3 and self.bucket is None:
            found.append("an S3 destination needs a bucket: use FlowLogDestination.s3(bucket)")
        if self.kind is DestinationKind.CLOUDWATCH_LOGS and self.bucket is not None:
            found.append("a CloudWatch Logs destination takes no bucket: use FlowLogDestination.s3(bucket) for S3")
        if self.kind is DestinationKind.CLOUDWATCH_LOGS and self.log_group is not None:
            for name in ("log_group_name", "retention", "key"):
                if getattr(self, name) is not None:
                    found.append(
                        f"cloudwatch_logs({name}=...) applies only to a new log group, but log_group was given"
                    )
        if self.key_prefix is not None and (
            self.key_prefix.startswith("/") or self.key_prefix.endswith("/") or "AWSLogs" in self.key_prefix
        ):
            found.append(
                f"s3(key_prefix={self.key_prefix!r}): give the prefix without leading or trailing '/' and "
                "without 'AWSLogs' (the service appends AWSLogs/<account>/ itself)"
            )
        return found


#: Kept importable from here; ``constructs_lib.policies`` builds every statement the library documents.
flow_logs_bucket_statements = policies.flow_logs_bucket_statements


class VpcFlowLogs(Construct):
    """Flow logs of one VPC, subnet or network interface, to CloudWatch Logs and/or S3.

    Example::

        from constructs_lib import FlowLogDestination, FlowLogField, FlowLogResource, TrafficType, VpcFlowLogs

        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc(vpc),  # or FlowLogResource.vpc("vpc-0123456789abcdef0")
            destinations=[FlowLogDestination.cloudwatch_logs(), FlowLogDestination.s3(archive_bucket)],
            traffic_type=TrafficType.ALL,
            log_format=[FlowLogField.SRCADDR, FlowLogField.DSTADDR, FlowLogField.ACTION],
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource: FlowLogResource,
        destinations: Sequence[FlowLogDestination] | None = None,
        traffic_type: TrafficType | None = None,
        log_format: Sequence[FlowLogField] | None = None,
        max_aggregation_interval: AggregationInterval | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param resource: the VPC, subnet or network interface (``FlowLogResource.vpc(...)`` ...).
        :param destinations: one CloudWatch Logs and/or S3 destinations. Default:
            ``[FlowLogDestination.cloudwatch_logs()]``.
        :param traffic_type: Default: ALL.
        :param log_format: fields of a custom format, in order. Default: the AWS default
            format (the version 2 fields).
        :param max_aggregation_interval: Default: TEN_MINUTES (Nitro instances always aggregate
            over at most one minute).
        :param removal_policy: of the key and log group created here. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        if destinations is None:
            destinations = [FlowLogDestination.cloudwatch_logs()]
        elif isinstance(destinations, (list, tuple)):
            destinations = list(destinations)
        traffic_type = traffic_type if traffic_type is not None else TrafficType.ALL
        interval = max_aggregation_interval if max_aggregation_interval is not None else AggregationInterval.TEN_MINUTES
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN

        problems = Problems(f"VpcFlowLogs({self.node.path})")
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        if not problems.check_sequence("destinations", destinations):
            problems.raise_if_any()
        if log_format is not None and not problems.check_sequence("log_format", log_format):
            problems.raise_if_any()
        if not isinstance(resource, FlowLogResource):
            problems.add(f"resource must be FlowLogResource.vpc/subnet/network_interface(...) (got {resource!r})")
        else:
            for problem in resource.problems():
                problems.add(f"resource: {problem}")
        problems.check(
            bool(destinations),
            "destinations is empty: give FlowLogDestination.cloudwatch_logs() and/or FlowLogDestination.s3(bucket)",
        )
        for index, destination in enumerate(destinations):
            if not isinstance(destination, FlowLogDestination):
                problems.add(f"destinations[{index}] must be a FlowLogDestination (got {destination!r})")
                continue
            for problem in destination.problems():
                problems.add(f"destinations[{index}]: {problem}")
        kinds = [d.kind for d in destinations if isinstance(d, FlowLogDestination)]
        problems.check(
            kinds.count(DestinationKind.CLOUDWATCH_LOGS) <= 1,
            f"destinations lists CloudWatch Logs {kinds.count(DestinationKind.CLOUDWATCH_LOGS)} times; "
            "use one VpcFlowLogs per extra log group",
        )
        problems.check(
            kinds.count(DestinationKind.S3) <= 1,
            f"destinations lists S3 {kinds.count(DestinationKind.S3)} times; use one VpcFlowLogs per extra bucket",
        )
        problems.check(
            isinstance(traffic_type, TrafficType),
            f"traffic_type must be TrafficType.ALL, ACCEPT or REJECT (got {traffic_type!r})",
        )
        problems.check(
            isinstance(interval, AggregationInterval),
            f"max_aggregation_interval must be AggregationInterval.ONE_MINUTE (60 s) or TEN_MINUTES (600 s) "
            f"(got {interval!r})",
        )
        fields: list[FlowLogField] | None = None
        if log_format is not None:
            fields = list(log_format)
            problems.check(bool(fields), "log_format is empty: give at least one FlowLogField, or None for the default")
            bad = [f for f in fields if not isinstance(f, FlowLogField)]
            problems.check(
                not bad,
                f"log_format holds {bad!r}, which are not FlowLogField members (fields of versions 2 to 5)",
            )
            repeated = sorted({f.value for f in fields if isinstance(f, FlowLogField) and fields.count(f) > 1})
            problems.check(not repeated, f"log_format lists {repeated} more than once")
        problems.raise_if_any()

        self.resource = resource
        self.traffic_type = traffic_type
        self.log_format = tuple(fields) if fields is not None else None
        self.log_group: logs.ILogGroup | None = None
        self.key: kms.IKey | None = None
        self.role: iam.IRole | None = None
        self.role_policy: iam.ManagedPolicy | None = None
        self.cloudwatch_flow_log: ec2.CfnFlowLog | None = None
        self.s3_flow_log: ec2.CfnFlowLog | None = None
        self._s3_bucket: s3.IBucket | None = None
        self._s3_prefix: str | None = None

        common = {
            "resource_id": resource.resource_id,
            "resource_type": resource.resource_type.value,
            "traffic_type": traffic_type.value,
            "log_format": format_string(fields) if fields is not None else None,
            "max_aggregation_interval": interval.value,
        }
        for destination in destinations:
            if destination.kind is DestinationKind.CLOUDWATCH_LOGS:
                self._to_cloudwatch_logs(stack, destination, common, removal_policy)
            else:
                self._to_s3(stack, destination, common)

    def _to_cloudwatch_logs(
        self,
        stack: cdk.Stack,
        destination: FlowLogDestination,
        common: dict[str, object],
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        log_group = destination.log_group
        if log_group is None:
            name = (
                destination.log_group_name
                if destination.log_group_name is not None
                else f"/aws/vpc-flow-logs/{self.resource.resource_id}"
            )
            key, created = _log_groups.encrypted_log_groups(
                self,
                log_groups={"LogGroup": name},
                key=destination.key,
                key_description="Encrypts a VPC flow log group",
                retention=destination.retention,
                removal_policy=removal_policy,
            )
            self.key = key
            log_group = created["LogGroup"]
        self.log_group = log_group

        role = destination.role
        if role is None:
            new_role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal(
                    FLOW_LOGS_SERVICE,
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {
                            "aws:SourceArn": stack.format_arn(
                                service="ec2",
                                resource="vpc-flow-log",
                                resource_name="*",
                                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                            )
                        },
                    },
                ),
                description="Lets VPC Flow Logs of this account write to one log group",
            )
            # A customer-managed policy rather than an inline one (NIST/HIPAA/PCI IAMNoInlinePolicy).
            self.role_policy = iam.ManagedPolicy(
                self,
                "RolePolicy",
                description="VPC Flow Logs: write streams of one log group, nothing else",
                roles=[new_role],
                statements=[
                    iam.PolicyStatement(
                        sid="WriteFlowLogStreams",
                        actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        resources=[log_group.log_group_arn],
                    )
                ],
            )
            role = new_role
        self.role = role

        self.cloudwatch_flow_log = ec2.CfnFlowLog(
            self,
            "CloudWatchLogs",
            log_destination_type=DestinationKind.CLOUDWATCH_LOGS.value,
            log_destination=log_group.log_group_arn,
            deliver_logs_permission_arn=role.role_arn,
            **common,  # type: ignore[arg-type]
        )
        # The service checks it may write when the flow log is created (the role ARN is a GetAtt already).
        if self.role_policy is not None:
            self.cloudwatch_flow_log.node.add_dependency(self.role_policy)

    def _to_s3(self, stack: cdk.Stack, destination: FlowLogDestination, common: dict[str, object]) -> None:
        bucket = destination.bucket
        assert bucket is not None  # checked in FlowLogDestination.problems
        prefix = destination.key_prefix
        self._s3_bucket, self._s3_prefix = bucket, prefix
        dependency: Construct | None = None
        statements = policies.flow_logs_bucket_statements(
            bucket_arn=bucket.bucket_arn, account_ids=[stack.account], prefix=prefix, region=stack.region
        )
        if _brought.add_statements(
            self,
            bucket,
            statements,
            prop="destinations: FlowLogDestination.s3(bucket)",
            helper="flow_logs_bucket_statements",
            consequence="the flow log fails with 'Access Denied for LogDestination' and delivers nothing",
        ):
            dependency = bucket.policy
        if bucket.encryption_key is not None:
            _brought.add_statements(
                self,
                bucket.encryption_key,
                [
                    policies.flow_logs_key_statement(
                        account_id=stack.account,
                        logs_arn=stack.format_arn(
                            service="logs", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
                        ),
                    )
                ],
                prop="destinations: FlowLogDestination.s3(bucket) key",
                helper="flow_logs_key_statement",
                consequence="log delivery cannot write flow logs into the SSE-KMS bucket",
            )
        destination_arn = f"{bucket.bucket_arn}/{prefix}" if prefix else bucket.bucket_arn
        self.s3_flow_log = ec2.CfnFlowLog(
            self,
            "S3",
            log_destination_type=DestinationKind.S3.value,
            log_destination=destination_arn,
            destination_options={
                "FileFormat": "parquet" if destination.parquet else "plain-text",
                "HiveCompatiblePartitions": destination.hive_compatible_partitions,
                "PerHourPartition": destination.per_hour_partition,
            },
            **common,  # type: ignore[arg-type]
        )
        if dependency is not None:
            self.s3_flow_log.node.add_dependency(dependency)

    def grant_read_logs(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the flow log records: the log group's events (and decrypt them with
        the key created or given here) and the objects under the S3 destination's prefix.

        :return: one grant combining the log group, key and bucket grants.
        """
        grants: list[iam.Grant] = []
        if self.log_group is not None:
            grants.append(self.log_group.grant_read(grantee))
        if self.key is not None:
            grants.append(self.key.grant_decrypt(grantee))
        if self._s3_bucket is not None:
            pattern = f"{self._s3_prefix}/AWSLogs/*" if self._s3_prefix else "AWSLogs/*"
            grants.append(self._s3_bucket.grant_read(grantee, pattern))
        grant = grants[0]
        for other in grants[1:]:
            grant = grant.combine(other)
        return grant

    def metric_incoming_log_events(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Flow log records delivered to the CloudWatch Logs destination (``AWS/Logs``): zero means
        delivery stopped. Default: Sum over 5 minutes."""
        return logs_metric(
            self._owner, "IncomingLogEvents", self._log_group_name("metric_incoming_log_events"), options
        )

    def metric_incoming_bytes(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Bytes delivered to the CloudWatch Logs destination (``AWS/Logs``): what ingestion costs.
        Default: Sum over 5 minutes."""
        return logs_metric(self._owner, "IncomingBytes", self._log_group_name("metric_incoming_bytes"), options)

    @property
    def _owner(self) -> str:
        return f"VpcFlowLogs({self.node.path})"

    def _log_group_name(self, method: str) -> str:
        if self.log_group is None:
            raise ValueError(f"{self._owner}.{method}: there is no CloudWatch Logs destination (S3 only)")
        return self.log_group.log_group_name


def _has_flow_log(vpc: ec2.CfnVPC) -> bool:
    """Whether any flow log in the app already watches ``vpc`` (by a reference or by its id)."""
    stack = cdk.Stack.of(vpc)
    wanted = stack.resolve(vpc.ref)
    # Only the stack's own subtree: a flow log elsewhere in the app is never in this stack (and
    # walking the whole app costs one proxy object per construct of every other stack).
    for node in stack.node.find_all():
        if (
            isinstance(node, ec2.CfnFlowLog)
            and node.resource_type == "VPC"
            and cdk.Stack.of(node) is stack
            and stack.resolve(node.resource_id) == wanted
        ):
            return True
    return False


@jsii.implements(cdk.IAspect)
class FlowLogsForEveryVpc:
    """Aspect: gives every ``ec2.Vpc`` / ``ec2.CfnVPC`` in a scope that has no flow log a ``VpcFlowLogs``.

    Platform teams apply it to workload apps, so VPCs the baseline did not create get flow logs too::

        cdk.Aspects.of(app).add(FlowLogsForEveryVpc(destinations=[FlowLogDestination.s3(archive_bucket)]))

    The flow logs are added next to the VPC, as ``<vpc>/FlowLogs`` for an ``ec2.Vpc``.
    """

    def __init__(
        self,
        *,
        destinations: Sequence[FlowLogDestination] | None = None,
        traffic_type: TrafficType | None = None,
        log_format: Sequence[FlowLogField] | None = None,
        max_aggregation_interval: AggregationInterval | None = None,
    ) -> None:
        """Same options and defaults as ``VpcFlowLogs``."""
        self._options = {
            "destinations": destinations,
            "traffic_type": traffic_type,
            "log_format": log_format,
            "max_aggregation_interval": max_aggregation_interval,
        }

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, ec2.CfnVPC) or _has_flow_log(node):
            return
        parent = node.node.scope
        assert parent is not None  # a CfnVPC always lives in a stack
        if isinstance(parent, ec2.Vpc):
            scope, construct_id = parent, "FlowLogs"
        else:
            scope, construct_id = parent, f"{node.node.id}FlowLogs"
        if scope.node.try_find_child(construct_id) is not None:
            return
        VpcFlowLogs(scope, construct_id, resource=FlowLogResource.vpc(node), **self._options)  # type: ignore[arg-type]
