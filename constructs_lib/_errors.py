"""Collect every problem of one input and report them together, naming the prop, the value and what is allowed."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

#: jsii interfaces cannot be checked with isinstance: a value is taken for one when it has its
#: identifying attribute. Each entry: attribute, how to build a value.
_INTERFACES: dict[str, tuple[str, str]] = {
    "s3.IBucket": ("bucket_arn", "s3.Bucket(...) or s3.Bucket.from_bucket_name(scope, id, name)"),
    "kms.IKey": ("key_arn", "kms.Key(...) or kms.Key.from_key_arn(scope, id, arn)"),
    "sns.ITopic": ("topic_arn", "sns.Topic(...) or sns.Topic.from_topic_arn(scope, id, arn)"),
    "logs.ILogGroup": ("log_group_arn", "logs.LogGroup(...) or logs.LogGroup.from_log_group_name(scope, id, name)"),
    "iam.IRole": ("role_arn", "iam.Role(...) or iam.Role.from_role_arn(scope, id, arn)"),
    "iam.IGrantable": ("grant_principal", "a role, user, group or function"),
    "ec2.IInstance": ("instance_id", "an ec2.Instance"),
    "cloudfront.IDistribution": ("distribution_id", "cloudfront.Distribution(...)"),
    "cdk.CfnCondition": ("expression", "cdk.CfnCondition(...)"),
    "cloudwatch.IAlarm": ("alarm_arn", "cloudwatch.Alarm(...) or cloudwatch.Alarm.from_alarm_arn(scope, id, arn)"),
    "cloudwatch.IMetric": ("to_metric_config", "cloudwatch.Metric(...) or cloudwatch.MathExpression(...)"),
    "cloudwatch.IWidget": ("to_json", "a widget such as cloudwatch.GraphWidget(...) or cloudwatch.TextWidget(...)"),
}


def _type_name(types: type | tuple[type, ...]) -> str:
    names = [t.__name__ for t in (types if isinstance(types, tuple) else (types,))]
    return " or ".join(names)


class Problems:
    """Accumulates problems of one construct's props; ``raise_if_any`` raises them as one error."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._items: list[str] = []

    @property
    def items(self) -> list[str]:
        """The problems so far."""
        return list(self._items)

    def add(self, message: str) -> None:
        self._items.append(message)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.add(message)

    def check_enum(self, prop: str, value: Any, enum_type: type[enum.Enum], *, optional: bool = False) -> bool:
        """``value`` is a member of ``enum_type`` (or None when ``optional``)."""
        if (value is None and optional) or isinstance(value, enum_type):
            return True
        allowed = ", ".join(f"{enum_type.__name__}.{member.name}" for member in enum_type)
        article = "an" if enum_type.__name__[0] in "AEIOU" else "a"
        self.add(f"{prop}: {value!r} is not {article} {enum_type.__name__}; allowed: {allowed}")
        return False

    def check_enums(self, prop: str, values: Any, enum_type: type[enum.Enum]) -> bool:
        """Every item of the sequence ``values`` is a member of ``enum_type``."""
        if not self.check_sequence(prop, values):
            return False
        return all([self.check_enum(f"{prop}[{i}]", v, enum_type) for i, v in enumerate(values)])

    def check_type(self, prop: str, value: Any, types: type | tuple[type, ...], *, optional: bool = False) -> bool:
        """``value`` is an instance of ``types`` (``bool`` is not taken for ``int``)."""
        if value is None and optional:
            return True
        wanted = types if isinstance(types, tuple) else (types,)
        ok = isinstance(value, wanted) and not (isinstance(value, bool) and bool not in wanted)
        if not ok:
            self.add(f"{prop}: {value!r} is not of type {_type_name(types)}{' or None' if optional else ''}")
        return ok

    def check_sequence(self, prop: str, values: Any, item_type: type | tuple[type, ...] | None = None) -> bool:
        """``values`` is a list or tuple (not a string), of ``item_type`` items when given."""
        if isinstance(values, str) or not isinstance(values, (list, tuple)):
            self.add(f"{prop}: {values!r} is not a list or tuple")
            return False
        if item_type is None:
            return True
        return all([self.check_type(f"{prop}[{i}]", v, item_type) for i, v in enumerate(values)])

    def check_resource(self, prop: str, value: Any, interface: str, *, optional: bool = True) -> bool:
        """``value`` implements the jsii ``interface`` (say ``s3.IBucket``), or is None when ``optional``."""
        if value is None and optional:
            return True
        attribute, how = _INTERFACES[interface]
        if not isinstance(value, str) and hasattr(value, attribute):
            return True
        article = "an" if interface[0] in "aeiosx" else "a"  # "an s3.IBucket", "a kms.IKey"
        self.add(f"{prop}: {value!r} is not {article} {interface}; pass {how}")
        return False

    def check_mapping(self, prop: str, value: Any) -> bool:
        if value is None or isinstance(value, dict) or hasattr(value, "items"):
            return True
        self.add(f"{prop}: {value!r} is not a mapping (dict)")
        return False

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.add(message)

    def raise_if_any(self) -> None:
        if not self._items:
            return
        if len(self._items) == 1:
            raise ValueError(f"{self._owner}: {self._items[0]}")
        lines = "\n".join(f"  - {item}" for item in self._items)
        raise ValueError(f"{self._owner}: {len(self._items)} problems:\n{lines}")
