"""The test helpers themselves: a gate that cannot fail proves nothing."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import typing
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import cfn_lint


def _write(path: Path, resources: dict) -> Path:
    path.write_text(json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}))
    return path


def test_cfn_lint_passes_a_valid_template(tmp_path: Path):
    template = _write(tmp_path / "good.template.json", {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}})
    result = cfn_lint(template)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_an_error_and_a_warning(tmp_path: Path):
    template = _write(
        tmp_path / "bad.template.json",
        {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"NoSuchProperty": True}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "topic"}}},
        },
    )
    result = cfn_lint(template)
    assert result.returncode & 2, "an error sets bit 2 of the exit code, as the cfn-lint command does"
    assert result.returncode & 4, "a warning sets bit 4"
    assert f"{template}:" in result.stdout and "NoSuchProperty" in result.stdout
    # Options reach cfn-lint: ignoring the warning's rule leaves the error alone.
    warning_rule = re.search(r":(W\d+):", result.stdout).group(1)
    ignored = cfn_lint(template, "--ignore-checks", warning_rule)
    assert ignored.returncode & 2 and not ignored.returncode & 4, ignored.stdout


def test_cfn_lint_loads_its_rules_once_per_process_and_no_option_carries_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import cfnlint.helpers

    template = _write(
        tmp_path / "arn.template.json",
        {
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {
                    "KmsMasterKeyId": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:123456789012:key/abc"}
                },
            }
        },
    )
    hard_coded_account = ["--include-checks", "I3042", "--configure-rule", "I3042:accountId=true"]
    assert ":I3042:" in cfn_lint(template, *hard_coded_account).stdout
    loads = []
    load_plugins = cfnlint.helpers.load_plugins
    monkeypatch.setattr(cfnlint.helpers, "load_plugins", lambda *a, **k: loads.append(a) or load_plugins(*a, **k))
    # The same rule objects, configured anew: the rule's default (accounts allowed) is back.
    assert cfn_lint(template, "--include-checks", "I3042").returncode == 0
    assert cfn_lint(template, *hard_coded_account).returncode == 8
    bad = _write(tmp_path / "bad.template.json", {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"No": 1}}})
    assert cfn_lint(bad).returncode & 2
    assert loads == [], "the rules were loaded again"


#: A template with findings of many kinds: properties, types, enums, patterns, limits, references,
#: attributes, conditions, dynamic references, IAM policies, and an info finding that takes an option.
FINDINGS = {
    "Parameters": {"Env": {"Type": "String", "AllowedValues": ["prod", "dev"]}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "NoSuchProperty": True,
                "VersioningConfiguration": {"Status": "Sometimes"},
                "BucketName": {"Fn::If": ["IsProd", "Bad_Name", {"Ref": "AWS::NoValue"}]},
                "LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpirationInDays": "ten"}]},
            },
        },
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": {"Fn::Sub": "topic"},
                "KmsMasterKeyId": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:123456789012:key/abc"},
            },
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python2.0",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Bucket", "NoSuchAttribute"]},
                "Code": {"ZipFile": "x"},
                "Timeout": 9000,
                "Environment": {"Variables": {"P": "{{resolve:ssm:/my/param}}", "Q": "{{ resolve:ssm:/x }}"}},
            },
        },
        "Group": {"Type": "AWS::Logs::LogGroup", "Condition": "IsProd", "Properties": {"RetentionInDays": 400}},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "p",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "s3:GetObjects",
                                    "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                                },
                                {"Effect": "Maybe", "Action": ["iam:PassRole"], "Resource": "*"},
                            ],
                        },
                    }
                ],
            },
        },
        "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "ComparisonOperator": "GreaterThan",
                "EvaluationPeriods": 0,
                "Threshold": "x",
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "Period": 61,
                "Statistic": "Sum",
                "AlarmActions": [{"Ref": "Topic"}, {"Ref": "Missing"}],
            },
        },
    },
    "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Topic", "Arn"]}}},
}


def test_cfn_lint_makes_each_validator_class_once_and_finds_what_cfn_lint_finds_unshared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Also with each class's dataclass fields looked up once (``_cache_cfn_lint_dataclass_fields``)."""
    import dataclasses

    from cfnlint.context import context
    from cfnlint.jsonschema import validators

    from tests.conftest import cfn_lint_as_it_comes

    template = tmp_path / "findings.template.json"
    template.write_text(json.dumps({"AWSTemplateFormatVersion": "2010-09-09", **FINDINGS}))
    cfn_lint(template)  # the process's classes are shared from its first lint on
    made: list[type] = []

    def record_classes() -> None:
        create = validators.create
        monkeypatch.setattr(validators, "create", lambda *a, **k: made.append(create(*a, **k)) or made[-1])

    record_classes()
    for options in (
        [],
        ["--include-checks", "I"],
        ["--include-checks", "I", "--configure-rule", "I3042:accountId=true"],
    ):
        made.clear()
        shared = cfn_lint(template, *options)
        shared_classes, calls = len(set(made)), len(made)
        assert validators.fields is context.fields is not dataclasses.fields
        with cfn_lint_as_it_comes():
            assert validators.fields is context.fields is dataclasses.fields
            record_classes()
            made.clear()
            unshared = cfn_lint(template, *options)
            assert len(set(made)) == len(made) == calls > 20, "cfn-lint as it comes makes a class per call"
        assert 2 * shared_classes < calls, (shared_classes, calls)
        assert shared.returncode & 2 and shared.returncode & 4
        assert len(shared.stdout.splitlines()) >= 20, shared.stdout
        assert (shared.returncode, shared.stdout, shared.stderr) == (
            unshared.returncode,
            unshared.stdout,
            unshared.stderr,
        )
    assert ":I3042:" in shared.stdout and ":E3012:" in shared.stdout and ":W3037:" in shared.stdout


