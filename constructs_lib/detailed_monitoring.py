"""DetailedMonitoring: 1-minute EC2 metrics for every instance, launch template and Auto Scaling group in scope.

EC2 sends basic monitoring (5-minute periods) free of charge. Detailed monitoring sends the same
metrics every minute, which alarms need to react within minutes, and is charged per metric
(CloudWatch pricing: the metrics count as custom metrics, about 7 per instance). Apply the
aspect to the scope where that is worth it, not blindly to a whole app::

    import aws_cdk as cdk
    from constructs_lib import DetailedMonitoring

    cdk.Aspects.of(production_stack).add(DetailedMonitoring())

What it sets, on the L1 resources (so it works whatever L2 created them):

- ``AWS::EC2::Instance``: ``Monitoring: true``;
- ``AWS::EC2::LaunchTemplate``: ``LaunchTemplateData.Monitoring.Enabled: true`` (instances that
  Auto Scaling or EC2 Fleet launch from it);
- ``AWS::AutoScaling::LaunchConfiguration``: ``InstanceMonitoring: true``;
- ``AWS::AutoScaling::AutoScalingGroup``: group metrics every minute (``MetricsCollection``
  ``1Minute``; Auto Scaling group metrics carry no charge).

A resource that explicitly switches monitoring off keeps its choice unless ``override`` is set.
Other resources are left alone.
"""

from __future__ import annotations

import sys
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from constructs import IConstruct


def _autoscaling() -> Any:
    """``aws_cdk.aws_autoscaling`` if anything imported it, else None.

    jsii imports a type's Python module before it hands an object of that type to Python, so a
    visited construct can only be an Auto Scaling resource once the module is loaded: an app without
    Auto Scaling does not pay for importing its bindings (and load balancing's, which they import).
    """
    return sys.modules.get("aws_cdk.aws_autoscaling")


def _explicit_false(value: Any) -> bool:
    return value is False


def _template_monitoring(template: ec2.CfnLaunchTemplate) -> Any:
    data = template.launch_template_data
    if isinstance(data, dict):
        monitoring = data.get("monitoring") or data.get("Monitoring")
    else:
        monitoring = getattr(data, "monitoring", None)
    if isinstance(monitoring, dict):
        return monitoring.get("enabled", monitoring.get("Enabled"))
    return getattr(monitoring, "enabled", None)


@jsii.implements(cdk.IAspect)
class DetailedMonitoring:
    """Turns on detailed (1-minute) monitoring of EC2 instances, launch templates and Auto Scaling groups.

    :param override: also where a resource switched monitoring off explicitly. Default: False.
    :param group_metrics: collect Auto Scaling group metrics every minute too. Default: True.
    """

    def __init__(self, *, override: bool = False, group_metrics: bool = True) -> None:
        self.override = override
        self.group_metrics = group_metrics

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, ec2.CfnInstance):
            if self.override or not _explicit_false(node.monitoring):
                node.monitoring = True
        elif isinstance(node, ec2.CfnLaunchTemplate):
            if self.override or not _explicit_false(_template_monitoring(node)):
                node.add_property_override("LaunchTemplateData.Monitoring.Enabled", True)
        elif (autoscaling := _autoscaling()) is None:
            return
        elif isinstance(node, autoscaling.CfnLaunchConfiguration):
            if self.override or not _explicit_false(node.instance_monitoring):
                node.instance_monitoring = True
        # The L2 group sets MetricsCollection lazily: resolve it to see whether any is configured.
        elif (
            isinstance(node, autoscaling.CfnAutoScalingGroup)
            and self.group_metrics
            and not cdk.Stack.of(node).resolve(node.metrics_collection)
        ):
            node.metrics_collection = [autoscaling.CfnAutoScalingGroup.MetricsCollectionProperty(granularity="1Minute")]
