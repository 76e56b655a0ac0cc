"""An example workload showing the telemetry constructs: VPC flow logs, CloudFront access logs, the agent.

A small VPC without internet access (SSM and CloudWatch reached through VPC endpoints), one
Amazon Linux 2023 instance that State Manager gives the CloudWatch agent, and a CloudFront
distribution whose access logs go to an ACL-enabled log bucket. Switched on by
``telemetry.example_workload``; it is a demonstration, not part of the baseline.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib import (
    AgentConfig,
    CloudFrontAccessLogs,
    CloudWatchAgent,
    DetailedMonitoring,
    FlowLogDestination,
    FlowLogField,
    FlowLogsForEveryVpc,
    ProcstatMetrics,
    TrafficType,
    _nag,
    retention_from_days,
)
from stacks.config import BaselineConfig

AGENT_TAG = ("monitoring", "cloudwatch-agent")
#: A literal CIDR, so security-group rules name it (nag cannot evaluate a rule against a GetAtt).
VPC_CIDR = "10.20.0.0/16"
#: Interface endpoints the instance needs without internet access: SSM, its messages, CloudWatch.
ENDPOINT_SERVICES = {
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
}


class ExampleWorkloadStack(cdk.Stack):
    """VPC with flow logs, an EC2 instance with the CloudWatch agent, a CloudFront distribution with access logs."""

    @property
    def availability_zones(self) -> list[str]:
        """The first two AZs of the region as ``Fn::GetAZs`` picks them at deploy time.

        A stack with a concrete account and region otherwise asks AWS for its AZs during synth (a
        context lookup), which needs credentials as soon as the config names an account that
        ``cdk.json`` does not; AZ names also differ between accounts (``ap-northeast-1b`` exists in
        few), so no fixed list fits every user.
        """
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(2)]

    def __init__(self, scope: Construct, construct_id: str, *, config: BaselineConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        telemetry = config.telemetry

        # The AZs are resolved by CloudFormation at deploy time (see availability_zones below), so
        # synth never looks them up: no credentials, whatever the account and region.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
            restrict_default_security_group=False,
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        self._acknowledge_default_security_group()
        endpoints_group = ec2.SecurityGroup(
            self,
            "EndpointsSecurityGroup",
            vpc=self.vpc,
            description="HTTPS from inside the VPC to the SSM and CloudWatch interface endpoints",
            allow_all_outbound=False,
        )
        endpoints_group.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC")
        for name, service in ENDPOINT_SERVICES.items():
            self.vpc.add_interface_endpoint(
                name, service=service, private_dns_enabled=True, security_groups=[endpoints_group], open=False
            )

        # Flow logs through the aspect, as platform teams apply it to their own apps; on the VPC rather
        # than the stack, so synthesis calls back into Python for the VPC's constructs only.
        cdk.Aspects.of(self.vpc).add(
            FlowLogsForEveryVpc(
                destinations=[
                    FlowLogDestination.cloudwatch_logs(
                        retention=retention_from_days(telemetry.flow_logs.log_group_retention_days)
                    )
                ],
                traffic_type=TrafficType(telemetry.flow_logs.traffic_type),
                log_format=[
                    FlowLogField.VERSION,
                    FlowLogField.INTERFACE_ID,
                    FlowLogField.SRCADDR,
                    FlowLogField.DSTADDR,
                    FlowLogField.SRCPORT,
                    FlowLogField.DSTPORT,
                    FlowLogField.PROTOCOL,
                    FlowLogField.PACKETS,
                    FlowLogField.BYTES,
                    FlowLogField.START,
                    FlowLogField.END,
                    FlowLogField.ACTION,
                    FlowLogField.LOG_STATUS,
                    FlowLogField.FLOW_DIRECTION,
                    FlowLogField.PKT_DST_AWS_SERVICE,
                ],
            )
        )

        # The CloudWatch agent for instances with the example tag.
        self.agent = CloudWatchAgent(
            self,
            "CloudWatchAgent",
            config=AgentConfig.linux(
                log_group_prefix=f"/{config.naming.prefix}/example/ec2",
                procstat=[ProcstatMetrics(exe="amazon-ssm-agent")],
            ),
            name=f"{config.naming.prefix}-example",
            target_tag_key=AGENT_TAG[0],
            target_tag_values=[AGENT_TAG[1]],
        )
        assert self.agent.role is not None
        self.instance = ec2.Instance(
            self,
            "Instance",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            instance_type=ec2.InstanceType("t3.micro"),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            role=self.agent.role,
            require_imdsv2=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(8, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
                )
            ],
        )
        cdk.Tags.of(self.instance).add(*AGENT_TAG)
        if telemetry.detailed_monitoring:
            # 1-minute EC2 metrics (charged per metric) for the instance and its launch template, the
            # only EC2 compute here; on the instance rather than the stack, so synthesis calls back into
            # Python for the instance's constructs only (not for the stack's 80).
            cdk.Aspects.of(self.instance).add(DetailedMonitoring())
        _nag.acknowledge(
            self.instance,
            "Example instance: replaceable by redeploying the stack; termination protection would block "
            "`cdk destroy` of the demonstration.",
            "AwsSolutions-EC29",
        )

        # CloudFront with standard logging into an ACL-enabled, retained bucket.
        self.access_logs = CloudFrontAccessLogs(self, "CloudFrontAccessLogs")
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Example workload: access logs through constructs_lib.CloudFrontAccessLogs",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin("aws.amazon.com"),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            ),
            log_bucket=self.access_logs.bucket,
            log_file_prefix="example/",
        )
        _nag.acknowledge(
            self.distribution,
            "Example distribution in front of a public website: no geographic restriction, no WAF web ACL "
            "(a WAF ACL for CloudFront lives in us-east-1 and is the workload owner's choice), and the default "
            "*.cloudfront.net certificate, which cannot enforce a minimum TLS version; a real workload uses its "
            "own domain with an ACM certificate and TLSv1.2_2021.",
            "AwsSolutions-CFR1",
            "AwsSolutions-CFR2",
            "AwsSolutions-CFR4",
        )

        self._accept_pinned_availability_zones()
        cdk.CfnOutput(self, "InstanceId", value=self.instance.instance_id)
        cdk.CfnOutput(self, "DistributionDomainName", value=self.distribution.distribution_domain_name)

    def _accept_pinned_availability_zones(self) -> None:
        """Subnets and the instance name their AZs: cdk.json pins them so synth needs no credentials.

        cfn-lint W3010 warns on any literal AZ; here the literal is the design, so the check is
        switched off on exactly these resources.
        """
        for node in self.node.find_all():
            if isinstance(node, (ec2.CfnSubnet, ec2.CfnInstance)):
                node.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})

    def _acknowledge_default_security_group(self) -> None:
        """The default security group keeps its rules; nothing here uses it.

        CloudFormation cannot remove the default group's rules without a custom resource (the VPC's
        ``restrict_default_security_group`` adds one with a Lambda function); the example avoids that.
        """
        _nag.acknowledge(
            self.vpc,
            "Nothing in this example VPC is attached to the default security group (the instance and the "
            "endpoints have their own groups); removing its rules needs a Lambda-backed custom resource, "
            "which the example avoids. Baseline guardrails (Security Hub EC2.2) report it in real workloads.",
            *_nag.in_compliance_packs("VPCDefaultSecurityGroupClosed"),
        )
