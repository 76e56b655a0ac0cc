"""CloudTrail records shaped as CloudTrail delivers them to CloudWatch Logs (one JSON object per event).

Each ``CASES`` entry is a record and the exact set of detection keys whose pattern must match
it; ``near_miss_for`` names the detections it was written to almost trigger.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "111111111111"
_ids = itertools.count(1)

IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLEALICE0001",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAEXAMPLEALICE0001",
    "userName": "alice",
}
CONSOLE_IAM_USER = {key: value for key, value in IAM_USER.items() if key != "accessKeyId"}
ROOT = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLEROOT00001",
    "sessionContext": {"attributes": {"creationDate": "2024-05-01T09:58:00Z", "mfaAuthenticated": "true"}},
}
ROOT_VIA_SUPPORT = {**ROOT, "invokedBy": "support.amazonaws.com"}
ASSUMED_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEADMIN0001:bob",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/PlatformAdmin/bob",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLEBOB000001",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEADMIN0001",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/PlatformAdmin",
            "accountId": ACCOUNT,
            "userName": "PlatformAdmin",
        },
        "attributes": {"creationDate": "2024-05-01T09:00:00Z", "mfaAuthenticated": "false"},
    },
}
SSO_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLESSO000001:carol@example.com",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/carol@example.com",
    "accountId": ACCOUNT,
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLESSO000001",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            "accountId": ACCOUNT,
            "userName": "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
        },
        "attributes": {"creationDate": "2024-05-01T10:00:00Z", "mfaAuthenticated": "false"},
    },
}
AWS_SERVICE = {"accountId": ACCOUNT, "invokedBy": "cloudtrail.amazonaws.com"}


def api_call(
    source: str,
    name: str,
    *,
    identity: dict[str, Any] | None = None,
    read_only: bool = False,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    event_type: str = "AwsApiCall",
    region: str = "eu-west-1",
    **extra: Any,
) -> dict[str, Any]:
    """A management event record as CloudTrail writes it."""
    number = next(_ids)
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity if identity is not None else IAM_USER,
        "eventTime": f"2024-05-01T10:{number % 60:02d}:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7" if event_type != "AwsServiceEvent" else source,
        "userAgent": "aws-cli/2.15.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1",
        "requestParameters": request,
        "responseElements": response,
        "requestID": f"6d1c2e3f-0000-4000-8000-{number:012d}",
        "eventID": f"0a1b2c3d-0000-4000-8000-{number:012d}",
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        },
    }
    if error_code is not None:
        record["errorCode"] = error_code
    if error_message is not None:
        record["errorMessage"] = error_message
    record.update(extra)
    return record


def console_login(
    identity: dict[str, Any], *, success: bool = True, mfa: bool = False, error_message: str | None = None
) -> dict[str, Any]:
    """A ``ConsoleLogin`` record (eventType ``AwsConsoleSignIn``), successful or failed."""
    record = api_call(
        "signin.amazonaws.com",
        "ConsoleLogin",
        identity=identity,
        event_type="AwsConsoleSignIn",
        region="us-east-1",
        response={"ConsoleLogin": "Success" if success else "Failure"},
        error_message=None if success else (error_message or "Failed authentication"),
        additionalEventData={
            "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa else "No",
        },
        userAgent="Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    )
    record.pop("tlsDetails")
    record["requestParameters"] = None
    return record


def ec2(name: str, **kwargs: Any) -> dict[str, Any]:
    return api_call("ec2.amazonaws.com", name, **kwargs)


def iam_call(name: str, **kwargs: Any) -> dict[str, Any]:
    return api_call("iam.amazonaws.com", name, region="us-east-1", **kwargs)


@dataclass(frozen=True)
class Case:
    label: str
    record: dict[str, Any]
    expected: frozenset[str]
    near_miss_for: frozenset[str] = field(default_factory=frozenset)

    @property
    def line(self) -> str:
        """The record as the CloudWatch Logs event message."""
        return json.dumps(self.record, separators=(",", ":"))


def case(label: str, record: dict[str, Any], *expected: str, near_miss_for: tuple[str, ...] = ()) -> Case:
    return Case(label, record, frozenset(expected), frozenset(near_miss_for))


ROOT_USAGE = "root-account-usage"
UNAUTHORIZED = "unauthorized-api-calls"
NO_MFA = "console-sign-in-without-mfa"
IAM_POLICY = "iam-policy-changes"
CLOUDTRAIL = "cloudtrail-configuration-changes"
LOGIN_FAILURES = "console-authentication-failures"
KMS = "customer-managed-key-disabling-or-deletion"
S3 = "s3-bucket-policy-changes"
CONFIG = "aws-config-configuration-changes"
SECURITY_GROUP = "security-group-changes"
NACL = "network-acl-changes"
GATEWAY = "network-gateway-changes"
ROUTE = "route-table-changes"
VPC = "vpc-changes"
ORGANIZATIONS = "aws-organizations-changes"
EC2_STATE = "ec2-instance-state-changes"
PASSWORD_MFA = "password-policy-and-mfa-changes"
SECURITY_SERVICES = "security-services-disabled"

SG = {"groupId": "sg-0123456789abcdef0"}

CASES: tuple[Case, ...] = (
    # CIS 4.3 root account usage
    case("root signs in to the console with MFA", console_login(ROOT, mfa=True), ROOT_USAGE),
    case(
        "root creates an access key",
        iam_call("CreateAccessKey", identity=ROOT, response={"accessKey": {"accessKeyId": "AKIAEXAMPLENEWKEY001"}}),
        ROOT_USAGE,
    ),
    case(
        "root signs in without MFA (root, not an IAM user)",
        console_login(ROOT, mfa=False),
        ROOT_USAGE,
        near_miss_for=(NO_MFA,),
    ),
    case(
        "AWS Support acts for the root user",
        api_call("support.amazonaws.com", "DescribeCases", identity=ROOT_VIA_SUPPORT, read_only=True),
        near_miss_for=(ROOT_USAGE,),
    ),
    case(
        "service event attributed to the root user",
        api_call(
            "signin.amazonaws.com",
            "CredentialVerification",
            identity=ROOT,
            event_type="AwsServiceEvent",
            serviceEventDetails={"CredentialType": "PASSWORD"},
        ),
        near_miss_for=(ROOT_USAGE,),
    ),
    case("IAM user creates an access key", iam_call("CreateAccessKey"), near_miss_for=(ROOT_USAGE,)),
    # CIS 4.1 unauthorized API calls
    case(
        "RunInstances refused: Client.UnauthorizedOperation",
        ec2(
            "RunInstances",
            error_code="Client.UnauthorizedOperation",
            error_message="You are not authorized to perform this operation. Encoded authorization failure message: x",
            request={"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]}},
        ),
        UNAUTHORIZED,
        near_miss_for=(EC2_STATE,),
    ),
    case(
        "GetBucketPolicy refused: AccessDenied",
        api_call(
            "s3.amazonaws.com",
            "GetBucketPolicy",
            read_only=True,
            error_code="AccessDenied",
            error_message="Access Denied",
            request={"bucketName": "acme-private", "policy": "", "Host": "acme-private.s3.eu-west-1.amazonaws.com"},
        ),
        UNAUTHORIZED,
    ),
    case(
        "KMS Decrypt refused: AccessDeniedException",
        api_call(
            "kms.amazonaws.com",
            "Decrypt",
            identity=ASSUMED_ROLE,
            read_only=True,
            error_code="AccessDeniedException",
            error_message="User is not authorized to perform: kms:Decrypt",
        ),
        UNAUTHORIZED,
    ),
    case(
        "throttled call",
        ec2(
            "DescribeInstances", read_only=True, error_code="Client.RequestLimitExceeded", error_message="Rate exceeded"
        ),
        near_miss_for=(UNAUTHORIZED,),
    ),
    case(
        "role that does not exist",
        iam_call("GetRole", read_only=True, error_code="NoSuchEntityException", error_message="Role x not found"),
        near_miss_for=(UNAUTHORIZED,),
    ),
    case(
        "successful read-only call", ec2("DescribeInstances", read_only=True), near_miss_for=(UNAUTHORIZED, EC2_STATE)
    ),
    # CIS 4.2 console sign-in without MFA
    case("IAM user signs in without MFA", console_login(CONSOLE_IAM_USER, mfa=False), NO_MFA),
    case(
        "another IAM user signs in without MFA",
        console_login({**CONSOLE_IAM_USER, "userName": "dave", "arn": f"arn:aws:iam::{ACCOUNT}:user/dave"}),
        NO_MFA,
    ),
    case("IAM user signs in with MFA", console_login(CONSOLE_IAM_USER, mfa=True), near_miss_for=(NO_MFA,)),
    case("SSO user signs in (MFA at the identity provider)", console_login(SSO_ROLE), near_miss_for=(NO_MFA,)),
    case(
        "assumed-role console federation",
        console_login(ASSUMED_ROLE),
        near_miss_for=(NO_MFA, ROOT_USAGE),
    ),
    # CIS 4.6 console authentication failures
    case(
        "IAM user mistypes the password",
        console_login(CONSOLE_IAM_USER, success=False),
        LOGIN_FAILURES,
        near_miss_for=(NO_MFA,),
    ),
    case(
        "root password guessed wrong (also root usage)",
        console_login(ROOT, success=False),
        LOGIN_FAILURES,
        ROOT_USAGE,
    ),
    case(
        "unknown user name",
        console_login(CONSOLE_IAM_USER, success=False, error_message="No username found in supplied account"),
        near_miss_for=(LOGIN_FAILURES,),
    ),
    case(
        "successful console login",
        console_login(CONSOLE_IAM_USER, mfa=True),
        near_miss_for=(LOGIN_FAILURES,),
    ),
    # CIS 4.4 IAM policy changes
    case(
        "inline role policy put",
        iam_call(
            "PutRolePolicy",
            identity=ASSUMED_ROLE,
            request={"roleName": "app", "policyName": "inline", "policyDocument": "{}"},
        ),
        IAM_POLICY,
    ),
    case(
        "managed policy attached to a user",
        iam_call(
            "AttachUserPolicy", request={"userName": "eve", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
        ),
        IAM_POLICY,
    ),
    case("new policy version", iam_call("CreatePolicyVersion", identity=SSO_ROLE), IAM_POLICY),
    case(
        "attach refused: counts as a change attempt and as unauthorized",
        iam_call("AttachRolePolicy", error_code="AccessDenied", error_message="not authorized"),
        IAM_POLICY,
        UNAUTHORIZED,
    ),
    case("policy read", iam_call("GetPolicy", read_only=True), near_miss_for=(IAM_POLICY,)),
    case("attached policies listed", iam_call("ListAttachedRolePolicies", read_only=True), near_miss_for=(IAM_POLICY,)),
    # CIS 4.5 CloudTrail configuration changes
    case("trail logging stopped", api_call("cloudtrail.amazonaws.com", "StopLogging"), CLOUDTRAIL),
    case("trail updated", api_call("cloudtrail.amazonaws.com", "UpdateTrail", identity=ASSUMED_ROLE), CLOUDTRAIL),
    case(
        "trails described",
        api_call("cloudtrail.amazonaws.com", "DescribeTrails", read_only=True),
        near_miss_for=(CLOUDTRAIL,),
    ),
    case(
        "events looked up",
        api_call("cloudtrail.amazonaws.com", "LookupEvents", read_only=True),
        near_miss_for=(CLOUDTRAIL,),
    ),
    # CIS 4.7 customer managed keys
    case("key disabled", api_call("kms.amazonaws.com", "DisableKey", request={"keyId": "k"}), KMS),
    case(
        "key deletion scheduled",
        api_call("kms.amazonaws.com", "ScheduleKeyDeletion", request={"keyId": "k", "pendingWindowInDays": 7}),
        KMS,
    ),
    case("key enabled", api_call("kms.amazonaws.com", "EnableKey"), near_miss_for=(KMS,)),
    case(
        "key rotation disabled (another API)", api_call("kms.amazonaws.com", "DisableKeyRotation"), near_miss_for=(KMS,)
    ),
    case("key deletion cancelled", api_call("kms.amazonaws.com", "CancelKeyDeletion"), near_miss_for=(KMS,)),
    # CIS 4.8 S3 bucket policy changes
    case("bucket policy put", api_call("s3.amazonaws.com", "PutBucketPolicy", request={"bucketName": "b"}), S3),
    case("bucket CORS deleted", api_call("s3.amazonaws.com", "DeleteBucketCors", identity=ASSUMED_ROLE), S3),
    case("bucket policy read", api_call("s3.amazonaws.com", "GetBucketPolicy", read_only=True), near_miss_for=(S3,)),
    case(
        "object written (data event)",
        api_call("s3.amazonaws.com", "PutObject", managementEvent=False, eventCategory="Data"),
        near_miss_for=(S3,),
    ),
    # CIS 4.9 AWS Config
    case("recorder stopped", api_call("config.amazonaws.com", "StopConfigurationRecorder"), CONFIG),
    case("delivery channel changed", api_call("config.amazonaws.com", "PutDeliveryChannel"), CONFIG),
    case("recorder started", api_call("config.amazonaws.com", "StartConfigurationRecorder"), near_miss_for=(CONFIG,)),
    case(
        "recorders described",
        api_call("config.amazonaws.com", "DescribeConfigurationRecorders", read_only=True),
        near_miss_for=(CONFIG,),
    ),
    # CIS 4.10 security groups
    case("ingress opened", ec2("AuthorizeSecurityGroupIngress", request=SG), SECURITY_GROUP),
    case("security group deleted", ec2("DeleteSecurityGroup", identity=ASSUMED_ROLE, request=SG), SECURITY_GROUP),
    case("security groups described", ec2("DescribeSecurityGroups", read_only=True), near_miss_for=(SECURITY_GROUP,)),
    case(
        "security group rules described",
        ec2("DescribeSecurityGroupRules", read_only=True),
        near_miss_for=(SECURITY_GROUP,),
    ),
    # CIS 4.11 network ACLs
    case("NACL entry created", ec2("CreateNetworkAclEntry"), NACL),
    case("NACL association replaced", ec2("ReplaceNetworkAclAssociation"), NACL),
    case("NACLs described", ec2("DescribeNetworkAcls", read_only=True), near_miss_for=(NACL,)),
    # CIS 4.12 network gateways
    case("internet gateway attached", ec2("AttachInternetGateway"), GATEWAY),
    case("customer gateway created", ec2("CreateCustomerGateway"), GATEWAY),
    case("internet gateways described", ec2("DescribeInternetGateways", read_only=True), near_miss_for=(GATEWAY,)),
    case("NAT gateway created (not a CIS network gateway)", ec2("CreateNatGateway"), near_miss_for=(GATEWAY,)),
    # CIS 4.13 route tables
    case("route created", ec2("CreateRoute"), ROUTE, near_miss_for=(NACL,)),
    case("route table disassociated", ec2("DisassociateRouteTable"), ROUTE),
    case("route tables described", ec2("DescribeRouteTables", read_only=True), near_miss_for=(ROUTE,)),
    case("route table associated (not in CIS 4.13)", ec2("AssociateRouteTable"), near_miss_for=(ROUTE,)),
    # CIS 4.14 VPCs
    case("VPC created", ec2("CreateVpc"), VPC),
    case("peering requested", ec2("CreateVpcPeeringConnection"), VPC),
    case("VPCs described", ec2("DescribeVpcs", read_only=True), near_miss_for=(VPC,)),
    case("VPC endpoint modified", ec2("ModifyVpcEndpoint"), near_miss_for=(VPC,)),
    # CIS 4.15 AWS Organizations
    case(
        "member account created",
        api_call("organizations.amazonaws.com", "CreateAccount", region="us-east-1", identity=SSO_ROLE),
        ORGANIZATIONS,
    ),
    case(
        "SCP attached",
        api_call("organizations.amazonaws.com", "AttachPolicy", region="us-east-1"),
        ORGANIZATIONS,
    ),
    case(
        "organization described",
        api_call("organizations.amazonaws.com", "DescribeOrganization", read_only=True),
        near_miss_for=(ORGANIZATIONS,),
    ),
    case(
        "IAM CreatePolicy (same name, other service)",
        iam_call("CreatePolicy"),
        IAM_POLICY,
        near_miss_for=(ORGANIZATIONS,),
    ),
    # EC2 instance state changes
    case(
        "instance launched",
        ec2("RunInstances", response={"instancesSet": {"items": [{"instanceId": "i-1"}]}}),
        EC2_STATE,
    ),
    case("instance terminated", ec2("TerminateInstances", identity=ASSUMED_ROLE), EC2_STATE),
    case("instance stopped", ec2("StopInstances"), EC2_STATE),
    case("instance rebooted", ec2("RebootInstances"), EC2_STATE),
    case(
        "dry run of a launch",
        ec2("RunInstances", error_code="Client.DryRunOperation", error_message="Request would have succeeded"),
        near_miss_for=(EC2_STATE,),
    ),
    # Password policy and MFA changes
    case(
        "password policy weakened",
        iam_call("UpdateAccountPasswordPolicy", request={"minimumPasswordLength": 8}),
        PASSWORD_MFA,
    ),
    case("MFA device deactivated", iam_call("DeactivateMFADevice", identity=ASSUMED_ROLE), PASSWORD_MFA),
    case("password policy read", iam_call("GetAccountPasswordPolicy", read_only=True), near_miss_for=(PASSWORD_MFA,)),
    case("MFA device enabled", iam_call("EnableMFADevice"), near_miss_for=(PASSWORD_MFA,)),
    case(
        "MFA device deletion that failed",
        iam_call("DeleteVirtualMFADevice", error_code="DeleteConflictException", error_message="MFA device in use"),
        near_miss_for=(PASSWORD_MFA,),
    ),
    # Security services disabled
    case("GuardDuty detector deleted", api_call("guardduty.amazonaws.com", "DeleteDetector"), SECURITY_SERVICES),
    case(
        "Security Hub disabled",
        api_call("securityhub.amazonaws.com", "DisableSecurityHub", identity=ASSUMED_ROLE),
        SECURITY_SERVICES,
    ),
    case("access analyzer deleted", api_call("access-analyzer.amazonaws.com", "DeleteAnalyzer"), SECURITY_SERVICES),
    case(
        "GuardDuty detector created",
        api_call("guardduty.amazonaws.com", "CreateDetector"),
        near_miss_for=(SECURITY_SERVICES,),
    ),
    case(
        "Security Hub disable refused",
        api_call("securityhub.amazonaws.com", "DisableSecurityHub", error_code="AccessDeniedException"),
        UNAUTHORIZED,
        near_miss_for=(SECURITY_SERVICES,),
    ),
    case(
        "Security Hub standards enabled",
        api_call("securityhub.amazonaws.com", "BatchEnableStandards"),
        near_miss_for=(SECURITY_SERVICES,),
    ),
    # Events that no detection counts
    case(
        "CloudTrail's own service event",
        api_call("cloudtrail.amazonaws.com", "InsightEvent", identity=AWS_SERVICE, event_type="AwsServiceEvent"),
    ),
)