@pytest.fixture
def shared_lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """cfn_lint with a folder shared as in a test run; returns the templates of each cfn-lint run."""
    from tests import conftest

    (tmp_path / "shared").mkdir()
    monkeypatch.setattr(conftest, "_shared", tmp_path / "shared")
    linted: list[list[str]] = []
    run = conftest._run_cfn_lint

    def recorded(argv: list[str]) -> subprocess.CompletedProcess[str]:
        linted.append([argument for argument in argv if argument.endswith(".json")])
        return run(argv)

    monkeypatch.setattr(conftest, "_run_cfn_lint", recorded)
    return linted


HANDLE = {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
BAD = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"NoSuchProperty": 1}}}


def test_a_template_found_clean_is_not_linted_again_in_any_set_or_under_any_path(
    tmp_path: Path, shared_lint: list[list[str]], monkeypatch: pytest.MonkeyPatch
):
    from tests import conftest

    good = _write(tmp_path / "good.template.json", HANDLE)
    again = _write(tmp_path / "again.template.json", HANDLE)  # the same bytes under another path
    bad = _write(tmp_path / "bad.template.json", BAD)
    assert cfn_lint(good).returncode == 0
    assert cfn_lint(again).returncode == 0
    together = cfn_lint(again, bad)
    assert shared_lint == [[str(good)], [str(bad)]]
    assert cfn_lint(good, "--ignore-checks", "W3005").returncode == 0  # other options: linted anew
    assert shared_lint[-1] == [str(good)]
    monkeypatch.setattr(conftest, "_shared", None)  # not shared: one cfn-lint over both, as the command runs
    alone = cfn_lint(again, bad)
    assert (together.returncode, together.stdout, together.stderr) == (alone.returncode, alone.stdout, alone.stderr)
    assert together.returncode & 2 and f"{bad}:" in together.stdout


