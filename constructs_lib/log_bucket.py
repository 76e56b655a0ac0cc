"""Secure S3 buckets for log data: one place for the defaults every log bucket of the baseline shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import _brought, _nag, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import MetricOptions, Unpack, metric


class ObjectLockMode(enum.Enum):
    """S3 Object Lock retention mode for the default retention of a log bucket."""

    #: Users with ``s3:BypassGovernanceRetention`` can still delete or shorten the lock.
    GOVERNANCE = "GOVERNANCE"
    #: Nobody, not even the root user, can delete a locked version before it expires.
    COMPLIANCE = "COMPLIANCE"


@dataclass(frozen=True, kw_only=True)
class ObjectLockOptions:
    """Default Object Lock retention (WORM) of a log bucket.

    :param mode: GOVERNANCE or COMPLIANCE.
    :param days: how long each new object version is locked, at least 1.
    """

    mode: ObjectLockMode
    days: int

    def __post_init__(self) -> None:
        problems = Problems("ObjectLockOptions")
        problems.check(
            isinstance(self.mode, ObjectLockMode),
            f"mode must be ObjectLockMode.GOVERNANCE or ObjectLockMode.COMPLIANCE (got {self.mode!r})",
        )
        problems.check(
            isinstance(self.days, int) and not isinstance(self.days, bool) and self.days >= 1,
            f"days must be a whole number of days >= 1 (got {self.days!r})",
        )
        problems.raise_if_any()

    def retention(self) -> s3.ObjectLockRetention:
        duration = cdk.Duration.days(self.days)
        if self.mode is ObjectLockMode.COMPLIANCE:
            return s3.ObjectLockRetention.compliance(duration)
        return s3.ObjectLockRetention.governance(duration)


@dataclass(frozen=True, kw_only=True)
class LifecycleOptions:
    """When log objects move to colder storage and when they expire.

    :param transition_after_days: move current versions to S3 Glacier Flexible Retrieval after
        this many days; ``None`` keeps them in S3 Standard. Default: 90.
    :param expire_after_days: expire current versions after this many days (noncurrent versions
        are removed 30 days after they become noncurrent); ``None`` keeps them forever.
        Default: 2557 (seven years).
    """

    transition_after_days: int | None = 90
    expire_after_days: int | None = 2557

    def __post_init__(self) -> None:
        problems = Problems("LifecycleOptions")
        for name in ("transition_after_days", "expire_after_days"):
            value = getattr(self, name)
            problems.check(
                value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1),
                f"{name} must be None or a whole number of days >= 1 (got {value!r})",
            )
        if (
            isinstance(self.transition_after_days, int)
            and isinstance(self.expire_after_days, int)
            and self.expire_after_days <= self.transition_after_days
        ):
            problems.add(
                f"expire_after_days ({self.expire_after_days}) must be greater than "
                f"transition_after_days ({self.transition_after_days}): objects would expire "
                "before they reach Glacier"
            )
        problems.raise_if_any()

    def rules(self) -> list[s3.LifecycleRule]:
        transitions = []
        if self.transition_after_days is not None:
            transitions.append(
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER,
                    transition_after=cdk.Duration.days(self.transition_after_days),
                )
            )
        return [
            s3.LifecycleRule(
                id="ArchiveThenExpire",
                enabled=True,
                transitions=transitions or None,
                expiration=(cdk.Duration.days(self.expire_after_days) if self.expire_after_days is not None else None),
                noncurrent_version_expiration=cdk.Duration.days(30),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
            )
        ]


class LogBucket(Construct):
    """A versioned, private, TLS-only, retained S3 bucket for log data.

    Example::

        from constructs_lib import LogBucket, LifecycleOptions

        access_logs = LogBucket(stack, "AccessLogs", server_access_logs=False)
        logs_bucket = LogBucket(
            stack,
            "Logs",
            encryption_key=key,
            lifecycle=LifecycleOptions(transition_after_days=30, expire_after_days=365),
            access_logs_bucket=access_logs.bucket,
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        lifecycle: LifecycleOptions | None = None,
        object_lock: ObjectLockOptions | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        access_logs_prefix: str | None = None,
        server_access_logs: bool = True,
        object_ownership: s3.ObjectOwnership | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param bucket_name: physical name. Default: generated by CloudFormation.
        :param encryption_key: SSE-KMS key (with an S3 bucket key to keep KMS costs down).
            Default: SSE-S3, the only encryption S3 server access log delivery accepts.
        :param lifecycle: transition and expiry. Default: ``LifecycleOptions()``
            (Glacier after 90 days, expire after seven years).
        :param object_lock: default Object Lock retention. Default: no Object Lock.
        :param access_logs_bucket: where S3 server access logs of this bucket go.
            Default: none, which needs ``server_access_logs=False``.
        :param access_logs_prefix: key prefix for those access logs. Default: ``<construct id>/``.
        :param server_access_logs: whether this bucket's accesses are logged. Set to False only
            for a bucket that itself receives access logs. Default: True.
        :param object_ownership: Default: BUCKET_OWNER_ENFORCED (ACLs disabled).
        :param removal_policy: Default: RETAIN, on stack deletion and on replacement.
        """
        super().__init__(scope, construct_id)
        # Access logs must reach their bucket through a bucket policy: the legacy
        # LogDeliveryWrite ACL cannot coexist with BucketOwnerEnforced (ACLs disabled).
        # Set here, not only in cdk.json, so the construct is safe in any app.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        problems = Problems(f"LogBucket({self.node.path})")
        problems.check_type("bucket_name", bucket_name, str, optional=True)
        problems.check_resource("encryption_key", encryption_key, "kms.IKey")
        problems.check_type("lifecycle", lifecycle, LifecycleOptions, optional=True)
        problems.check_type("object_lock", object_lock, ObjectLockOptions, optional=True)
        problems.check_resource("access_logs_bucket", access_logs_bucket, "s3.IBucket")
        problems.check_type("access_logs_prefix", access_logs_prefix, str, optional=True)
        problems.check_type("server_access_logs", server_access_logs, bool)
        problems.check_enum("object_ownership", object_ownership, s3.ObjectOwnership, optional=True)
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy, optional=True)
        problems.check(
            not (server_access_logs and access_logs_bucket is None),
            "access_logs_bucket is required while server_access_logs is True (got None): pass the "
            "bucket that receives S3 server access logs, or server_access_logs=False for that bucket itself",
        )
        problems.check(
            not (not server_access_logs and access_logs_bucket is not None),
            "access_logs_bucket was given with server_access_logs=False: drop one of them",
        )
        problems.raise_if_any()

        lifecycle = lifecycle if lifecycle is not None else LifecycleOptions()
        self.bucket = s3.Bucket(
            self,
            "Resource",
            bucket_name=bucket_name,
            encryption=(s3.BucketEncryption.KMS if encryption_key is not None else s3.BucketEncryption.S3_MANAGED),
            encryption_key=encryption_key,
            bucket_key_enabled=True if encryption_key is not None else None,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=(
                object_ownership if object_ownership is not None else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
            ),
            lifecycle_rules=lifecycle.rules(),
            object_lock_enabled=True if object_lock is not None else None,
            object_lock_default_retention=object_lock.retention() if object_lock is not None else None,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=(
                (access_logs_prefix if access_logs_prefix is not None else f"{construct_id}/")
                if access_logs_bucket is not None
                else None
            ),
            removal_policy=removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN,
        )
        if access_logs_bucket is not None and not isinstance(access_logs_bucket, s3.Bucket):
            # aws-cdk adds this statement to a bucket of this app; on an imported one it is a silent no-op.
            _brought.add_statements(
                self,
                access_logs_bucket,
                [
                    policies.server_access_logs_bucket_statement(
                        bucket_arn=access_logs_bucket.bucket_arn,
                        source_bucket_arn=self.bucket.bucket_arn,
                        account_id=cdk.Stack.of(self).account,
                        prefix=access_logs_prefix if access_logs_prefix is not None else f"{construct_id}/",
                    )
                ],
                prop="access_logs_bucket",
                helper="server_access_logs_bucket_statement",
                consequence="S3 delivers no server access logs of this bucket",
            )
        if not server_access_logs:
            _nag.acknowledge(
                self.bucket,
                "This bucket receives S3 server access logs; logging its own accesses into itself would loop.",
                "AwsSolutions-S1",
                *_nag.in_compliance_packs("S3BucketLoggingEnabled"),
            )
        if encryption_key is None:
            _nag.acknowledge(
                self.bucket,
                "S3 server access log delivery supports only SSE-S3 (AES256) on the destination bucket; "
                "objects are still encrypted at rest.",
                *_nag.in_compliance_packs("S3DefaultEncryptionKMS"),
            )
        _nag.acknowledge(
            self.bucket,
            "Log buckets are protected in place (versioning, TLS-only and deny-public policies, "
            "RETAIN, optional Object Lock); cross-region replication doubles storage cost and is a "
            "disaster-recovery choice each organization makes, not a safe default.",
            *_nag.in_compliance_packs("S3BucketReplicationEnabled"),
        )

    def grant_read(self, grantee: iam.IGrantable, objects_key_pattern: str = "*") -> iam.Grant:
        """Let ``grantee`` read objects matching ``objects_key_pattern`` (and decrypt them with the
        bucket's key, which ``s3.Bucket.grant_read`` includes). Default pattern: every object."""
        return self.bucket.grant_read(grantee, objects_key_pattern)

    def metric_bucket_size_bytes(
        self, storage_type: str = "StandardStorage", **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Bytes stored (``AWS/S3`` daily storage metric) in ``storage_type`` (``StandardStorage``,
        ``GlacierStorage``, ...). Default: Average over 1 day, as S3 reports it once a day."""
        return metric(
            f"LogBucket({self.node.path})",
            namespace="AWS/S3",
            metric_name="BucketSizeBytes",
            dimensions_map={"BucketName": self.bucket.bucket_name, "StorageType": storage_type},
            statistic="Average",
            period=cdk.Duration.days(1),
            options=options,
        )

    def metric_number_of_objects(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Objects stored, every storage class (``AWS/S3`` daily storage metric).
        Default: Average over 1 day."""
        return metric(
            f"LogBucket({self.node.path})",
            namespace="AWS/S3",
            metric_name="NumberOfObjects",
            dimensions_map={"BucketName": self.bucket.bucket_name, "StorageType": "AllStorageTypes"},
            statistic="Average",
            period=cdk.Duration.days(1),
            options=options,
        )
