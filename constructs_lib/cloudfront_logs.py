"""CloudFront access logs: a bucket CloudFront can write to, legacy and v2 standard logging, an aspect.

Standard logging (legacy) writes to S3 through bucket ACLs: the bucket must allow ACLs
(``BucketOwnerPreferred``), CloudFront grants the ``awslogsdelivery`` account FULL_CONTROL, an
SSE-KMS bucket needs a customer key that grants ``delivery.logs.amazonaws.com``, and buckets in
af-south-1, ap-east-1, ap-southeast-3, eu-south-1 and me-south-1 receive nothing. Standard
logging v2 (``AWS::Logs::DeliverySource`` / ``DeliveryDestination`` / ``Delivery``) needs no ACLs
and delivers to CloudWatch Logs or S3.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from constructs_lib import _brought, _log_groups, _nag, _names, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import MetricOptions, Unpack
from constructs_lib.log_bucket import LifecycleOptions, LogBucket

LOG_DELIVERY_SERVICE = policies.LOG_DELIVERY_SERVICE

#: Regions whose buckets CloudFront standard logging (legacy) cannot deliver to.
UNSUPPORTED_BUCKET_REGIONS = ("af-south-1", "ap-east-1", "ap-southeast-3", "eu-south-1", "me-south-1")
#: ObjectOwnership settings that keep ACLs enabled, as legacy logging needs.
ACL_OWNERSHIPS = ("BucketOwnerPreferred", "ObjectWriter")
#: Region where CloudFront standard logging v2 delivery sources must be created.
V2_SOURCE_REGION = "us-east-1"
#: The cdk-nag finding a distribution raises when its logging is turned on here (through a property
#: override or standard logging v2): cdk-nag reads the L1 properties before overrides and does not
#: know v2 deliveries. The distribution is the caller's, so the acknowledgement is theirs to give
#: (the template does log); the library hides no finding on a resource it did not create.
CLOUDFRONT_LOGGING_NAG_FINDING = "AwsSolutions-CFR3"
_LOGGING_MARK = "constructs_lib:cloudfront-standard-logging"
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]{0,255}$")


def _resolved_region(scope: IConstruct) -> str | None:
    region = cdk.Stack.of(scope).region
    return None if cdk.Token.is_unresolved(region) else region


def _object_ownership(bucket: s3.IBucket) -> str | None:
    """ObjectOwnership of a bucket defined in this app; ``None`` when it cannot be known (imported)."""
    child = bucket.node.default_child
    if not isinstance(child, s3.CfnBucket):
        return None
    controls = cdk.Stack.of(child).resolve(child._cfn_properties).get("ownershipControls")
    rules = (controls or {}).get("rules") or []
    for rule in rules:
        if isinstance(rule, dict) and "objectOwnership" in rule:
            return str(rule["objectOwnership"])
    # S3 disables ACLs on every bucket created since April 2023 unless told otherwise.
    return "BucketOwnerEnforced"


def legacy_logging_bucket_problems(bucket: s3.IBucket) -> list[str]:
    """Why CloudFront standard logging (legacy) could not write to ``bucket``; empty when it can (or cannot be known)."""
    problems: list[str] = []
    ownership = _object_ownership(bucket)
    if ownership is not None and ownership not in ACL_OWNERSHIPS:
        problems.append(
            f"bucket {bucket.node.path} has ObjectOwnership {ownership} (ACLs disabled), but CloudFront standard "
            'logging writes through ACLs ("The S3 bucket that you specified for CloudFront logs does not enable '
            'ACL access"): use CloudFrontAccessLogs, object_ownership=BUCKET_OWNER_PREFERRED, or standard logging v2'
        )
    region = _resolved_region(bucket)
    if bucket.node.default_child is not None and region in UNSUPPORTED_BUCKET_REGIONS:
        problems.append(
            f"bucket {bucket.node.path} is in {region}, where CloudFront cannot deliver standard logs "
            f"(not in {', '.join(UNSUPPORTED_BUCKET_REGIONS)}): put the bucket in another region"
        )
    return problems


def enable_standard_logging(
    distribution: cloudfront.IDistribution | cloudfront.CfnDistribution,
    bucket: s3.IBucket,
    *,
    prefix: str | None = None,
    include_cookies: bool = False,
) -> None:
    """Turn on CloudFront standard logging (legacy) of ``distribution`` into ``bucket``.

    ``ValueError`` at synth when the bucket has ACLs disabled or sits in a region CloudFront
    cannot deliver to. cdk-nag then reports ``CLOUDFRONT_LOGGING_NAG_FINDING`` (``AwsSolutions-CFR3``)
    on the distribution although its template logs (cdk-nag reads it before the property
    override): acknowledge it on your distribution.

    :param prefix: key prefix of the log files, say ``cloudfront/<name>/``. Default: none.
    :param include_cookies: log cookies too. Default: False.
    """
    cfn = distribution if isinstance(distribution, cloudfront.CfnDistribution) else distribution.node.default_child
    problems = Problems(f"enable_standard_logging({distribution.node.path})")
    if not isinstance(cfn, cloudfront.CfnDistribution):
        problems.add(
            "distribution must be a cloudfront.Distribution or CfnDistribution defined in this app "
            f"(got {type(distribution).__name__}): an imported distribution's logging cannot be changed here"
        )
    if isinstance(cfn, cloudfront.CfnDistribution) and _has_legacy_logging(cfn):
        problems.add(
            "the distribution already has standard logging (legacy) configured; a distribution logs to one "
            "bucket: drop the other setting, or add CloudFrontStandardLoggingV2 for a second destination"
        )
    for problem in legacy_logging_bucket_problems(bucket):
        problems.add(problem)
    if prefix is not None and (not _PREFIX.match(prefix) or prefix.startswith("/")):
        problems.add(f"prefix {prefix!r} is not an S3 key prefix (letters, digits, !_.*'()/-; no leading '/')")
    problems.raise_if_any()
    assert isinstance(cfn, cloudfront.CfnDistribution)
    logging: dict[str, Any] = {"Bucket": bucket.bucket_regional_domain_name, "IncludeCookies": include_cookies}
    if prefix:
        logging["Prefix"] = prefix
    cfn.add_property_override("DistributionConfig.Logging", logging)
    cfn.node.add_metadata(_LOGGING_MARK, "legacy")


def _has_legacy_logging(cfn: cloudfront.CfnDistribution) -> bool:
    """Whether the distribution's own ``Logging`` is set (in its properties or by this library)."""
    if any(entry.type == _LOGGING_MARK and entry.data == "legacy" for entry in cfn.node.metadata):
        return True
    config = cdk.Stack.of(cfn).resolve(cfn._cfn_properties).get("distributionConfig") or {}
    return bool(config.get("logging"))


