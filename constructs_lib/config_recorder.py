"""ConfigRecorder: the AWS Config recorder, delivery channel, configuration stream and role.

aws-cdk-lib has no L2 for the recorder or the delivery channel; this construct wraps the
CloudFormation resources with the cost controls (daily recording, per-type overrides,
exclusions, global IAM types in one region only) and the permissions AWS documents.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IDependable

from constructs_lib import _brought, _log_groups, _nag, _names, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import DEFAULT_PERIOD, MetricOptions, Unpack, metric
from constructs_lib.health import CONFIG_METRICS_NAMESPACE, config_failure_query
from constructs_lib.managed_rules import CONTINUOUS_ONLY_RESOURCE_TYPES as CONTINUOUS_ONLY_RESOURCE_TYPES
from constructs_lib.managed_rules import RECORDER_NAME_PATTERN as RECORDER_NAME_PATTERN
from constructs_lib.managed_rules import RESOURCE_TYPE_PATTERN as RESOURCE_TYPE_PATTERN

#: The global IAM resource types. Recorded in every region they would be billed once per region,
#: so the baseline records them only in the home region.
GLOBAL_IAM_RESOURCE_TYPES = ("AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User")


#: The Config service-linked role, created by AWS Config the first time it is used in an account.
SERVICE_LINKED_ROLE_NAME = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"

#: Recording modes Config allows per recorder (PutConfigurationRecorder: at most one override).
MAX_FREQUENCY_OVERRIDES = 1


class RecordingFrequency(enum.Enum):
    """How often AWS Config records a configuration item for a changed resource."""

    #: A configuration item for every change (billed per item).
    CONTINUOUS = "CONTINUOUS"
    #: At most one configuration item per resource per day, only if it changed.
    DAILY = "DAILY"


class SnapshotDeliveryFrequency(enum.Enum):
    """How often AWS Config delivers a configuration snapshot to the bucket."""

    ONE_HOUR = "One_Hour"
    THREE_HOURS = "Three_Hours"
    SIX_HOURS = "Six_Hours"
    TWELVE_HOURS = "Twelve_Hours"
    TWENTY_FOUR_HOURS = "TwentyFour_Hours"


def _resource_type_problems(owner: str, resource_types: Sequence[str]) -> list[str]:
    problems = [
        f"{owner}: {resource_type!r} is not a resource type like 'AWS::EC2::Instance'"
        for resource_type in resource_types
        if not isinstance(resource_type, str) or not RESOURCE_TYPE_PATTERN.match(resource_type)
    ]
    duplicates = sorted({t for t in resource_types if list(resource_types).count(t) > 1})
    if duplicates:
        problems.append(f"{owner}: {duplicates!r} listed more than once")
    return problems


@dataclass(frozen=True, kw_only=True)
class RecordingFrequencyOverride:
    """A recording frequency for some resource types that differs from the recorder's default.

    :param resource_types: types the override applies to, like ``AWS::EC2::NetworkInterface``.
    :param frequency: their recording frequency.
    :param description: why. Default: none.
    """

    resource_types: Sequence[str]
    frequency: RecordingFrequency
    description: str | None = None

    def __post_init__(self) -> None:
        problems = Problems("RecordingFrequencyOverride")
        problems.check(
            isinstance(self.frequency, RecordingFrequency),
            f"frequency must be RecordingFrequency.CONTINUOUS or RecordingFrequency.DAILY (got {self.frequency!r})",
        )
        problems.check(len(self.resource_types) > 0, "resource_types is empty: name at least one resource type")
        for message in _resource_type_problems("resource_types", self.resource_types):
            problems.add(message)
        if self.frequency is RecordingFrequency.DAILY:
            refused = sorted(set(self.resource_types) & set(CONTINUOUS_ONLY_RESOURCE_TYPES))
            problems.check(
                not refused,
                f"resource_types {refused!r} are always recorded continuously; AWS Config refuses DAILY for them",
            )
        problems.check(
            self.description is None or len(self.description) <= 256,
            "description is longer than 256 characters",
        )
        problems.raise_if_any()


class ConfigRecorder(Construct):
    """AWS Config recorder with its delivery channel, configuration stream topic and role.

    Records all supported resource types; the global IAM types only where
    ``include_global_resource_types`` is True (give it True in one region, the home region, so
    they are recorded and billed once). ``recording_frequency``, ``frequency_overrides`` and
    ``excluded_resource_types`` are the cost controls.

    Only one recorder can exist per account and region. Pass ``existing_recorder_name`` to adopt
    one that something else manages (Control Tower, for example): then nothing is created here,
    and ``ConfigRules`` can still add rules that evaluate what that recorder records.

    Example::

        import aws_cdk as cdk
        from aws_cdk import aws_s3 as s3
        from constructs_lib import (
            ConfigRecorder,
            RecordingFrequency,
            RecordingFrequencyOverride,
            SnapshotDeliveryFrequency,
        )

        app = cdk.App()
        stack = cdk.Stack(app, "Config", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        recorder = ConfigRecorder(
            stack,
            "Recorder",
            bucket=s3.Bucket.from_bucket_name(stack, "Archive", "acme-config-222222222222-eu-west-1"),
            include_global_resource_types=True,
            recording_frequency=RecordingFrequency.DAILY,
            frequency_overrides=[
                RecordingFrequencyOverride(
                    resource_types=["AWS::EC2::SecurityGroup"], frequency=RecordingFrequency.CONTINUOUS
                )
            ],
            excluded_resource_types=["AWS::EC2::NetworkInterface"],
            snapshot_delivery_frequency=SnapshotDeliveryFrequency.TWELVE_HOURS,
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket | None = None,
        bucket_prefix: str | None = None,
        bucket_key: kms.IKey | None = None,
        recorder_name: str | None = None,
        existing_recorder_name: str | None = None,
        include_global_resource_types: bool = False,
        global_resource_types_condition: cdk.CfnCondition | None = None,
        recording_frequency: RecordingFrequency | None = None,
        frequency_overrides: Sequence[RecordingFrequencyOverride] = (),
        excluded_resource_types: Sequence[str] = (),
        snapshot_delivery_frequency: SnapshotDeliveryFrequency | None = None,
        configuration_stream: bool | None = None,
        stream_topic: sns.ITopic | None = None,
        key: kms.IKey | None = None,
        use_service_linked_role: bool = False,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param bucket: where Config delivers configuration history and snapshots (a bucket in
            another account, such as the log archive, must carry ``policies.config_bucket_statements``;
            a bucket of this stack gets them here). Required unless ``existing_recorder_name``.
        :param bucket_prefix: S3 key prefix of the delivered objects. Default: none.
        :param bucket_key: KMS key Config encrypts the delivered objects with (``S3KmsKeyArn``;
            in the bucket's region, and its key policy must admit ``config.amazonaws.com``).
            Default: the bucket's default encryption.
        :param recorder_name: Default: ``default``, the name the console gives.
        :param existing_recorder_name: adopt this recorder: no recorder, delivery channel, role or
            topic is created. Default: create them.
        :param include_global_resource_types: record IAM users, groups, roles and customer
            managed policies. Set True in one region only. Default: False.
        :param global_resource_types_condition: for a region-agnostic template (a StackSet):
            record the global IAM types only where this condition holds (``AWS::Region`` equals
            the home region), instead of ``include_global_resource_types``. Default: none.
        :param recording_frequency: Default: CONTINUOUS.
        :param frequency_overrides: at most one override (an AWS Config limit). Default: none.
        :param excluded_resource_types: record everything but these types. Default: none.
        :param snapshot_delivery_frequency: Default: TWENTY_FOUR_HOURS.
        :param configuration_stream: send configuration changes to an SNS topic. Default: True.
        :param stream_topic: topic of the configuration stream. Default: a new TLS-only topic
            encrypted with ``key``.
        :param key: key of the new stream topic. Default: a new key with rotation that lets
            AWS Config and the recorder's role publish.
        :param use_service_linked_role: record with ``AWSServiceRoleForConfig`` (it must exist:
            AWS Config creates it when first used). Default: False, a new role with the managed
            policy ``service-role/AWS_ConfigRole`` that only Config in this account can assume.
        :param removal_policy: of the key created here. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        account = stack.account
        if isinstance(frequency_overrides, (list, tuple)):
            frequency_overrides = list(frequency_overrides)
        if isinstance(excluded_resource_types, (list, tuple)):
            excluded_resource_types = list(excluded_resource_types)

        problems = Problems(f"ConfigRecorder({self.node.path})")
        problems.check_resource("bucket", bucket, "s3.IBucket")
        problems.check_resource("bucket_key", bucket_key, "kms.IKey")
        problems.check_resource("stream_topic", stream_topic, "sns.ITopic")
        problems.check_resource("key", key, "kms.IKey")
        problems.check_resource("global_resource_types_condition", global_resource_types_condition, "cdk.CfnCondition")
        for prop, value in (
            ("bucket_prefix", bucket_prefix),
            ("recorder_name", recorder_name),
            ("existing_recorder_name", existing_recorder_name),
        ):
            problems.check_type(prop, value, str, optional=True)
        problems.check_type("include_global_resource_types", include_global_resource_types, bool)
        problems.check_type("configuration_stream", configuration_stream, bool, optional=True)
        problems.check_type("use_service_linked_role", use_service_linked_role, bool)
        problems.check_enum("recording_frequency", recording_frequency, RecordingFrequency, optional=True)
        problems.check_enum(
            "snapshot_delivery_frequency", snapshot_delivery_frequency, SnapshotDeliveryFrequency, optional=True
        )
        problems.check_sequence("frequency_overrides", frequency_overrides, RecordingFrequencyOverride)
        problems.check_sequence("excluded_resource_types", excluded_resource_types, str)
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy, optional=True)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        if existing_recorder_name is not None:
            problems.check(
                bool(RECORDER_NAME_PATTERN.match(existing_recorder_name)),
                f"existing_recorder_name {existing_recorder_name!r} is not a recorder name "
                "(1-256 letters, digits, '_', '.', '-')",
            )
            given = [
                name
                for name, value in (
                    ("bucket", bucket),
                    ("bucket_prefix", bucket_prefix),
                    ("bucket_key", bucket_key),
                    ("recorder_name", recorder_name),
                    ("recording_frequency", recording_frequency),
                    ("snapshot_delivery_frequency", snapshot_delivery_frequency),
                    ("configuration_stream", configuration_stream),
                    ("stream_topic", stream_topic),
                    ("key", key),
                )
                if value is not None
            ]
            given += [
                name
                for name, value in (
                    ("include_global_resource_types", include_global_resource_types),
                    ("frequency_overrides", frequency_overrides),
                    ("excluded_resource_types", excluded_resource_types),
                    ("use_service_linked_role", use_service_linked_role),
                )
                if value
            ]
            problems.check(
                not given,
                f"existing_recorder_name={existing_recorder_name!r} adopts a recorder managed elsewhere, "
                f"so {', '.join(given)} would have no effect: configure that recorder where it is managed "
                "or drop existing_recorder_name",
            )
        else:
            problems.check(
                bucket is not None,
                "bucket is required (got None): pass the bucket Config delivers to, or "
                "existing_recorder_name to adopt a recorder that already delivers",
            )
            if recorder_name is not None:
                problems.check(
                    bool(RECORDER_NAME_PATTERN.match(recorder_name)),
                    f"recorder_name {recorder_name!r} is not a recorder name (1-256 letters, digits, '_', '.', '-')",
                )
            for message in _resource_type_problems("excluded_resource_types", excluded_resource_types):
                problems.add(message)
            problems.check(
                len(frequency_overrides) <= MAX_FREQUENCY_OVERRIDES,
                f"frequency_overrides has {len(frequency_overrides)} entries; AWS Config accepts at most "
                f"{MAX_FREQUENCY_OVERRIDES}: put all types with the same frequency into one override",
            )
            default_frequency = recording_frequency or RecordingFrequency.CONTINUOUS
            for index, override in enumerate(frequency_overrides):
                problems.check(
                    override.frequency is not default_frequency,
                    f"frequency_overrides[{index}] sets {override.frequency.value}, which is already the "
                    "recording_frequency: drop it or change the frequency",
                )
                excluded_too = sorted(set(override.resource_types) & set(excluded_resource_types))
                problems.check(
                    not excluded_too,
                    f"frequency_overrides[{index}]: {excluded_too!r} are also in excluded_resource_types "
                    "and would not be recorded at all",
                )
            if configuration_stream is False:
                problems.check(
                    stream_topic is None and key is None,
                    "stream_topic / key configure the configuration stream, but configuration_stream=False",
                )
            if stream_topic is not None:
                problems.check(key is None, "key encrypts a new stream topic, but stream_topic was given")
        problems.raise_if_any()

        self.adopted = existing_recorder_name is not None
        self.recorder_name: str = (
            existing_recorder_name if existing_recorder_name is not None else (recorder_name or "default")
        )
        self.recorder: config.CfnConfigurationRecorder | None = None
        self.delivery_channel: config.CfnDeliveryChannel | None = None
        self.role: iam.IRole | None = None
        self.topic: sns.ITopic | None = None
        self.key: kms.IKey | None = None
        self.bucket: s3.IBucket | None = bucket
        self._bucket_prefix = bucket_prefix
        self._bucket_key = bucket_key
        self.include_global_resource_types = include_global_resource_types
        if global_resource_types_condition is not None and include_global_resource_types:
            raise ValueError(
                f"ConfigRecorder({self.node.path}): give include_global_resource_types=True or "
                "global_resource_types_condition, not both: the condition decides per region"
            )
        if self.adopted:
            return
        # One recorder per account and region: a second one fails at deploy, so fail here.
        _names.claim(self, "Config recorder (one per account and region)", "recorder")
        assert bucket is not None
        recording_frequency = recording_frequency or RecordingFrequency.CONTINUOUS
        snapshot_delivery_frequency = snapshot_delivery_frequency or SnapshotDeliveryFrequency.TWENTY_FOUR_HOURS
        configuration_stream = configuration_stream if configuration_stream is not None else True
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN

        # A bucket of this stack gets the statements here; one in another account (the log
        # archive) carries them already, and add_to_resource_policy on an import is a no-op.
        _brought.add_statements(
            self,
            bucket,
            policies.config_bucket_statements(
                bucket_arn=bucket.bucket_arn, account_ids=[account], prefix=bucket_prefix
            ),
            prop="bucket",
            helper="config_bucket_statements",
            consequence="the delivery channel fails with InsufficientDeliveryPolicyException",
        )
        if bucket_key is not None:
            _brought.add_statements(
                self,
                bucket_key,
                [policies.config_key_statement(account_ids=[account])],
                prop="bucket_key",
                helper="config_key_statement",
                consequence="AWS Config cannot encrypt what it delivers and delivery fails",
            )

        # Role.
        role_policy: iam.ManagedPolicy | None = None
        if use_service_linked_role:
            role_arn = stack.format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name=SERVICE_LINKED_ROLE_NAME,
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
            self.role = iam.Role.from_role_arn(self, "ServiceLinkedRole", role_arn, mutable=False)
        else:
            role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("config.amazonaws.com").with_conditions(
                    {"StringEquals": {"AWS:SourceAccount": account}}
                ),
                description="Lets AWS Config in this account record resources and deliver what it records",
                managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWS_ConfigRole")],
            )
            _nag.acknowledge(
                role,
                "AWS documents the managed policy service-role/AWS_ConfigRole for the Config recorder role; "
                "AWS keeps it current as Config supports new resource types, which a copy would not.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
            )
            self.role = role
            role_arn = role.role_arn

        # Configuration stream topic, encrypted with a key Config may use.
        if configuration_stream:
            if stream_topic is None:
                own_key = key is None
                if key is None:
                    key = _log_groups.new_key(
                        self,
                        description="Encrypts the AWS Config configuration stream topic",
                        removal_policy=removal_policy,
                    )
                sid = "AllowConfigToPublishToEncryptedTopic"
                _brought.add_statements(
                    self,
                    key,
                    [
                        policies.service_publish_key_statement(
                            sid=sid if own_key else _brought.unique_sid(self, sid),
                            services=["config.amazonaws.com"],
                            account_id=account,
                        )
                    ],
                    prop="key",
                    helper="service_publish_key_statement",
                    consequence="the configuration stream topic silently drops what AWS Config sends",
                )
                self.key = key
                stream_topic = sns.Topic(
                    self,
                    "Topic",
                    display_name="AWS Config configuration stream",
                    master_key=key,
                    enforce_ssl=True,
                )
            elif stream_topic.master_key is not None:
                sid = "AllowConfigToPublishToEncryptedTopic"
                _brought.add_statements(
                    self,
                    stream_topic.master_key,
                    [
                        policies.service_publish_key_statement(
                            sid=_brought.unique_sid(self, sid), services=["config.amazonaws.com"], account_id=account
                        )
                    ],
                    prop="stream_topic key",
                    helper="service_publish_key_statement",
                    consequence="the configuration stream topic silently drops what AWS Config sends",
                )
            _brought.add_statements(
                self,
                stream_topic,
                [
                    policies.service_publish_topic_statement(
                        sid="AWSConfigSNSPolicy",
                        topic_arn=stream_topic.topic_arn,
                        services=["config.amazonaws.com"],
                        conditions={"StringEquals": {"AWS:SourceAccount": account}},
                    )
                ],
                prop="stream_topic",
                helper="service_publish_topic_statement",
                consequence="AWS Config cannot publish the configuration stream",
            )
            self.topic = stream_topic

        # What the role needs beyond AWS_ConfigRole to deliver (AWS documents these for a role;
        # the service-linked role has them). A managed policy, not an inline one (IAMNoInlinePolicy).
        if isinstance(self.role, iam.Role):
            delivery_path = f"{bucket.bucket_arn}/{policies._prefixed(bucket_prefix, f'AWSLogs/{account}/Config/*')}"
            statements = [
                iam.PolicyStatement(
                    sid="AWSConfigBucketDelivery",
                    actions=["s3:PutObject", "s3:PutObjectAcl"],
                    resources=[delivery_path],
                    conditions={"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                ),
                iam.PolicyStatement(
                    sid="AWSConfigBucketPermissionsCheck", actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]
                ),
            ]
            if bucket_key is not None:
                statements.append(
                    iam.PolicyStatement(
                        sid="AWSConfigKMSPolicy",
                        actions=["kms:Decrypt", "kms:GenerateDataKey"],
                        resources=[bucket_key.key_arn],
                    )
                )
            if self.topic is not None:
                statements.append(
                    iam.PolicyStatement(
                        sid="AWSConfigSNSPolicy", actions=["sns:Publish"], resources=[self.topic.topic_arn]
                    )
                )
            if self.key is not None:
                statements.append(
                    iam.PolicyStatement(
                        sid="AWSConfigTopicKey",
                        actions=["kms:Decrypt", "kms:GenerateDataKey"],
                        resources=[self.key.key_arn],
                    )
                )
            role_policy = iam.ManagedPolicy(
                self,
                "DeliveryPolicy",
                description="AWS Config: deliver configuration history, snapshots and the stream, nothing else",
                roles=[self.role],
                statements=statements,
            )
            _nag.acknowledge(
                role_policy,
                "AWS Config writes objects under AWSLogs/<account>/Config/ with names it chooses; the "
                "wildcard covers only this account's Config prefix, as AWS documents for the recorder role.",
                f"AwsSolutions-IAM5[Resource::{_nag.rendered(self, delivery_path)}]",
            )
            self.role_policy = role_policy

        self.recorder = config.CfnConfigurationRecorder(
            self,
            "Resource",
            name=self.recorder_name,
            role_arn=role_arn,
            recording_group=(
                self._recording_group(include_global_resource_types, excluded_resource_types)
                if global_resource_types_condition is None
                else cdk.Fn.condition_if(
                    global_resource_types_condition.logical_id,
                    self._recording_group_document(True, excluded_resource_types),
                    self._recording_group_document(False, excluded_resource_types),
                )
            ),
            recording_mode=config.CfnConfigurationRecorder.RecordingModeProperty(
                recording_frequency=recording_frequency.value,
                recording_mode_overrides=[
                    config.CfnConfigurationRecorder.RecordingModeOverrideProperty(
                        recording_frequency=override.frequency.value,
                        resource_types=list(override.resource_types),
                        description=override.description,
                    )
                    for override in frequency_overrides
                ]
                or None,
            ),
        )
        if role_policy is not None:
            self.recorder.node.add_dependency(role_policy)

        # Config refuses a delivery channel before a recorder exists.
        self.delivery_channel = config.CfnDeliveryChannel(
            self,
            "DeliveryChannel",
            name=self.recorder_name,
            s3_bucket_name=bucket.bucket_name,
            s3_key_prefix=bucket_prefix,
            s3_kms_key_arn=bucket_key.key_arn if bucket_key is not None else None,
            sns_topic_arn=self.topic.topic_arn if self.topic is not None else None,
            config_snapshot_delivery_properties=config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
                delivery_frequency=snapshot_delivery_frequency.value
            ),
        )
        self.delivery_channel.node.add_dependency(self.recorder)
        if bucket.policy is not None:
            self.delivery_channel.node.add_dependency(bucket.policy)

    @classmethod
    def _recording_group_document(cls, include_global_resource_types: bool, excluded_resource_types: list[str]) -> dict:
        """The recording group as CloudFormation JSON, for use inside ``Fn::If`` (where the
        property classes are not translated to CloudFormation names)."""
        group = cls._recording_group(include_global_resource_types, excluded_resource_types)
        document: dict = {
            "AllSupported": group.all_supported,
            "IncludeGlobalResourceTypes": group.include_global_resource_types,
            "RecordingStrategy": {"UseOnly": group.recording_strategy.use_only},
        }
        if group.exclusion_by_resource_types is not None:
            document["ExclusionByResourceTypes"] = {
                "ResourceTypes": list(group.exclusion_by_resource_types.resource_types)
            }
        return document

    @staticmethod
    def _recording_group(
        include_global_resource_types: bool, excluded_resource_types: list[str]
    ) -> config.CfnConfigurationRecorder.RecordingGroupProperty:
        group = config.CfnConfigurationRecorder.RecordingGroupProperty
        if not excluded_resource_types:
            return group(
                all_supported=True,
                include_global_resource_types=include_global_resource_types,
                recording_strategy=config.CfnConfigurationRecorder.RecordingStrategyProperty(
                    use_only="ALL_SUPPORTED_RESOURCE_TYPES"
                ),
            )
        # With the exclusion strategy Config records the global IAM types in every region unless
        # they are excluded, so outside the home region they join the exclusions.
        excluded = set(excluded_resource_types)
        if not include_global_resource_types:
            excluded |= set(GLOBAL_IAM_RESOURCE_TYPES)
        return group(
            all_supported=False,
            include_global_resource_types=False,
            exclusion_by_resource_types=config.CfnConfigurationRecorder.ExclusionByResourceTypesProperty(
                resource_types=sorted(excluded)
            ),
            recording_strategy=config.CfnConfigurationRecorder.RecordingStrategyProperty(
                use_only="EXCLUSION_BY_RESOURCE_TYPES"
            ),
        )

    def grant_read_history(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read what Config delivers for this account (objects under
        ``[prefix/]AWSLogs/<account>/Config/``), and decrypt them with ``bucket_key`` when given.

        :return: one grant combining the bucket and key grants.
        """
        if self.bucket is None:
            raise ValueError(
                f"ConfigRecorder({self.node.path}).grant_read_history: this recorder is adopted "
                f"(existing_recorder_name={self.recorder_name!r}); grant on the bucket it delivers to"
            )
        account = cdk.Stack.of(self).account
        grant = self.bucket.grant_read(grantee, policies._prefixed(self._bucket_prefix, f"AWSLogs/{account}/Config/*"))
        if self._bucket_key is not None:
            grant = grant.combine(self._bucket_key.grant_decrypt(grantee))
        return grant

    def metric_configuration_items_recorded(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Configuration items Config recorded of one resource type (``AWS/Config``
        ``ConfigurationItemsRecorded``, dimension ``ResourceType``: AWS documents it "for each resource
        type", ``health.CONFIG_METRICS_DOCUMENTATION``): the volume Config bills. Default: Sum over 5 minutes.

        :param options: ``dimensions_map={"ResourceType": "AWS::EC2::Instance"}`` is required: the metric
            has no series without it. ``ValueError`` otherwise.
        """
        if "ResourceType" not in (options.get("dimensions_map") or {}):
            raise ValueError(
                f"ConfigRecorder({self.node.path}).metric_configuration_items_recorded: "
                f"dimensions_map {options.get('dimensions_map')!r} has no 'ResourceType': AWS Config publishes "
                "ConfigurationItemsRecorded per resource type; pass dimensions_map={'ResourceType': 'AWS::EC2::Instance'}"
            )
        return metric(
            f"ConfigRecorder({self.node.path})",
            namespace=CONFIG_METRICS_NAMESPACE,
            metric_name="ConfigurationItemsRecorded",
            options=options,
        )

    def metric_snapshot_export_failed(
        self,
        *,
        period: cdk.Duration | None = None,
        label: str | None = None,
        color: str | None = None,
    ) -> cloudwatch.MathExpression:
        """Failed configuration snapshot deliveries to the bucket (``AWS/Config``
        ``ConfigSnapshotExportFailed``): above zero means the bucket or key policy no longer admits
        Config. A Metrics Insights query summing every series of the metric
        (``health.config_failure_query``), because AWS does not document its dimensions.

        :param period: Default: five minutes.
        :param label: Default: the metric name.
        :param color: Default: automatic.
        """
        return cloudwatch.MathExpression(
            expression=config_failure_query("ConfigSnapshotExportFailed"),
            period=period if period is not None else DEFAULT_PERIOD,
            label=label if label is not None else "ConfigSnapshotExportFailed",
            color=color,
        )

    @property
    def dependables(self) -> list[IDependable]:
        """What a rule or conformance pack must wait for: the recorder and its delivery channel."""
        return [d for d in (self.recorder, self.delivery_channel) if d is not None]
