"""Resource-policy statements exactly as AWS documents them for the services of the baseline.

They are functions, not constructs, so a bucket or key in another stack (the log archive) gets
the same statements as one that ``AuditTrail`` creates itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

ORGANIZATION_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$")
TRAIL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")


def trail_arn(scope: IConstruct, *, trail_name: str, account: str | None = None, region: str | None = None) -> str:
    """ARN of a trail built from its fixed name.

    A bucket or key policy that referenced the trail's own ``Arn`` attribute would make a
    dependency cycle (the trail waits for the policy); the name is known before either exists.

    :param account: Default: the stack's account.
    :param region: the trail's home region. Default: the stack's region.
    """
    return cdk.Stack.of(scope).format_arn(
        service="cloudtrail",
        resource="trail",
        resource_name=trail_name,
        account=account,
        region=region,
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    """A single condition value as a string, as AWS documents the policies (and as people read them)."""
    return values[0] if len(values) == 1 else list(values)


def _prefixed(prefix: str | None, path: str) -> str:
    return f"{prefix.strip('/')}/{path}" if prefix else path


def cloudtrail_bucket_statements(
    *,
    bucket_arn: str,
    trail_arns: Sequence[str],
    account_ids: Sequence[str],
    organization_id: str | None = None,
    prefix: str | None = None,
) -> list[iam.PolicyStatement]:
    """Bucket-policy statements CloudTrail needs to deliver log files.

    ``s3:GetBucketAcl`` on the bucket and ``s3:PutObject`` on ``[prefix/]AWSLogs/<account>/*``
    (plus ``[prefix/]AWSLogs/<o-id>/*`` for an organization trail), both restricted to the
    given trails by ``aws:SourceArn``; missing, CloudTrail fails with
    ``InsufficientS3BucketPolicyException``.
    """
    principal = iam.ServicePrincipal("cloudtrail.amazonaws.com")
    source = {"aws:SourceArn": _one_or_many(trail_arns)}
    object_paths = [f"{bucket_arn}/{_prefixed(prefix, f'AWSLogs/{account}/*')}" for account in account_ids]
    if organization_id is not None:
        object_paths.append(f"{bucket_arn}/{_prefixed(prefix, f'AWSLogs/{organization_id}/*')}")
    return [
        iam.PolicyStatement(
            sid="AWSCloudTrailAclCheck",
            principals=[principal],
            actions=["s3:GetBucketAcl"],
            resources=[bucket_arn],
            conditions={"StringEquals": source},
        ),
        iam.PolicyStatement(
            sid="AWSCloudTrailWrite",
            principals=[principal],
            actions=["s3:PutObject"],
            resources=object_paths,
            conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}},
        ),
    ]


def cloudtrail_key_statements(
    *,
    trail_arns: Sequence[str],
    trail_account_ids: Sequence[str],
    reader_account_ids: Sequence[str],
    sid_suffix: str = "",
) -> list[iam.PolicyStatement]:
    """Key-policy statements for a key that encrypts CloudTrail log files.

    CloudTrail may generate data keys only under its own encryption context and only for the
    given trails; principals of ``reader_account_ids`` may decrypt log files (and nothing else)
    with it. Include the account that creates the trail: with an S3 Bucket Key, creating or
    updating an SSE-KMS trail needs ``kms:Decrypt`` (CloudTrail docs). The aws-cdk ``Trail``
    adds no key policy; missing, CloudTrail fails with ``InsufficientEncryptionPolicyException``.

    :param sid_suffix: appended to each Sid, for a key that several trails share (Sids are unique
        within a policy). Default: none.
    """
    principal = iam.ServicePrincipal("cloudtrail.amazonaws.com")
    partition = cdk.Aws.PARTITION
    contexts = [f"arn:{partition}:cloudtrail:*:{account}:trail/*" for account in trail_account_ids]
    source = {"aws:SourceArn": _one_or_many(trail_arns)}
    return [
        iam.PolicyStatement(
            sid=f"AllowCloudTrailToEncryptLogs{sid_suffix}"[:100],
            principals=[principal],
            actions=["kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                "StringEquals": source,
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": _one_or_many(contexts)},
            },
        ),
        iam.PolicyStatement(
            sid=f"AllowCloudTrailToDescribeKey{sid_suffix}"[:100],
            principals=[principal],
            actions=["kms:DescribeKey"],
            resources=["*"],
            conditions={"StringEquals": source},
        ),
        iam.PolicyStatement(
            sid=f"AllowLogReadersToDecryptLogFiles{sid_suffix}"[:100],
            principals=[iam.AccountPrincipal(account) for account in reader_account_ids],
            actions=["kms:Decrypt", "kms:ReEncryptFrom"],
            resources=["*"],
            conditions={
                "StringEquals": {"kms:CallerAccount": _one_or_many(reader_account_ids)},
                "Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"},
            },
        ),
    ]


def log_group_arn(scope: IConstruct, log_group_name: str) -> str:
    """ARN of a log group (or, with ``name:log-stream:...``, of its streams) in ``scope``'s stack,
    without the ``:*`` that ``LogGroup.log_group_arn`` ends in (key policies and EventBridge
    targets want it bare)."""
    return cdk.Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group_name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def logs_key_statement(
    *, log_group_arns: Sequence[str], region: str | None = None, sid: str = "AllowCloudWatchLogsToUseKey"
) -> iam.PolicyStatement:
    """Key-policy statement that lets CloudWatch Logs encrypt the given log groups with a key.

    :param sid: give each statement its own on a key several constructs share (Sids are unique
        within a policy).
    """
    region = region if region is not None else cdk.Aws.REGION
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources=["*"],
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _one_or_many(log_group_arns)}},
    )


def eventbridge_publish_key_statement(
    *, sid: str = "AllowEventBridgeToPublishToEncryptedTopics"
) -> iam.PolicyStatement:
    """Key-policy statement letting EventBridge rules deliver to SNS topics and SQS queues encrypted
    with this key.

    Deliberately without ``aws:SourceAccount`` / ``aws:SourceArn``: the KMS request EventBridge
    makes to deliver to an encrypted topic does not carry them, so such a condition drops every
    event silently. Limit publishers in the topic policy instead.
    """
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal("events.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],
    )


def eventbridge_log_group_statement(*, log_group_arn: str, sid: str) -> iam.PolicyStatement:
    """CloudWatch Logs resource-policy statement letting EventBridge rules write into a log group:
    EventBridge writes through the log group's resource policy, never through a role (EventBridge
    User Guide, "Permissions for Amazon CloudWatch Logs")."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[
            iam.ServicePrincipal("events.amazonaws.com"),
            iam.ServicePrincipal("delivery.logs.amazonaws.com"),
        ],
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[log_group_arn],
    )


def service_publish_key_statement(
    *, sid: str, services: Sequence[str], account_id: str, source_arns: Sequence[str] | None = None
) -> iam.PolicyStatement:
    """Key-policy statement letting AWS services publish to SNS topics encrypted with this key.

    Without it an encrypted topic silently drops what CloudWatch alarms or CloudTrail send it (the
    AWS-managed ``aws/sns`` key cannot grant this). Not for EventBridge: its delivery requests carry
    no ``aws:SourceAccount``; use ``eventbridge_publish_key_statement``.
    """
    conditions: dict[str, dict[str, object]] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arns:
        conditions["ArnLike"] = {"aws:SourceArn": _one_or_many(source_arns)}
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service) for service in services],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],
        conditions=conditions,
    )


def config_bucket_statements(
    *,
    bucket_arn: str,
    account_ids: Sequence[str],
    prefix: str | None = None,
    organization_id: str | None = None,
) -> list[iam.PolicyStatement]:
    """Bucket-policy statements AWS Config needs to deliver history files and snapshots.

    With ``organization_id`` the statements admit every account of the organization
    (``aws:SourceOrgID``, objects under ``AWSLogs/*/Config/*``), so an account that joins later
    delivers without a policy change, and the policy does not grow towards the 20 KB limit.

    ``s3:GetBucketAcl`` and ``s3:ListBucket`` on the bucket and ``s3:PutObject`` on
    ``[prefix/]AWSLogs/<account>/Config/*`` (with ``s3:x-amz-acl = bucket-owner-full-control``),
    all to ``config.amazonaws.com`` and only on behalf of ``account_ids`` (``AWS:SourceAccount``);
    missing, Config fails with ``InsufficientDeliveryPolicyException``.
    """
    principal = iam.ServicePrincipal("config.amazonaws.com")
    if organization_id is not None:
        source: dict[str, object] = {"aws:SourceOrgID": organization_id}
        object_paths = [f"{bucket_arn}/{_prefixed(prefix, 'AWSLogs/*/Config/*')}"]
    else:
        source = {"AWS:SourceAccount": _one_or_many(account_ids)}
        object_paths = [f"{bucket_arn}/{_prefixed(prefix, f'AWSLogs/{account}/Config/*')}" for account in account_ids]
    return [
        iam.PolicyStatement(
            sid="AWSConfigBucketPermissionsCheck",
            principals=[principal],
            actions=["s3:GetBucketAcl"],
            resources=[bucket_arn],
            conditions={"StringEquals": source},
        ),
        iam.PolicyStatement(
            sid="AWSConfigBucketExistenceCheck",
            principals=[principal],
            actions=["s3:ListBucket"],
            resources=[bucket_arn],
            conditions={"StringEquals": source},
        ),
        iam.PolicyStatement(
            sid="AWSConfigBucketDelivery",
            principals=[principal],
            actions=["s3:PutObject"],
            resources=object_paths,
            conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}},
        ),
    ]


def config_key_statement(*, account_ids: Sequence[str], organization_id: str | None = None) -> iam.PolicyStatement:
    """Key-policy statement letting AWS Config encrypt what it delivers for ``account_ids``
    (or, with ``organization_id``, for every account of the organization).

    Needed for a bucket whose default encryption (or the delivery channel's ``S3KmsKeyArn``) is
    this key: Config delivers into another account's bucket as ``config.amazonaws.com``.
    """
    return iam.PolicyStatement(
        sid="AWSConfigKMSPolicy",
        principals=[iam.ServicePrincipal("config.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resources=["*"],
        conditions={
            "StringEquals": (
                {"aws:SourceOrgID": organization_id}
                if organization_id is not None
                else {"AWS:SourceAccount": _one_or_many(account_ids)}
            )
        },
    )


LOG_DELIVERY_SERVICE = "delivery.logs.amazonaws.com"


def flow_logs_bucket_statements(
    *, bucket_arn: str, account_ids: Sequence[str], prefix: str | None = None, region: str = "*"
) -> list[iam.PolicyStatement]:
    """Bucket-policy statements that let log delivery write flow logs of ``account_ids``.

    As AWS documents them: ``s3:PutObject`` on ``[prefix/]AWSLogs/<account>/*`` with
    ``s3:x-amz-acl = bucket-owner-full-control``, and ``s3:GetBucketAcl`` + ``s3:ListBucket`` on
    the bucket, all to ``delivery.logs.amazonaws.com`` with ``aws:SourceAccount`` and an
    ``aws:SourceArn`` of CloudWatch Logs delivery in those accounts.

    :param region: region in ``aws:SourceArn``; ``*`` for a central bucket that receives flow
        logs from every governed region. Default: ``*``.
    """
    principal = iam.ServicePrincipal(LOG_DELIVERY_SERVICE)
    accounts = list(account_ids)
    source_account = accounts[0] if len(accounts) == 1 else accounts
    source_arns = [f"arn:{cdk.Aws.PARTITION}:logs:{region}:{account}:*" for account in accounts]
    conditions = {
        "StringEquals": {"aws:SourceAccount": source_account},
        "ArnLike": {"aws:SourceArn": source_arns[0] if len(source_arns) == 1 else source_arns},
    }
    object_paths = [
        f"{bucket_arn}/{prefix.strip('/') + '/' if prefix else ''}AWSLogs/{account}/*" for account in accounts
    ]
    return [
        iam.PolicyStatement(
            sid="AWSLogDeliveryAclCheck",
            principals=[principal],
            actions=["s3:GetBucketAcl", "s3:ListBucket"],
            resources=[bucket_arn],
            conditions=conditions,
        ),
        iam.PolicyStatement(
            # One statement per prefix; a Sid must be unique within the policy.
            sid="AWSLogDeliveryWrite" + "".join(c for c in (prefix or "").title() if c.isalnum()),
            principals=[principal],
            actions=["s3:PutObject"],
            resources=object_paths,
            conditions={
                **conditions,
                "StringEquals": {**conditions["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
            },
        ),
    ]


def flow_logs_key_statement(*, account_id: str, logs_arn: str) -> iam.PolicyStatement:
    """Key-policy statement letting log delivery write flow logs into a bucket encrypted with this key.

    :param logs_arn: ``aws:SourceArn`` pattern of CloudWatch Logs delivery, say
        ``arn:aws:logs:eu-west-1:111111111111:*``.
    """
    return iam.PolicyStatement(
        sid="AllowLogDeliveryToEncryptFlowLogs",
        principals=[iam.ServicePrincipal(LOG_DELIVERY_SERVICE)],
        actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": logs_arn}},
    )


def cloudfront_logs_key_statement() -> iam.PolicyStatement:
    """Key-policy statement letting CloudFront standard logging (legacy) write into an SSE-KMS bucket
    encrypted with this key (``kms:GenerateDataKey*`` to ``delivery.logs.amazonaws.com``)."""
    return iam.PolicyStatement(
        sid="AllowCloudFrontLogDeliveryToEncrypt",
        principals=[iam.ServicePrincipal(LOG_DELIVERY_SERVICE)],
        actions=["kms:GenerateDataKey*"],
        resources=["*"],
    )


def cloudfront_v2_bucket_statements(
    *, bucket_arn: str, account_id: str, source_region: str = "us-east-1"
) -> list[iam.PolicyStatement]:
    """Bucket-policy statement of CloudWatch vended logs (CloudFront standard logging v2) to S3, as AWS documents it."""
    return [
        iam.PolicyStatement(
            sid="AWSLogDeliveryWriteCloudFrontV2",
            principals=[iam.ServicePrincipal(LOG_DELIVERY_SERVICE)],
            actions=["s3:PutObject"],
            resources=[f"{bucket_arn}/AWSLogs/{account_id}/*"],
            conditions={
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": account_id},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:logs:{source_region}:{account_id}:delivery-source:*"
                },
            },
        )
    ]


def service_publish_topic_statement(
    *, sid: str, topic_arn: str, services: Sequence[str], conditions: Mapping[str, Mapping[str, object]] | None = None
) -> iam.PolicyStatement:
    """Topic-policy statement letting AWS ``services`` publish to ``topic_arn``
    (CloudTrail, AWS Config, CloudWatch alarms, EventBridge rules)."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service) for service in services],
        actions=["sns:Publish"],
        resources=[topic_arn],
        conditions=dict(conditions) if conditions else None,
    )


def server_access_logs_bucket_statement(
    *, bucket_arn: str, source_bucket_arn: str, account_id: str, prefix: str = ""
) -> iam.PolicyStatement:
    """Bucket-policy statement letting S3 server access logging of ``source_bucket_arn`` write into ``bucket_arn``."""
    return iam.PolicyStatement(
        sid="S3ServerAccessLogsPolicy",
        principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
        actions=["s3:PutObject"],
        resources=[f"{bucket_arn}/{prefix}*"],
        conditions={
            "ArnLike": {"aws:SourceArn": source_bucket_arn},
            "StringEquals": {"aws:SourceAccount": account_id},
        },
    )