def _has_standard_logging(cfn: cloudfront.CfnDistribution) -> bool:
    """Whether the distribution logs anywhere: legacy logging or v2 set up through this library."""
    return _has_legacy_logging(cfn) or any(entry.type == _LOGGING_MARK for entry in cfn.node.metadata)


class CloudFrontAccessLogs(Construct):
    """An S3 bucket that CloudFront standard logging (legacy) can write to, and helpers to use it.

    ObjectOwnership BucketOwnerPreferred (ACLs enabled, as CloudFront needs), versioned, TLS only,
    all public access blocked, lifecycle, RETAIN, its own accesses logged.

    Example::

        from constructs_lib import CloudFrontAccessLogs

        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        access_logs.enable_logging(distribution, prefix="shop/")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        lifecycle: LifecycleOptions | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param bucket_name: Default: generated by CloudFormation.
        :param encryption_key: a customer key for SSE-KMS; a key created in this app gets the
            statement letting ``delivery.logs.amazonaws.com`` use it. Default: SSE-S3.
        :param lifecycle: Default: ``LifecycleOptions()`` (Glacier after 90 days, expire after 7 years).
        :param access_logs_bucket: receives this bucket's S3 server access logs. Default: a new
            SSE-S3 access-log bucket.
        :param removal_policy: Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        region = _resolved_region(self)
        problems = Problems(f"CloudFrontAccessLogs({self.node.path})")
        problems.check_type("bucket_name", bucket_name, str, optional=True)
        problems.check_resource("encryption_key", encryption_key, "kms.IKey")
        problems.check_type("lifecycle", lifecycle, LifecycleOptions, optional=True)
        problems.check_resource("access_logs_bucket", access_logs_bucket, "s3.IBucket")
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy, optional=True)
        problems.check(
            region not in UNSUPPORTED_BUCKET_REGIONS,
            f"the stack's region {region} is one CloudFront cannot deliver standard logs to "
            f"({', '.join(UNSUPPORTED_BUCKET_REGIONS)}): create the log bucket in a stack in another region",
        )
        problems.raise_if_any()
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        if access_logs_bucket is None:
            access_logs_bucket = LogBucket(
                self, "AccessLogsBucket", server_access_logs=False, lifecycle=lifecycle, removal_policy=removal_policy
            ).bucket
        self.access_logs_bucket: s3.IBucket = access_logs_bucket
        #: The ``LogBucket`` behind ``bucket`` (its metrics and grants).
        self.log_bucket = LogBucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption_key=encryption_key,
            lifecycle=lifecycle,
            access_logs_bucket=access_logs_bucket,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=removal_policy,
        )
        self.bucket: s3.IBucket = self.log_bucket.bucket
        self.encryption_key = encryption_key
        if encryption_key is not None:
            _brought.add_statements(
                self,
                encryption_key,
                [policies.cloudfront_logs_key_statement()],
                prop="encryption_key",
                helper="cloudfront_logs_key_statement",
                consequence="CloudFront cannot write access logs into the SSE-KMS bucket",
            )
        else:
            _nag.acknowledge(
                self.bucket,
                "CloudFront standard logging writes with SSE-S3 unless given a customer key; objects are "
                "encrypted at rest and the bucket is TLS-only.",
                *_nag.in_compliance_packs("S3DefaultEncryptionKMS"),
            )

    def grant_read(self, grantee: iam.IGrantable, objects_key_pattern: str = "*") -> iam.Grant:
        """Let ``grantee`` read the access logs (objects matching ``objects_key_pattern``, say
        ``shop/*``), decrypting them with ``encryption_key`` when given. Default: every object."""
        return self.log_bucket.grant_read(grantee, objects_key_pattern)

    def metric_bucket_size_bytes(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Bytes of access logs in S3 Standard (``AWS/S3``). Default: Average over 1 day."""
        return self.log_bucket.metric_bucket_size_bytes(**options)

    def metric_number_of_objects(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Access-log objects stored (``AWS/S3``). Default: Average over 1 day."""
        return self.log_bucket.metric_number_of_objects(**options)

    def enable_logging(
        self,
        distribution: cloudfront.IDistribution | cloudfront.CfnDistribution,
        *,
        prefix: str | None = None,
        include_cookies: bool = False,
    ) -> None:
        """Turn on standard logging (legacy) of ``distribution`` into this bucket (see ``enable_standard_logging``)."""
        enable_standard_logging(distribution, self.bucket, prefix=prefix, include_cookies=include_cookies)


class OutputFormat(enum.Enum):
    """Record format of standard logging v2 (``parquet`` only to S3)."""

    JSON = "json"
    PLAIN = "plain"
    W3C = "w3c"
    PARQUET = "parquet"


class CloudFrontStandardLoggingV2(Construct):
    """CloudFront standard logging v2: delivery source, destination and delivery, no ACLs needed.

    The delivery source must be created in us-east-1 (where CloudFront's control plane lives), so
    put this construct in a us-east-1 stack. CloudWatch Logs adds the resource policy that lets
    ``delivery.logs.amazonaws.com`` write to a log group itself; a bucket created in this app gets
    the documented bucket-policy statements here. cdk-nag does not know v2 deliveries and reports
    ``CLOUDFRONT_LOGGING_NAG_FINDING`` on the distribution: acknowledge it on your distribution.

    Example::

        from constructs_lib import CloudFrontStandardLoggingV2

        CloudFrontStandardLoggingV2(stack, "AccessLogsV2", distribution=distribution, log_group=group)
        CloudFrontStandardLoggingV2(stack, "AccessLogsV2S3", distribution=distribution, bucket=bucket)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        distribution: cloudfront.IDistribution,
        log_group: logs.ILogGroup | None = None,
        bucket: s3.IBucket | None = None,
        output_format: OutputFormat | None = None,
        name: str | None = None,
        retention: logs.RetentionDays | None = None,
        s3_suffix_path: str | None = None,
        hive_compatible_path: bool = False,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param distribution: the distribution whose access logs are delivered.
        :param log_group: CloudWatch Logs destination. Give this or ``bucket``.
            Default: a new KMS-encrypted log group ``/aws/cloudfront/<name>`` when neither is given.
        :param bucket: S3 destination. Give this or ``log_group``. Default: none.
        :param output_format: Default: JSON (CloudWatch Logs), PARQUET (S3).
        :param name: base name of the delivery source and destination (unique per account and region;
            asking twice for one name in an account and region fails at synth, naming both paths).
            Default: a name derived from the construct path (``<stack>-<path>-<hash>``, at most 50
            characters), so two uses never collide.
        :param retention: of a new log group. Default: one year.
        :param s3_suffix_path: partitioning below the bucket, say ``{DistributionId}/{yyyy}/{MM}/{dd}/{HH}``.
            Default: the service default.
        :param hive_compatible_path: Hive-compatible S3 paths. Default: False.
        :param removal_policy: of the key and log group created here. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        region = _resolved_region(self)
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        problems = Problems(f"CloudFrontStandardLoggingV2({self.node.path})")
        problems.check_resource("distribution", distribution, "cloudfront.IDistribution", optional=False)
        problems.check_resource("log_group", log_group, "logs.ILogGroup")
        problems.check_resource("bucket", bucket, "s3.IBucket")
        problems.check_enum("output_format", output_format, OutputFormat, optional=True)
        problems.check_type("name", name, str, optional=True)
        problems.check_enum("retention", retention, logs.RetentionDays, optional=True)
        problems.check_type("s3_suffix_path", s3_suffix_path, str, optional=True)
        problems.check_type("hive_compatible_path", hive_compatible_path, bool)
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        problems.raise_if_any()
        problems.check(
            not (log_group is not None and bucket is not None),
            "give log_group or bucket, not both: one CloudFrontStandardLoggingV2 per destination",
        )
        problems.check(
            region in (None, V2_SOURCE_REGION),
            f"the stack's region is {region}, but CloudFront delivery sources exist only in {V2_SOURCE_REGION} "
            "(elsewhere: 'PutDeliverySource action is not supported for this LogType'): put this construct in a "
            "us-east-1 stack",
        )
        if name is not None:
            problems.check(
                bool(re.match(r"^[\w-]{1,50}$", name)),
                f"name {name!r} must be 1-50 letters, digits, '_' or '-' (the delivery names append a suffix)",
            )
        if output_format is OutputFormat.PARQUET:
            problems.check(bucket is not None, "output_format PARQUET is for S3 only: give bucket, or JSON/PLAIN/W3C")
        if bucket is None:
            problems.check(
                s3_suffix_path is None and not hive_compatible_path,
                "s3_suffix_path and hive_compatible_path apply to an S3 destination, but bucket is None",
            )
        if log_group is not None or bucket is not None:
            problems.check(retention is None, "retention applies only to a new log group, but a destination was given")
        problems.raise_if_any()
        if name is None:
            name = _names.unique(self, name_prefix=None, suffix="", max_length=50)
        _names.claim(self, "CloudWatch Logs delivery source name", f"{name}-source")
        _names.claim(self, "CloudWatch Logs delivery destination name", f"{name}-destination")
        self.name = name

        self.key: kms.IKey | None = None
        if bucket is None and log_group is None:
            group_name = f"/aws/cloudfront/{name}"
            self.key, created = _log_groups.encrypted_log_groups(
                self,
                log_groups={"LogGroup": group_name},
                key=None,
                key_description=f"Encrypts CloudFront access logs delivered to {group_name}",
                retention=retention,
                removal_policy=removal_policy,
            )
            log_group = created["LogGroup"]
        self.log_group = log_group
        self.bucket = bucket

        self.source = logs.CfnDeliverySource(
            self,
            "Source",
            name=f"{name}-source",
            log_type="ACCESS_LOGS",
            resource_arn=distribution.distribution_arn,
        )
        if bucket is not None:
            destination_arn = bucket.bucket_arn
            fmt = output_format if output_format is not None else OutputFormat.PARQUET
            _brought.add_statements(
                self,
                bucket,
                policies.cloudfront_v2_bucket_statements(
                    bucket_arn=bucket.bucket_arn, account_id=stack.account, source_region=V2_SOURCE_REGION
                ),
                prop="bucket",
                helper="cloudfront_v2_bucket_statements",
                consequence="log delivery cannot write the access logs into the bucket",
            )
        else:
            assert log_group is not None
            destination_arn = log_group.log_group_arn
            fmt = output_format if output_format is not None else OutputFormat.JSON
        self.destination = logs.CfnDeliveryDestination(
            self,
            "Destination",
            name=f"{name}-destination",
            destination_resource_arn=destination_arn,
            output_format=fmt.value,
        )
        self.delivery = logs.CfnDelivery(
            self,
            "Resource",
            delivery_source_name=self.source.ref,
            delivery_destination_arn=self.destination.attr_arn,
            s3_suffix_path=s3_suffix_path,
            s3_enable_hive_compatible_path=True if hive_compatible_path else None,
        )
        if bucket is not None and bucket.policy is not None:
            self.delivery.node.add_dependency(bucket.policy)
        cfn = distribution.node.default_child
        if isinstance(cfn, cloudfront.CfnDistribution):
            # Marks the distribution as logging (for AccessLogsForEveryDistribution). cdk-nag's
            # CLOUDFRONT_LOGGING_NAG_FINDING on it is the distribution owner's to acknowledge.
            cfn.node.add_metadata(_LOGGING_MARK, "v2")


@jsii.implements(cdk.IAspect)
class AccessLogsForEveryDistribution:
    """Aspect: turns on standard logging (legacy) into ``bucket`` for every distribution without logging.

    Distributions that already log (their own ``Logging`` or one set through this library) keep
    their settings::

        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        cdk.Aspects.of(app).add(AccessLogsForEveryDistribution(access_logs.bucket))
    """

    def __init__(self, bucket: s3.IBucket, *, prefix: str | None = None, include_cookies: bool = False) -> None:
        """
        :param bucket: a bucket with ACLs enabled outside the regions CloudFront cannot deliver to.
        :param prefix: key prefix for all their logs. Default: none.
        :param include_cookies: Default: False.
        """
        self._bucket = bucket
        self._prefix = prefix
        self._include_cookies = include_cookies

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudfront.CfnDistribution) and not _has_standard_logging(node):
            enable_standard_logging(node, self._bucket, prefix=self._prefix, include_cookies=self._include_cookies)
