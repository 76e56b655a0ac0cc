"""One concept, one place: a KMS key, the CloudWatch Logs statement on it, retained encrypted log groups.

Every construct that creates log groups (``AuditTrail``, ``CloudFrontStandardLoggingV2``,
``CloudWatchAgent``, ``EventRouting``, ``VpcFlowLogs``) builds them here, so a brought key is
treated the same everywhere: one of this app gets the statement (with a Sid of its own, since
other constructs may add theirs to the same key), an imported one gets a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib import _brought, _names, policies

#: Retention of every log group the library creates unless told otherwise (CIS asks for at least a year).
DEFAULT_RETENTION = logs.RetentionDays.ONE_YEAR


def new_key(
    scope: Construct, *, description: str, removal_policy: cdk.RemovalPolicy, construct_id: str = "Key"
) -> kms.Key:
    """A customer key with rotation, child ``construct_id`` of ``scope`` (ids are pinned: keep ``Key``)."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
    )


def allow_logs(scope: Construct, key: kms.IKey, log_group_names: Sequence[str], *, own_key: bool) -> bool:
    """Let CloudWatch Logs encrypt ``log_group_names`` with ``key``.

    :param own_key: ``key`` was created by ``scope`` (the statement keeps the plain Sid);
        otherwise the Sid is made unique to ``scope`` and an imported key gets a warning.
    :return: whether the statement is on the key.
    """
    stack = cdk.Stack.of(scope)
    statement = policies.logs_key_statement(
        log_group_arns=[policies.log_group_arn(stack, name) for name in log_group_names],
        region=stack.region,
        sid=("AllowCloudWatchLogsToUseKey" if own_key else _brought.unique_sid(scope, "AllowCloudWatchLogs")),
    )
    return _brought.add_statements(
        scope,
        key,
        [statement],
        prop="key",
        helper="logs_key_statement",
        consequence="CloudWatch Logs refuses to create the encrypted log groups "
        f"({', '.join(log_group_names)}) with AccessDeniedException",
    )


def new_log_group(
    scope: Construct,
    construct_id: str,
    *,
    log_group_name: str,
    key: kms.IKey,
    retention: logs.RetentionDays | None,
    removal_policy: cdk.RemovalPolicy,
) -> logs.LogGroup:
    """A log group encrypted with ``key``, retained, with ``retention`` (default one year).

    Its name is claimed for the app: a second construct creating the same log group in the same
    account and region fails at synth, naming both.
    """
    _names.claim(scope, "log group name", log_group_name)
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        encryption_key=key,
        retention=retention if retention is not None else DEFAULT_RETENTION,
        removal_policy=removal_policy,
    )


def encrypted_log_groups(
    scope: Construct,
    *,
    log_groups: Mapping[str, str],
    key: kms.IKey | None,
    key_description: str,
    retention: logs.RetentionDays | None,
    removal_policy: cdk.RemovalPolicy,
) -> tuple[kms.IKey, dict[str, logs.LogGroup]]:
    """The key (``key`` or a new one, ``Key``) with the CloudWatch Logs statement, and the log groups.

    :param log_groups: construct id -> log group name of each group to create.
    :return: the key and the log groups by construct id.
    """
    own_key = key is None
    if key is None:
        key = new_key(scope, description=key_description, removal_policy=removal_policy)
    allow_logs(scope, key, list(log_groups.values()), own_key=own_key)
    created = {
        construct_id: new_log_group(
            scope, construct_id, log_group_name=name, key=key, retention=retention, removal_policy=removal_policy
        )
        for construct_id, name in log_groups.items()
    }
    return key, created
