"""CloudWatchAgent: the unified CloudWatch agent on EC2, installed, configured and started through SSM.

The agent configuration is built from typed options, checked against the rules of the agent's
configuration schema (required keys, measurement names, intervals, event levels) and stored in
an SSM parameter named ``AmazonCloudWatch-<name>``: the prefix the managed
``CloudWatchAgentServerPolicy`` can read. State Manager associations install the agent
(``AWS-ConfigureAWSPackage``) and configure and start it (``AmazonCloudWatch-ManageAgent``) on
every instance with the target tag, now and on a schedule, so instances launched later get it too.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib import _log_groups, _nag, _names
from constructs_lib._brought import IMPORTED_WARNING_ID
from constructs_lib._errors import Problems

#: The agent reads intervals from 1 s to 48 h (schema ``timeIntervalDefinition``).
MIN_INTERVAL, MAX_INTERVAL = 1, 172800
#: Parameter Store tiers: Standard holds 4 KB, Advanced 8 KB.
STANDARD_LIMIT, ADVANCED_LIMIT = 4096, 8192

_CPU = ("active", "guest", "guest_nice", "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
#: Measurement names the agent knows on Linux, per plugin (with or without the ``<plugin>_`` prefix).
LINUX_MEASUREMENTS: dict[str, frozenset[str]] = {
    "mem": frozenset(
        (
            "active",
            "available",
            "available_percent",
            "buffered",
            "cached",
            "free",
            "inactive",
            "total",
            "used",
            "used_percent",
        )
    ),
    "disk": frozenset(("free", "total", "used", "used_percent", "inodes_free", "inodes_used", "inodes_total")),
    "swap": frozenset(("free", "used", "used_percent")),
    "cpu": frozenset([f"time_{c}" for c in _CPU] + [f"usage_{c}" for c in _CPU]),
    "procstat": frozenset(
        (
            "cpu_time",
            "cpu_time_guest",
            "cpu_time_guest_nice",
            "cpu_time_idle",
            "cpu_time_iowait",
            "cpu_time_irq",
            "cpu_time_nice",
            "cpu_time_soft_irq",
            "cpu_time_steal",
            "cpu_time_system",
            "cpu_time_user",
            "cpu_usage",
            "memory_data",
            "memory_locked",
            "memory_rss",
            "memory_stack",
            "memory_swap",
            "memory_vms",
            "num_fds",
            "num_threads",
            "pid",
            "pid_count",
            "read_bytes",
            "read_count",
            "write_bytes",
            "write_count",
        )
    ),
}
#: procstat measurements the agent supports on Windows.
WINDOWS_PROCSTAT_MEASUREMENTS = frozenset(
    (
        "cpu_time",
        "cpu_time_system",
        "cpu_time_user",
        "cpu_usage",
        "memory_rss",
        "memory_vms",
        "num_threads",
        "pid",
        "pid_count",
        "read_bytes",
        "read_count",
        "write_bytes",
        "write_count",
    )
)
_SCHEDULE = re.compile(r"^(rate\((\d+) (minutes?|hours?|days?)\)|cron\(.+\))$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class Platform(enum.Enum):
    LINUX = "linux"
    WINDOWS = "windows"


class AppendDimension(enum.Enum):
    """EC2 dimensions the agent can add to every metric (the only ones it supports)."""

    INSTANCE_ID = "InstanceId"
    IMAGE_ID = "ImageId"
    INSTANCE_TYPE = "InstanceType"
    AUTO_SCALING_GROUP_NAME = "AutoScalingGroupName"


class AgentMode(enum.Enum):
    """Where the agent runs (``AmazonCloudWatch-ManageAgent``'s ``mode``).

    ``ON_PREMISES``: servers registered with Systems Manager through a hybrid activation (``mi-…``);
    the agent takes the region from the configuration and adds the ``host`` dimension, since EC2
    metadata (instance id, image, type) does not exist there.
    """

    EC2 = "ec2"
    ON_PREMISES = "onPremise"


class EventLevel(enum.Enum):
    CRITICAL = "CRITICAL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFORMATION = "INFORMATION"
    VERBOSE = "VERBOSE"


class Timezone(enum.Enum):
    UTC = "UTC"
    LOCAL = "Local"


def _interval_problem(where: str, value: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_INTERVAL <= value <= MAX_INTERVAL:
        return f"{where}: interval must be whole seconds from {MIN_INTERVAL} to {MAX_INTERVAL} (got {value!r})"
    return None


def _measurement_problems(where: str, plugin: str, measurements: Sequence[str], allowed: frozenset[str]) -> list[str]:
    found: list[str] = []
    if not measurements:
        found.append(f"{where}: measurements is empty; the agent requires at least one")
    for name in measurements:
        short = name.removeprefix(f"{plugin}_") if isinstance(name, str) else name
        if short not in allowed:
            found.append(f"{where}: {name!r} is not a {plugin} measurement; allowed: {', '.join(sorted(allowed))}")
    if len(set(measurements)) != len(measurements):
        found.append(f"{where}: measurements lists a name twice (got {list(measurements)!r})")
    return found


@dataclass(frozen=True, kw_only=True)
class MemoryMetrics:
    """Linux ``mem`` plugin. Default measurement: ``mem_used_percent``."""

    measurements: Sequence[str] = ("mem_used_percent",)
    interval: int | None = None


@dataclass(frozen=True, kw_only=True)
class DiskMetrics:
    """Linux ``disk`` plugin. Default: ``used_percent`` and ``inodes_free`` of every mounted file system."""

    measurements: Sequence[str] = ("used_percent", "inodes_free")
    resources: Sequence[str] = ("*",)
    ignore_file_system_types: Sequence[str] = ("sysfs", "devtmpfs", "tmpfs", "overlay")
    interval: int | None = None


@dataclass(frozen=True, kw_only=True)
class SwapMetrics:
    """Linux ``swap`` plugin. Default measurement: ``swap_used_percent``."""

    measurements: Sequence[str] = ("swap_used_percent",)
    interval: int | None = None


@dataclass(frozen=True, kw_only=True)
class CpuMetrics:
    """Linux ``cpu`` plugin.

    :param per_core: one metric per core as well (``resources: ["*"]``). Default: False.
    :param total: the all-cores aggregate. Default: True.
    """

    measurements: Sequence[str] = ("cpu_usage_idle", "cpu_usage_iowait", "cpu_usage_user", "cpu_usage_system")
    per_core: bool = False
    total: bool = True
    interval: int | None = None


@dataclass(frozen=True, kw_only=True)
class ProcstatMetrics:
    """``procstat``: metrics of the processes matched by exactly one of ``exe``, ``pattern``, ``pid_file``."""

    exe: str | None = None
    pattern: str | None = None
    pid_file: str | None = None
    measurements: Sequence[str] = ("cpu_usage", "memory_rss")
    interval: int | None = None


@dataclass(frozen=True, kw_only=True)
class WindowsCounters:
    """Windows performance counters of one object, e.g. ``Memory`` / ``% Committed Bytes In Use``.

    :param instances: counter instances (``resources``), e.g. ``("*",)`` or ``("_Total",)``.
        Default: none (objects without instances, such as Memory).
    """

    object_name: str
    counters: Sequence[str]
    instances: Sequence[str] = ()
    interval: int | None = None


@dataclass(frozen=True, kw_only=True)
class LogFile:
    """A log file the agent ships to ``log_group_name``.

    :param log_stream_name: Default: ``{instance_id}``.
    :param timezone: of the timestamps. Default: the agent's default (Local).
    :param timestamp_format: strftime-like format of the timestamp in each line. Default: none.
    :param multi_line_start_pattern: regex that starts a new event. Default: none.
    """

    file_path: str
    log_group_name: str
    log_stream_name: str = "{instance_id}"
    timezone: Timezone | None = None
    timestamp_format: str | None = None
    multi_line_start_pattern: str | None = None


@dataclass(frozen=True, kw_only=True)
class WindowsEventLog:
    """A Windows event log (``System``, ``Application``, ``Security`` ...) shipped to ``log_group_name``."""

    event_name: str
    levels: Sequence[EventLevel]
    log_group_name: str
    log_stream_name: str = "{instance_id}"


@dataclass(frozen=True, kw_only=True)
class AgentConfig:
    """The agent configuration file, as typed options. ``to_json()`` renders it.

    Use the presets ``AgentConfig.linux(...)`` and ``AgentConfig.windows(...)`` or build your own.

    :param platform: Default: LINUX.
    :param namespace: CloudWatch namespace of the metrics. Default: ``CWAgent``.
    :param interval: default collection interval in seconds (below 60: high resolution). Default: 60.
    :param append_dimensions: Default: InstanceId.
    :param run_as_user: Linux user the agent runs as; it must be able to read the log files.
        Default: none (the agent's default, root).
    """

    platform: Platform = Platform.LINUX
    namespace: str = "CWAgent"
    interval: int = 60
    memory: MemoryMetrics | None = None
    disk: DiskMetrics | None = None
    swap: SwapMetrics | None = None
    cpu: CpuMetrics | None = None
    procstat: Sequence[ProcstatMetrics] = ()
    windows_counters: Sequence[WindowsCounters] = ()
    append_dimensions: Sequence[AppendDimension] = (AppendDimension.INSTANCE_ID,)
    log_files: Sequence[LogFile] = ()
    windows_event_logs: Sequence[WindowsEventLog] = ()
    run_as_user: str | None = None

    @staticmethod
    def linux(*, log_group_prefix: str = "/ec2/linux", **overrides: Any) -> AgentConfig:
        """Memory, disk, swap and CPU metrics; system, secure and SSM agent logs into ``<prefix>/...``.

        Runs the agent as root: ``/var/log/secure`` is readable by root only.
        """
        options: dict[str, Any] = {
            "platform": Platform.LINUX,
            "run_as_user": "root",
            "memory": MemoryMetrics(),
            "disk": DiskMetrics(),
            "swap": SwapMetrics(),
            "cpu": CpuMetrics(),
            "log_files": (
                LogFile(file_path="/var/log/messages", log_group_name=f"{log_group_prefix}/messages"),
                LogFile(file_path="/var/log/secure", log_group_name=f"{log_group_prefix}/secure"),
                LogFile(
                    file_path="/var/log/amazon/ssm/amazon-ssm-agent.log",
                    log_group_name=f"{log_group_prefix}/ssm-agent",
                ),
            ),
        }
        options.update(overrides)
        return AgentConfig(**options)

    @staticmethod
    def windows(*, log_group_prefix: str = "/ec2/windows", **overrides: Any) -> AgentConfig:
        """Memory, disk, paging file and processor counters; System, Application and Security event logs."""
        options: dict[str, Any] = {
            "platform": Platform.WINDOWS,
            "run_as_user": None,
            "windows_counters": (
                WindowsCounters(object_name="Memory", counters=("% Committed Bytes In Use",)),
                WindowsCounters(object_name="LogicalDisk", counters=("% Free Space",), instances=("*",)),
                WindowsCounters(object_name="Paging File", counters=("% Usage",), instances=("*",)),
                WindowsCounters(object_name="Processor", counters=("% Processor Time",), instances=("_Total",)),
            ),
            "windows_event_logs": (
                WindowsEventLog(
                    event_name="System",
                    levels=(EventLevel.CRITICAL, EventLevel.ERROR, EventLevel.WARNING),
                    log_group_name=f"{log_group_prefix}/system",
                ),
                WindowsEventLog(
                    event_name="Application",
                    levels=(EventLevel.CRITICAL, EventLevel.ERROR, EventLevel.WARNING),
                    log_group_name=f"{log_group_prefix}/application",
                ),
                WindowsEventLog(
                    event_name="Security",
                    levels=(EventLevel.INFORMATION, EventLevel.WARNING, EventLevel.ERROR, EventLevel.CRITICAL),
                    log_group_name=f"{log_group_prefix}/security",
                ),
            ),
        }
        options.update(overrides)
        return AgentConfig(**options)

    @property
    def log_group_names(self) -> list[str]:
        """Distinct log groups the agent writes to, in order of first use."""
        names = [f.log_group_name for f in self.log_files] + [e.log_group_name for e in self.windows_event_logs]
        return list(dict.fromkeys(names))

    def problems(self) -> list[str]:
        """Every way this configuration breaks the agent's schema rules, one line each."""
        found: list[str] = []
        linux = self.platform is Platform.LINUX
        if not isinstance(self.platform, Platform):
            return [f"platform must be Platform.LINUX or Platform.WINDOWS (got {self.platform!r})"]
        if not (isinstance(self.namespace, str) and 1 <= len(self.namespace) <= 255) or self.namespace.startswith(
            "AWS/"
        ):
            found.append(f"namespace must be 1-255 characters and not start with 'AWS/' (got {self.namespace!r})")
        problem = _interval_problem("interval", self.interval)
        if problem:
            found.append(problem)
        linux_plugins = {"memory": self.memory, "disk": self.disk, "swap": self.swap, "cpu": self.cpu}
        if not linux:
            for name, value in linux_plugins.items():
                if value is not None:
                    found.append(
                        f"{name}: the {name} plugin exists on Linux only; on Windows use windows_counters "
                        "(e.g. Memory / % Committed Bytes In Use)"
                    )
            if self.run_as_user is not None:
                found.append(f"run_as_user applies to Linux only (got {self.run_as_user!r})")
        else:
            for name, value in (
                ("windows_counters", self.windows_counters),
                ("windows_event_logs", self.windows_event_logs),
            ):
                if value:
                    found.append(f"{name} apply to Windows only, but platform is LINUX")
        plugin_of = {"memory": "mem", "disk": "disk", "swap": "swap", "cpu": "cpu"}
        if linux:
            for name, value in linux_plugins.items():
                if value is None:
                    continue
                plugin = plugin_of[name]
                found += _measurement_problems(name, plugin, value.measurements, LINUX_MEASUREMENTS[plugin])
                problem = _interval_problem(name, value.interval)
                if problem:
                    found.append(problem)
            if self.cpu is not None and not (self.cpu.per_core or self.cpu.total):
                found.append("cpu: per_core and total are both False; the plugin would report nothing")
        allowed_procstat = LINUX_MEASUREMENTS["procstat"] if linux else WINDOWS_PROCSTAT_MEASUREMENTS
        for index, proc in enumerate(self.procstat):
            where = f"procstat[{index}]"
            selectors = [s for s in (proc.exe, proc.pattern, proc.pid_file) if s]
            if len(selectors) != 1:
                found.append(f"{where}: give exactly one of exe, pattern, pid_file (got {len(selectors)})")
            found += _measurement_problems(where, "procstat", proc.measurements, allowed_procstat)
            problem = _interval_problem(where, proc.interval)
            if problem:
                found.append(problem)
        objects = [c.object_name for c in self.windows_counters]
        for index, counters in enumerate(self.windows_counters):
            where = f"windows_counters[{index}]"
            if not counters.object_name:
                found.append(f"{where}: object_name is empty")
            if not counters.counters:
                found.append(f"{where}: counters is empty; the agent requires at least one measurement")
            problem = _interval_problem(where, counters.interval)
            if problem:
                found.append(problem)
        if len(set(objects)) != len(objects):
            found.append(f"windows_counters: an object is listed twice (got {objects!r}); merge its counters")
        if len(self.append_dimensions) != len(set(self.append_dimensions)) or not all(
            isinstance(d, AppendDimension) for d in self.append_dimensions
        ):
            found.append(
                f"append_dimensions must be distinct AppendDimension members (got {list(self.append_dimensions)!r})"
            )
        paths = [f.file_path for f in self.log_files]
        for index, log_file in enumerate(self.log_files):
            where = f"log_files[{index}]"
            if not log_file.file_path or len(log_file.file_path) > 4096:
                found.append(f"{where}: file_path must be 1-4096 characters (got {log_file.file_path!r})")
            found += _log_group_problems(where, log_file.log_group_name)
        if len(set(paths)) != len(paths):
            found.append(f"log_files: a file_path is listed twice (got {paths!r})")
        for index, event_log in enumerate(self.windows_event_logs):
            where = f"windows_event_logs[{index}]"
            if not event_log.event_name or event_log.event_name == "Forwarded Events":
                found.append(f"{where}: event_name must be an event log name other than 'Forwarded Events'")
            if not event_log.levels or not all(isinstance(level, EventLevel) for level in event_log.levels):
                found.append(f"{where}: levels must be one or more EventLevel members (got {list(event_log.levels)!r})")
            found += _log_group_problems(where, event_log.log_group_name)
        if not self._metrics_collected() and not self.log_files and not self.windows_event_logs:
            found.append("the configuration collects nothing: add metrics, log_files or windows_event_logs")
        return found

    def _metrics_collected(self) -> dict[str, Any]:
        collected: dict[str, Any] = {}

        def plugin(measurements: Sequence[str], interval: int | None, **extra: Any) -> dict[str, Any]:
            body: dict[str, Any] = {"measurement": list(measurements), **extra}
            if interval is not None:
                body["metrics_collection_interval"] = interval
            return body

        if self.cpu is not None:
            extra: dict[str, Any] = {"totalcpu": self.cpu.total}
            if self.cpu.per_core:
                extra["resources"] = ["*"]
            collected["cpu"] = plugin(self.cpu.measurements, self.cpu.interval, **extra)
        if self.disk is not None:
            collected["disk"] = plugin(
                self.disk.measurements,
                self.disk.interval,
                resources=list(self.disk.resources),
                ignore_file_system_types=list(self.disk.ignore_file_system_types),
            )
        if self.memory is not None:
            collected["mem"] = plugin(self.memory.measurements, self.memory.interval)
        if self.swap is not None:
            collected["swap"] = plugin(self.swap.measurements, self.swap.interval)
        if self.procstat:
            entries = []
            for proc in self.procstat:
                entry = {
                    k: v for k, v in (("exe", proc.exe), ("pattern", proc.pattern), ("pid_file", proc.pid_file)) if v
                }
                entries.append({**entry, **plugin(proc.measurements, proc.interval)})
            collected["procstat"] = entries
        for counters in self.windows_counters:
            extra = {"resources": list(counters.instances)} if counters.instances else {}
            collected[counters.object_name] = plugin(counters.counters, counters.interval, **extra)
        return collected

    def to_json(self) -> dict[str, Any]:
        """The agent configuration document. ``ValueError`` listing every problem if it is invalid."""
        problems = Problems("AgentConfig")
        for problem in self.problems():
            problems.add(problem)
        problems.raise_if_any()
        document: dict[str, Any] = {"agent": {"metrics_collection_interval": self.interval}}
        if self.run_as_user is not None:
            document["agent"]["run_as_user"] = self.run_as_user
        collected = self._metrics_collected()
        if collected:
            metrics: dict[str, Any] = {"namespace": self.namespace, "metrics_collected": collected}
            if self.append_dimensions:
                metrics["append_dimensions"] = {d.value: f"${{aws:{d.value}}}" for d in self.append_dimensions}
            document["metrics"] = metrics
        logs_collected: dict[str, Any] = {}
        if self.log_files:
            logs_collected["files"] = {"collect_list": [_log_file_json(f) for f in self.log_files]}
        if self.windows_event_logs:
            logs_collected["windows_events"] = {
                "collect_list": [
                    {
                        "event_name": e.event_name,
                        "event_levels": [level.value for level in e.levels],
                        "log_group_name": e.log_group_name,
                        "log_stream_name": e.log_stream_name,
                    }
                    for e in self.windows_event_logs
                ]
            }
        if logs_collected:
            document["logs"] = {"logs_collected": logs_collected}
        return document


def _mode_problems(mode: AgentMode, config: AgentConfig, create_role: bool) -> list[str]:
    if not isinstance(mode, AgentMode):
        return [f"mode must be AgentMode.EC2 or AgentMode.ON_PREMISES (got {mode!r})"]
    if mode is AgentMode.EC2:
        return []
    found = []
    if create_role:
        found.append(
            "mode=ON_PREMISES makes no EC2 instance role: pass create_role=False (hybrid nodes assume the "
            "HybridActivation's service role)"
        )
    if config.append_dimensions:
        found.append(
            f"mode=ON_PREMISES: append_dimensions {[d.value for d in config.append_dimensions]} are EC2 metadata; "
            "pass append_dimensions=() (the agent adds the host dimension)"
        )
    streams = [f.log_stream_name for f in config.log_files] + [e.log_stream_name for e in config.windows_event_logs]
    if any("{instance_id}" in stream for stream in streams):
        found.append("mode=ON_PREMISES: log_stream_name '{instance_id}' is EC2 only; use '{hostname}'")
    return found


def _log_group_problems(where: str, name: str) -> list[str]:
    if not isinstance(name, str) or not re.match(r"^[\w\-./#]{1,512}$", name) or name.startswith("aws/"):
        return [
            f"{where}: log_group_name {name!r} is not a log group name "
            "(1-512 letters, digits, '_', '-', '/', '.', '#'; not starting with 'aws/')"
        ]
    return []


def _log_file_json(log_file: LogFile) -> dict[str, Any]:
    body: dict[str, Any] = {
        "file_path": log_file.file_path,
        "log_group_name": log_file.log_group_name,
        "log_stream_name": log_file.log_stream_name,
    }
    if log_file.timezone is not None:
        body["timezone"] = log_file.timezone.value
    if log_file.timestamp_format is not None:
        body["timestamp_format"] = log_file.timestamp_format
    if log_file.multi_line_start_pattern is not None:
        body["multi_line_start_pattern"] = log_file.multi_line_start_pattern
    return body


def _construct_id(name: str) -> str:
    """A stable construct id from a log group name: ``/ec2/linux/messages`` -> ``Ec2LinuxMessages``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part) or "Root"


class CloudWatchAgent(Construct):
    """The CloudWatch agent on every EC2 instance carrying a tag, installed and configured by SSM.

    Creates the ``AmazonCloudWatch-<name>`` parameter, the log groups the configuration writes to
    (KMS-encrypted, with retention), an instance role and profile with
    ``CloudWatchAgentServerPolicy`` and ``AmazonSSMManagedInstanceCore``, and two State Manager
    associations: install (``AWS-ConfigureAWSPackage``) and configure + start
    (``AmazonCloudWatch-ManageAgent`` from the parameter).

    Example::

        from constructs_lib import AgentConfig, CloudWatchAgent, ProcstatMetrics

        agent = CloudWatchAgent(
            stack,
            "Agent",
            config=AgentConfig.linux(procstat=[ProcstatMetrics(exe="nginx")]),
            target_tag_key="monitoring",
            target_tag_values=["cloudwatch-agent"],
        )
        # The instance uses the agent's instance profile (and so its role): no second profile.
        instance = ec2.Instance(stack, "Web", instance_profile=agent.instance_profile, ...)
        cdk.Tags.of(instance).add("monitoring", "cloudwatch-agent")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AgentConfig | None = None,
        name: str | None = None,
        target_tag_key: str = "CloudWatchAgent",
        target_tag_values: Sequence[str] = ("enabled",),
        schedule: str = "rate(1 day)",
        log_retention: logs.RetentionDays | None = None,
        key: kms.IKey | None = None,
        create_role: bool = True,
        instance_role: iam.IRole | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
        mode: AgentMode = AgentMode.EC2,
    ) -> None:
        """
        :param config: Default: ``AgentConfig.linux(log_group_prefix=f"/ec2/{name}")``, so the
            log groups of two default agents never collide. A config you give keeps its own log
            group names (``AgentConfig.linux()`` alone writes to ``/ec2/linux/...``).
        :param name: suffix of the parameter ``AmazonCloudWatch-<name>`` and of the association
            names (1-100 letters, digits, '_', '.' or '-'; unique per account and region).
            Default: derived from the construct path (``<stack>-<path>-<hash>``).
        :param target_tag_key: instances with this tag get the agent. Default: ``CloudWatchAgent``.
        :param target_tag_values: ... and one of these values. Default: ``("enabled",)``.
        :param schedule: how often State Manager re-applies both associations, so new or drifted
            instances are brought in line. Default: ``rate(1 day)``.
        :param log_retention: of the log groups created here. Default: one year.
        :param key: encrypts the log groups. Default: a new key with rotation.
        :param create_role: create the instance role and profile. Default: True.
        :param instance_role: reuse the role of instances that already have a profile (say
            ``my_instance.role``): it gets the agent's two managed policies, and no role or
            profile is created here (cdk-nag's IAM4 findings for them are then on your role, for
            you to acknowledge). Default: none.
        :param removal_policy: of the key and log groups. Default: RETAIN.
        :param mode: ``AgentMode.ON_PREMISES`` for hybrid managed nodes (``mi-…``): the configuration
            gets the stack's region, must not use EC2 dimensions or ``{instance_id}``, and no instance
            role is made (pass ``create_role=False``; the nodes use the activation's service role).
            Default: EC2.
        """
        super().__init__(scope, construct_id)
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        problems = Problems(f"CloudWatchAgent({self.node.path})")
        problems.check_type("config", config, AgentConfig, optional=True)
        problems.check_type("name", name, str, optional=True)
        problems.check_type("target_tag_key", target_tag_key, str)
        problems.check_sequence("target_tag_values", target_tag_values, str)
        problems.check_type("schedule", schedule, str)
        problems.check_enum("log_retention", log_retention, logs.RetentionDays, optional=True)
        problems.check_resource("key", key, "kms.IKey")
        problems.check_type("create_role", create_role, bool)
        problems.check_resource("instance_role", instance_role, "iam.IRole")
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        # The checks below read these props: report wrong types first.
        problems.raise_if_any()
        name = name if name is not None else _names.unique(self, name_prefix=None, suffix="", max_length=100)
        config = config if config is not None else AgentConfig.linux(log_group_prefix=f"/ec2/{name}")
        problems.check(
            bool(_NAME.match(name)),
            f"name {name!r} must be 1-100 letters, digits, '_', '.' or '-' (it ends the parameter name "
            "AmazonCloudWatch-<name>)",
        )
        problems.check(
            bool(re.match(r"^[\w.:/=+\-@ ]{1,128}$", target_tag_key)) and not target_tag_key.startswith("aws:"),
            f"target_tag_key {target_tag_key!r} is not a tag key (1-128 characters, not starting with 'aws:')",
        )
        problems.check(
            bool(target_tag_values) and all(isinstance(v, str) and 0 < len(v) <= 256 for v in target_tag_values),
            f"target_tag_values must be one or more tag values of 1-256 characters (got {list(target_tag_values)!r})",
        )
        match = _SCHEDULE.match(schedule)
        problems.check(
            match is not None
            and not (match.group(2) is not None and match.group(3).startswith("minute") and int(match.group(2)) < 30),
            f"schedule {schedule!r} must be rate(N minute(s)|hour(s)|day(s)) with at least 30 minutes, or cron(...)",
        )
        for problem in config.problems():
            problems.add(f"config: {problem}")
        for problem in _mode_problems(mode, config, create_role):
            problems.add(problem)
        problems.raise_if_any()

        document = config.to_json()
        if mode is AgentMode.ON_PREMISES:
            # Off EC2 the agent cannot read the region from instance metadata.
            document["agent"]["region"] = cdk.Stack.of(self).region
        rendered = json.dumps(document, separators=(",", ":"))
        problems.check(
            len(rendered.encode()) <= ADVANCED_LIMIT,
            f"config renders to {len(rendered.encode())} bytes; an SSM parameter holds at most {ADVANCED_LIMIT}: "
            "split it into several CloudWatchAgent constructs with different tags",
        )
        problems.raise_if_any()

        self.config = config
        self.document = document
        self.parameter_name = _names.claim(self, "SSM parameter name", f"AmazonCloudWatch-{name}")

        # Log groups the agent writes to, created here so retention and encryption are ours, not the agent's.
        self.log_groups: dict[str, logs.ILogGroup] = {}
        self.key: kms.IKey | None = None
        group_names = config.log_group_names
        if group_names:
            self.key, created = _log_groups.encrypted_log_groups(
                self,
                log_groups={f"LogGroup{_construct_id(group)}": group for group in group_names},
                key=key,
                key_description=f"Encrypts the CloudWatch agent log groups of {self.parameter_name}",
                retention=log_retention,
                removal_policy=removal_policy,
            )
            self.log_groups = {group: created[f"LogGroup{_construct_id(group)}"] for group in group_names}

        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=self.parameter_name,
            description=f"CloudWatch agent configuration ({config.platform.value}) applied by State Manager",
            string_value=rendered,
            tier=ssm.ParameterTier.STANDARD if len(rendered.encode()) <= STANDARD_LIMIT else ssm.ParameterTier.ADVANCED,
        )

        self.role: iam.IRole | None = None
        self.instance_profile: iam.InstanceProfile | None = None
        managed = [
            iam.ManagedPolicy.from_aws_managed_policy_name("CloudWatchAgentServerPolicy"),
            iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"),
        ]
        if instance_role is not None:
            for policy in managed:
                instance_role.add_managed_policy(policy)
            if not isinstance(instance_role, iam.Role):
                # aws-cdk drops managed policies added to an imported role without a word.
                cdk.Annotations.of(self).add_warning_v2(
                    IMPORTED_WARNING_ID,
                    f"instance_role: {instance_role.node.path} is imported, so nothing can be attached to it "
                    "here; attach the managed policies CloudWatchAgentServerPolicy and "
                    "AmazonSSMManagedInstanceCore where it is defined, or the agent cannot start.",
                )
            self.role = instance_role
        elif create_role:
            self.role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                description="EC2 instances: SSM management and CloudWatch agent metrics and logs",
                managed_policies=managed,
            )
            self.instance_profile = iam.InstanceProfile(self, "InstanceProfile", role=self.role)
            _nag.acknowledge(
                self.role,
                "AWS documents these managed policies for the CloudWatch agent and SSM-managed instances; AWS "
                "maintains them as the agent and SSM Agent change. The agent reads only AmazonCloudWatch-* parameters.",
                *(f"AwsSolutions-IAM4[Policy::{_nag.rendered(self, p.managed_policy_arn)}]" for p in managed),
            )

        targets = [ssm.CfnAssociation.TargetProperty(key=f"tag:{target_tag_key}", values=list(target_tag_values))]
        self.install_association = ssm.CfnAssociation(
            self,
            "InstallAssociation",
            name="AWS-ConfigureAWSPackage",
            association_name=f"install-cloudwatch-agent-{name}",
            parameters={"action": ["Install"], "name": ["AmazonCloudWatchAgent"]},
            targets=targets,
            schedule_expression=schedule,
            max_concurrency="10%",
            max_errors="10%",
            compliance_severity="MEDIUM",
        )
        self.configure_association = ssm.CfnAssociation(
            self,
            "ConfigureAssociation",
            name="AmazonCloudWatch-ManageAgent",
            association_name=f"configure-cloudwatch-agent-{name}",
            parameters={
                "action": ["configure"],
                "mode": [mode.value],
                "optionalConfigurationSource": ["ssm"],
                "optionalConfigurationLocation": [self.parameter.parameter_name],
                "optionalRestart": ["yes"],
            },
            targets=targets,
            schedule_expression=schedule,
            max_concurrency="10%",
            max_errors="10%",
            compliance_severity="MEDIUM",
        )
        # Created after the install association and the log groups; a first run that beats the
        # install on a new instance is repaired by the next scheduled run.
        self.configure_association.node.add_dependency(self.install_association)
        for group in self.log_groups.values():
            self.configure_association.node.add_dependency(group)

    def grant_read_config(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the agent configuration parameter."""
        return self.parameter.grant_read(grantee)
