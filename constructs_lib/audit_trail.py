"""AuditTrail: a CloudTrail trail with the bucket, key, topic, log group and role it needs."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import _brought, _log_groups, _nag, _names, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import MetricOptions, Unpack, logs_metric
from constructs_lib.log_bucket import LifecycleOptions, LogBucket, ObjectLockOptions

DEFAULT_ROLE_NAME = "CloudTrail_CloudWatchLogs_Role"


class ManagementEvents(enum.Enum):
    """Which management events the trail records."""

    ALL = "all"
    WRITE_ONLY = "write-only"
    READ_ONLY = "read-only"
    NONE = "none"


class InsightType(enum.Enum):
    """CloudTrail Insights: unusual API call rates or error rates (billed per analysed event)."""

    API_CALL_RATE = "ApiCallRateInsight"
    API_ERROR_RATE = "ApiErrorRateInsight"


@dataclass(frozen=True, kw_only=True)
class DataEventSelection:
    """Data events to record through advanced event selectors (billed per event).

    :param s3_bucket_names: record object-level events of these buckets.
    :param all_s3_buckets: record object-level events of every bucket (expensive).
    :param lambda_function_arns: record invocations of these functions.
    :param all_lambda_functions: record invocations of every function.
    """

    s3_bucket_names: Sequence[str] = ()
    all_s3_buckets: bool = False
    lambda_function_arns: Sequence[str] = ()
    all_lambda_functions: bool = False

    def __post_init__(self) -> None:
        problems = Problems("DataEventSelection")
        problems.check(
            not (self.all_s3_buckets and self.s3_bucket_names),
            "all_s3_buckets=True already covers every bucket; drop s3_bucket_names "
            f"(got {list(self.s3_bucket_names)!r})",
        )
        problems.check(
            not (self.all_lambda_functions and self.lambda_function_arns),
            "all_lambda_functions=True already covers every function; drop lambda_function_arns "
            f"(got {list(self.lambda_function_arns)!r})",
        )
        for name in self.s3_bucket_names:
            problems.check(
                isinstance(name, str) and 3 <= len(name) <= 63 and "/" not in name and ":" not in name,
                f"s3_bucket_names: {name!r} is not an S3 bucket name (3-63 characters, no '/' or ':')",
            )
        problems.raise_if_any()

    @property
    def is_empty(self) -> bool:
        return not (
            self.s3_bucket_names or self.all_s3_buckets or self.lambda_function_arns or self.all_lambda_functions
        )


class AuditTrail(Construct):
    """Multi-region CloudTrail trail with encrypted, retained storage and CloudWatch Logs delivery.

    Creates (or takes) the S3 bucket with its access-log bucket, the KMS key, the SNS topic for
    log-file delivery notifications, the CloudWatch log group and the
    ``CloudTrail_CloudWatchLogs_Role``, with every resource policy as AWS documents it, so the
    first deploy succeeds.

    Example::

        import aws_cdk as cdk
        from constructs_lib import AuditTrail, InsightType, ManagementEvents

        app = cdk.App()
        stack = cdk.Stack(app, "Audit", env=cdk.Environment(account="111111111111", region="eu-west-1"))
        trail = AuditTrail(
            stack,
            "Trail",
            trail_name="audit-trail",
            management_events=ManagementEvents.ALL,
            exclude_kms_events=True,
            insights=[InsightType.API_ERROR_RATE],
        )
        trail.grant_read_logs(some_role)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        trail_name: str | None = None,
        name_prefix: str | None = None,
        bucket: s3.IBucket | None = None,
        bucket_prefix: str | None = None,
        key: kms.IKey | None = None,
        log_file_key: kms.IKey | None = None,
        topic: sns.ITopic | None = None,
        log_group: logs.ILogGroup | None = None,
        log_group_name: str | None = None,
        log_retention: logs.RetentionDays | None = None,
        role_name: str | None = None,
        is_organization_trail: bool = False,
        organization_id: str | None = None,
        management_events: ManagementEvents = ManagementEvents.ALL,
        exclude_kms_events: bool = False,
        exclude_rds_data_events: bool = False,
        data_events: DataEventSelection | None = None,
        insights: Sequence[InsightType] = (),
        lifecycle: LifecycleOptions | None = None,
        object_lock: ObjectLockOptions | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param trail_name: fixed trail name; the bucket and key policies are built from it.
            Default: ``<name_prefix>-audit-trail``, or without a prefix a name unique to this
            construct's path (``<stack>-<path>-<hash>``), so two trails never collide.
        :param name_prefix: start of the default trail name. Default: none (path-derived names).
        :param bucket: where log files go (its policy must admit CloudTrail; an imported bucket
            is not changed). Default: a new versioned, TLS-only, SSE-KMS ``LogBucket``.
        :param bucket_prefix: S3 key prefix of the log files. Default: none.
        :param key: key for what is created here: log files, bucket, log group and topic.
            Default: a new key with rotation and the key policy CloudTrail, CloudWatch Logs
            and SNS need.
        :param log_file_key: key CloudTrail encrypts log files with when they go to a bucket
            in another account (the log archive). Default: ``key``.
        :param topic: SNS topic notified of each log-file delivery. Default: a new topic
            encrypted with ``key``, TLS-only.
        :param log_group: CloudWatch Logs destination. Default: a new log group encrypted
            with ``key``.
        :param log_group_name: name of the new log group. Default: ``/aws/cloudtrail/<trail_name>``.
        :param log_retention: retention of the new log group. Default: one year (CIS).
        :param role_name: name of the role CloudTrail uses to write to CloudWatch Logs (AWS's
            console calls it ``DEFAULT_ROLE_NAME``, ``CloudTrail_CloudWatchLogs_Role``: pass that for
            the documented name, once per account). Default: generated by CloudFormation.
        :param is_organization_trail: log every account of the organization (deploy in the
            management account or a delegated administrator). Default: False.
        :param organization_id: ``o-...`` id; required for an organization trail.
        :param management_events: Default: ALL.
        :param exclude_kms_events: leave out high-volume KMS management events. Default: False.
        :param exclude_rds_data_events: leave out RDS Data API management events. Default: False.
        :param data_events: Default: none.
        :param insights: CloudTrail Insights types. Default: none.
        :param lifecycle: of the new bucket. Default: ``LifecycleOptions()``.
        :param object_lock: of the new bucket. Default: no Object Lock.
        :param access_logs_bucket: receives the new bucket's S3 server access logs.
            Default: a new SSE-S3 access-log bucket.
        :param tags: added to every taggable resource created here. Default: none.
        :param removal_policy: of the buckets, key and log group created here. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        data_events = data_events if data_events is not None else DataEventSelection()
        insights = list(insights) if isinstance(insights, (list, tuple)) else insights
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN

        problems = Problems(f"AuditTrail({self.node.path})")
        problems.check_type("trail_name", trail_name, str, optional=True)
        problems.check_type("name_prefix", name_prefix, str, optional=True)
        for prop, value in (("bucket", bucket), ("access_logs_bucket", access_logs_bucket)):
            problems.check_resource(prop, value, "s3.IBucket")
        for prop, value in (("key", key), ("log_file_key", log_file_key)):
            problems.check_resource(prop, value, "kms.IKey")
        problems.check_resource("topic", topic, "sns.ITopic")
        problems.check_resource("log_group", log_group, "logs.ILogGroup")
        for prop, value in (
            ("bucket_prefix", bucket_prefix),
            ("log_group_name", log_group_name),
            ("role_name", role_name),
            ("organization_id", organization_id),
        ):
            problems.check_type(prop, value, str, optional=True)
        problems.check_enum("log_retention", log_retention, logs.RetentionDays, optional=True)
        problems.check_enum("management_events", management_events, ManagementEvents)
        for prop, value in (
            ("is_organization_trail", is_organization_trail),
            ("exclude_kms_events", exclude_kms_events),
            ("exclude_rds_data_events", exclude_rds_data_events),
        ):
            problems.check_type(prop, value, bool)
        problems.check_type("data_events", data_events, DataEventSelection)
        problems.check_enums("insights", insights, InsightType)
        problems.check_type("lifecycle", lifecycle, LifecycleOptions, optional=True)
        problems.check_type("object_lock", object_lock, ObjectLockOptions, optional=True)
        problems.check_mapping("tags", tags)
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        if trail_name is None:
            trail_name = _names.unique(self, name_prefix=name_prefix, suffix="audit-trail", max_length=128)
        problems.check(
            bool(policies.TRAIL_NAME_PATTERN.match(trail_name)),
            f"trail_name {trail_name!r} is not a valid trail name: 3-128 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit",
        )
        if is_organization_trail and organization_id is None:
            problems.add("is_organization_trail=True needs organization_id (got None): pass the o-xxxxxxxxxx id")
        if organization_id is not None and not policies.ORGANIZATION_ID_PATTERN.match(organization_id):
            problems.add(f"organization_id {organization_id!r} is not an organization id like 'o-a1b2c3d4e5'")
        if organization_id is not None and not is_organization_trail:
            problems.add("organization_id was given but is_organization_trail is False: set it True or drop the id")
        if bucket is not None:
            for name, value in (
                ("lifecycle", lifecycle),
                ("object_lock", object_lock),
                ("access_logs_bucket", access_logs_bucket),
            ):
                problems.check(
                    value is None,
                    f"{name} applies only to a bucket created here, but bucket was given: "
                    "configure it on that bucket instead",
                )
        if log_group is not None:
            problems.check(
                log_group_name is None, "log_group_name applies only to a new log group, but log_group was given"
            )
            problems.check(
                log_retention is None, "log_retention applies only to a new log group, but log_group was given"
            )
        if management_events is ManagementEvents.NONE:
            problems.check(
                not data_events.is_empty,
                "management_events=NONE with no data events: the trail would record nothing",
            )
            problems.check(
                not insights,
                "insights need management events, but management_events=NONE: record management events "
                "or drop insights",
            )
            problems.check(
                not (exclude_kms_events or exclude_rds_data_events),
                "exclude_kms_events / exclude_rds_data_events filter management events, but management_events=NONE",
            )
        if management_events is ManagementEvents.READ_ONLY and insights:
            problems.add("insights analyse write management events, but management_events=READ_ONLY")
        problems.check(
            len(set(insights)) == len(insights), f"insights lists a type twice (got {[i.value for i in insights]})"
        )
        problems.raise_if_any()
        _names.claim(self, "CloudTrail trail name", trail_name)
        if role_name is not None:
            _names.claim(self, "IAM role name", role_name, global_kind=True)

        self.trail_name = trail_name
        self.trail_arn = policies.trail_arn(self, trail_name=trail_name)
        self.is_organization_trail = is_organization_trail
        log_group_name = log_group_name if log_group_name is not None else f"/aws/cloudtrail/{trail_name}"
        account = stack.account

        # Key: one customer key for everything created here (the aws/sns and aws/s3 keys cannot
        # grant CloudTrail or CloudWatch what they need).
        if key is None:
            key = self._new_key(log_group_name, removal_policy, encrypts_log_files=log_file_key is None)
        else:
            self._wire_brought_key(
                key,
                encrypts_log_files=log_file_key is None,
                log_group_name=log_group_name if log_group is None else None,
                encrypts_topic=topic is None,
            )
        self.key: kms.IKey = key
        if log_file_key is not None:
            self._wire_log_file_key(log_file_key, prop="log_file_key", own=False)
        self.log_file_key: kms.IKey = log_file_key if log_file_key is not None else key

        # Bucket: created with the access-log bucket, or brought by the caller.
        self.access_logs_bucket: s3.IBucket | None = None
        bucket_policy_dependency: Construct | None = None
        if bucket is None:
            if access_logs_bucket is None:
                access_logs_bucket = LogBucket(
                    self,
                    "AccessLogsBucket",
                    server_access_logs=False,
                    lifecycle=lifecycle,
                    removal_policy=removal_policy,
                ).bucket
            self.access_logs_bucket = access_logs_bucket
            bucket = LogBucket(
                self,
                "Bucket",
                encryption_key=self.log_file_key,
                lifecycle=lifecycle,
                object_lock=object_lock,
                access_logs_bucket=access_logs_bucket,
                removal_policy=removal_policy,
            ).bucket
        self.bucket: s3.IBucket = bucket
        if _brought.add_statements(
            self,
            bucket,
            policies.cloudtrail_bucket_statements(
                bucket_arn=bucket.bucket_arn,
                trail_arns=[self.trail_arn],
                account_ids=[account],
                organization_id=organization_id,
                prefix=bucket_prefix,
            ),
            prop="bucket",
            helper="cloudtrail_bucket_statements",
            consequence="CloudTrail refuses the trail with InsufficientS3BucketPolicyException",
        ):
            bucket_policy_dependency = bucket.policy

        # Topic notified of each log-file delivery.
        if topic is None:
            topic = sns.Topic(
                self,
                "Topic",
                display_name=f"CloudTrail {trail_name} log file delivery",
                master_key=key,
                enforce_ssl=True,
            )
        else:
            if topic.master_key is not None and topic.master_key is not key:
                self._allow_publish_through(topic.master_key, prop="topic key", own=False)
        _brought.add_statements(
            self,
            topic,
            [
                policies.service_publish_topic_statement(
                    sid="AWSCloudTrailSNSPolicy",
                    topic_arn=topic.topic_arn,
                    services=["cloudtrail.amazonaws.com"],
                    conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}},
                )
            ],
            prop="topic",
            helper="service_publish_topic_statement",
            consequence="CloudTrail refuses the trail with InsufficientSnsTopicPolicyException",
        )
        self.topic: sns.ITopic = topic

        # CloudWatch Logs delivery.
        stream_group_name = log_group_name
        if log_group is None:
            log_group = _log_groups.new_log_group(
                self,
                "LogGroup",
                log_group_name=log_group_name,
                key=key,
                retention=log_retention,
                removal_policy=removal_policy,
            )
        else:
            stream_group_name = log_group.log_group_name
        self.log_group: logs.ILogGroup = log_group
        self.role, self.role_policy = self._delivery_role(role_name, stream_group_name, organization_id)

        # The trail itself.
        self.trail = cloudtrail.CfnTrail(
            self,
            "Resource",
            trail_name=trail_name,
            is_logging=True,
            s3_bucket_name=bucket.bucket_name,
            s3_key_prefix=bucket_prefix,
            kms_key_id=self.log_file_key.key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            is_organization_trail=is_organization_trail,
            cloud_watch_logs_log_group_arn=log_group.log_group_arn,
            cloud_watch_logs_role_arn=self.role.role_arn,
            sns_topic_name=topic.topic_name,
            advanced_event_selectors=self._selectors(
                management_events, exclude_kms_events, exclude_rds_data_events, data_events
            ),
            insight_selectors=[cloudtrail.CfnTrail.InsightSelectorProperty(insight_type=i.value) for i in insights]
            or None,
        )
        # CloudTrail checks its permissions when the trail is created: the policies come first.
        self.trail.node.add_dependency(self.role_policy)
        if bucket_policy_dependency is not None:
            self.trail.node.add_dependency(bucket_policy_dependency)

        for tag_key, tag_value in (tags or {}).items():
            cdk.Tags.of(self).add(tag_key, tag_value)

    def _new_key(self, log_group_name: str, removal_policy: cdk.RemovalPolicy, *, encrypts_log_files: bool) -> kms.Key:
        """Key with rotation whose policy admits CloudTrail, CloudWatch Logs and SNS for this trail only."""
        key = _log_groups.new_key(
            self,
            description=f"Encrypts what CloudTrail trail {self.trail_name} writes here: log files, log group, topic",
            removal_policy=removal_policy,
        )
        if encrypts_log_files:
            self._wire_log_file_key(key, prop="key", own=True)
        _log_groups.allow_logs(self, key, [log_group_name], own_key=True)
        self._allow_publish_through(key, prop="key", own=True)
        return key

    def _wire_brought_key(
        self, key: kms.IKey, *, encrypts_log_files: bool, log_group_name: str | None, encrypts_topic: bool
    ) -> None:
        """The statements of ``_new_key`` that apply, on a key the caller brought (with Sids of this trail)."""
        if encrypts_log_files:
            self._wire_log_file_key(key, prop="key", own=False)
        if log_group_name is not None:
            _log_groups.allow_logs(self, key, [log_group_name], own_key=False)
        if encrypts_topic:
            self._allow_publish_through(key, prop="key", own=False)

    def _wire_log_file_key(self, key: kms.IKey, *, prop: str, own: bool) -> None:
        """CloudTrail may encrypt this trail's log files with ``key``; this account may read them."""
        account = cdk.Stack.of(self).account
        _brought.add_statements(
            self,
            key,
            policies.cloudtrail_key_statements(
                trail_arns=[self.trail_arn],
                trail_account_ids=[account],
                reader_account_ids=[account],
                sid_suffix="" if own else cdk.Names.unique_id(self),
            ),
            prop=prop,
            helper="cloudtrail_key_statements",
            consequence="CloudTrail refuses the trail with InsufficientEncryptionPolicyException",
        )

    def _allow_publish_through(self, key: kms.IKey, *, prop: str, own: bool) -> None:
        """CloudTrail may publish this trail's delivery notifications to a topic encrypted with ``key``."""
        sid = "AllowCloudTrailToPublishToEncryptedTopic"
        _brought.add_statements(
            self,
            key,
            [
                policies.service_publish_key_statement(
                    sid=sid if own else _brought.unique_sid(self, sid),
                    services=["cloudtrail.amazonaws.com"],
                    account_id=cdk.Stack.of(self).account,
                    source_arns=[self.trail_arn],
                )
            ],
            prop=prop,
            helper="service_publish_key_statement",
            consequence="the topic silently drops CloudTrail's log-file delivery notifications",
        )

    def _delivery_role(
        self, role_name: str | None, log_group_name: str, organization_id: str | None
    ) -> tuple[iam.Role, iam.ManagedPolicy]:
        """``CloudTrail_CloudWatchLogs_Role``: may write this trail's log streams and nothing else."""
        stack = cdk.Stack.of(self)
        stream_prefixes = [f"{stack.account}_CloudTrail_{stack.region}*"]
        if organization_id is not None:
            stream_prefixes.append(f"{organization_id}_*")
        role = iam.Role(
            self,
            "CloudWatchLogsRole",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("cloudtrail.amazonaws.com"),
            description=f"Lets CloudTrail trail {self.trail_name} deliver events to CloudWatch Logs",
        )
        stream_resources = [
            policies.log_group_arn(stack, f"{log_group_name}:log-stream:{prefix}") for prefix in stream_prefixes
        ]
        # A customer-managed policy rather than an inline one (NIST/HIPAA/PCI IAMNoInlinePolicy).
        policy = iam.ManagedPolicy(
            self,
            "CloudWatchLogsPolicy",
            description=f"CloudTrail trail {self.trail_name}: write its own log streams, nothing else",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="AWSCloudTrailCreateLogStreamAndPutLogEvents",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=stream_resources,
                )
            ],
        )
        _nag.acknowledge(
            policy,
            "CloudTrail names its log streams <account>_CloudTrail_<region>_<n> (and <o-id>_* for an "
            "organization trail); the wildcard covers only this trail's streams in this one log group, "
            "as AWS documents for CloudTrail_CloudWatchLogs_Role.",
            *(f"AwsSolutions-IAM5[Resource::{_nag.rendered(self, resource)}]" for resource in stream_resources),
        )
        return role, policy

    @staticmethod
    def _selectors(
        management_events: ManagementEvents,
        exclude_kms_events: bool,
        exclude_rds_data_events: bool,
        data_events: DataEventSelection,
    ) -> list[cloudtrail.CfnTrail.AdvancedEventSelectorProperty]:
        field = cloudtrail.CfnTrail.AdvancedFieldSelectorProperty
        selectors = []
        if management_events is not ManagementEvents.NONE:
            fields = [field(field="eventCategory", equal_to=["Management"])]
            if management_events is ManagementEvents.WRITE_ONLY:
                fields.append(field(field="readOnly", equal_to=["false"]))
            elif management_events is ManagementEvents.READ_ONLY:
                fields.append(field(field="readOnly", equal_to=["true"]))
            excluded = [
                source
                for source, on in (
                    ("kms.amazonaws.com", exclude_kms_events),
                    ("rdsdata.amazonaws.com", exclude_rds_data_events),
                )
                if on
            ]
            if excluded:
                fields.append(field(field="eventSource", not_equals=excluded))
            selectors.append(
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(name="Management events", field_selectors=fields)
            )
        if data_events.all_s3_buckets or data_events.s3_bucket_names:
            fields = [
                field(field="eventCategory", equal_to=["Data"]),
                field(field="resources.type", equal_to=["AWS::S3::Object"]),
            ]
            if data_events.s3_bucket_names:
                fields.append(
                    field(
                        field="resources.ARN",
                        starts_with=[f"arn:{cdk.Aws.PARTITION}:s3:::{name}/" for name in data_events.s3_bucket_names],
                    )
                )
            selectors.append(
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(name="S3 data events", field_selectors=fields)
            )
        if data_events.all_lambda_functions or data_events.lambda_function_arns:
            fields = [
                field(field="eventCategory", equal_to=["Data"]),
                field(field="resources.type", equal_to=["AWS::Lambda::Function"]),
            ]
            if data_events.lambda_function_arns:
                fields.append(field(field="resources.ARN", equal_to=list(data_events.lambda_function_arns)))
            selectors.append(
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(name="Lambda data events", field_selectors=fields)
            )
        return selectors

    def grant_read_logs(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the trail's log files (bucket + log-file key) and its CloudWatch log events.

        :return: one grant combining the bucket, key and log group grants.
        """
        return (
            self.bucket.grant_read(grantee)
            .combine(self.log_file_key.grant_decrypt(grantee))
            .combine(self.log_group.grant_read(grantee))
        )

    def metric_incoming_log_events(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Events CloudTrail delivered to the log group (``AWS/Logs``): zero means delivery stopped.

        Default: Sum over 5 minutes.
        """
        return logs_metric(f"AuditTrail({self.node.path})", "IncomingLogEvents", self.log_group.log_group_name, options)

    def metric_incoming_bytes(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Bytes CloudTrail delivered to the log group (``AWS/Logs``). Default: Sum over 5 minutes."""
        return logs_metric(f"AuditTrail({self.node.path})", "IncomingBytes", self.log_group.log_group_name, options)