@pytest.mark.parametrize("found_clean", [True, False])
def test_a_template_another_process_is_linting_is_waited_for(
    tmp_path: Path, shared_lint: list[list[str]], found_clean: bool, monkeypatch: pytest.MonkeyPatch
):
    """Two workers lint sets that share templates at the same time: each template is linted by one of
    them. If the other did not find it clean (it failed, say), the waiting one lints it itself."""
    from tests import conftest

    shared = tmp_path / "shared"
    theirs = _write(tmp_path / "theirs.template.json", HANDLE)
    mine = _write(tmp_path / "mine.template.json", {"Other": HANDLE["Handle"]})
    key = conftest._lint_key(["--format", "parseable"], str(theirs))
    lock = conftest._lock(shared / f"cfn-lint-{key}.lock", wait=True)  # the other worker, linting it
    waiting = threading.Event()  # set when this process is about to block on that lock
    take = conftest._lock

    def lock_of_theirs_noted(path: Path, *, wait: bool) -> IO[str] | None:
        if wait and path.name == f"cfn-lint-{key}.lock":
            waiting.set()
        return take(path, wait=wait)

    monkeypatch.setattr(conftest, "_lock", lock_of_theirs_noted)

    def other_worker_finishes() -> None:
        waiting.wait()
        time.sleep(0.1)  # into its flock()
        if found_clean:
            (shared / f"cfn-lint-clean-{key}").touch()
        lock.close()

    finisher = threading.Thread(target=other_worker_finishes)
    finisher.start()
    result = cfn_lint(theirs, mine)
    waited = waiting.is_set()
    waiting.set()  # the finisher's turn, if cfn_lint did not wait
    finisher.join()
    assert waited, "cfn_lint never waited for the template the other worker was linting"
    assert result.returncode == 0, result.stdout
    assert shared_lint == ([[str(mine)]] if found_clean else [[str(mine)], [str(theirs)]])


# --- jsii's argument checks, each answer a value's class decides given once (tests/type_checks.py) ---


class _Named(typing.NamedTuple):
    x: int


class _Typed(typing.TypedDict):
    x: int


@typing.runtime_checkable
class _Closable(typing.Protocol):
    def close(self) -> None: ...


# jsii's generated code spells unions typing.Union and typing.Optional (typing's objects, not X | Y):
# the expected types below are spelt as it spells them.
def test_which_expected_types_the_class_of_the_value_decides():
    from aws_cdk import IResolvable

    from tests.type_checks import class_decides

    decided = [
        str,
        float,
        type(None),
        typing.Any,
        IResolvable,  # a jsii interface: a protocol typeguard 2 takes anything for
        typing.Optional[str],  # noqa: UP045
        typing.Union[str, IResolvable],  # noqa: UP007
        str | None,
    ]
    undecided = [
        typing.Sequence[str],  # the items decide
        typing.Optional[typing.Sequence[str]],  # noqa: UP045
        typing.Mapping[str, typing.Any],
        typing.Tuple[int, ...],  # noqa: UP006
        _Named,  # typeguard checks a named tuple's fields
        _Typed,  # and a typed dict's keys
        _Closable,  # and a runtime-checkable protocol's attributes
        typing.Union[str, typing.Sequence[str]],  # noqa: UP007
    ]
    assert [t for t in decided if not class_decides(t)] == []
    assert [t for t in undecided if class_decides(t)] == []


def test_a_remembered_check_passes_and_fails_as_typeguard_does():
    import typeguard

    from tests.type_checks import remembering

    asked = []

    def check(argname: str, value: object, expected_type: object) -> None:
        asked.append((type(value), expected_type))
        typeguard.check_type(argname, value, expected_type)

    remembered = remembering(check)
    optional_names = typing.Optional[typing.Sequence[str]]  # noqa: UP045
    for _ in range(3):
        remembered("argument", "a", str)
        remembered("argument", 5, float)  # typeguard takes an int for a float
        remembered("argument", None, optional_names)  # None decides by its class (the union's None)
        remembered("argument", ["a"], optional_names)  # a list does not: its items are checked each time
    assert asked.count((str, str)) == 1 and asked.count((int, float)) == 1
    assert asked.count((type(None), optional_names)) == 1
    assert asked.count((list, optional_names)) == 3
    with pytest.raises(TypeError, match="must be str"):
        remembered("argument", b"a", str)
    with pytest.raises(TypeError):
        remembered("argument", ["a", 1], optional_names)  # the same class as a list that passed
    with pytest.raises(TypeError):
        remembered("argument", 2.5, int)


def test_in_a_test_process_jsii_remembers_and_still_refuses_a_wrong_argument():
    import aws_cdk as cdk
    import jsii._type_checking

    assert hasattr(jsii._type_checking._resolved_check, "remembers")
    assert cdk.Duration.minutes(5).to_seconds() == 300
    with pytest.raises(TypeError, match="amount"):
        cdk.Duration.minutes("5")  # type: ignore[arg-type]
