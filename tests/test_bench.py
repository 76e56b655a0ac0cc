"""The benchmark's generated organizations stay valid configs (a broken case only shows when the
benchmark is run, long after the change that broke it)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.config import AccountRole, load_config
from tests.conftest import CDK_CONTEXT, ROOT


def _bench(name: str = "synth"):
    """``bench/<name>.py`` as a module (bench/ is no package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("accounts", [1, 3])
def test_generated_configs_are_valid(accounts: int, tmp_path: Path):
    config = load_config(_bench().generated_config(accounts, tmp_path))
    assert len(config.accounts_with_role(AccountRole.WORKLOAD)) == accounts


def test_the_lower_bound_app_reemits_the_example_templates_resource_for_resource(synthesized, tmp_path: Path):
    """bench/templates_only.py bounds app.py only if it emits the same resources app.py does."""
    templates = sorted(synthesized["example"].outdir.glob("*.template.json"))
    assert len(templates) == 8  # seven stacks and the StackSet's template
    app = cdk.App(outdir=str(tmp_path), context=CDK_CONTEXT)
    _bench("templates_only").reemit(app, templates)
    app.synth()

    def resources(path: Path) -> dict:
        found = json.loads(path.read_text())["Resources"]
        for resource in found.values():  # aws-cdk sorts the DependsOn it writes; the order means nothing
            if isinstance(resource.get("DependsOn"), list):
                resource["DependsOn"] = sorted(resource["DependsOn"])
        return found

    for index, template in enumerate(templates):
        assert resources(tmp_path / f"Template{index}.template.json") == resources(template), template.name


def test_the_templates_line_tells_the_same_resources_from_different_ones(synthesized, tmp_path: Path):
    """The large organization's case is read against its templates: the same resources (only values
    differ, such as the canary alarms' account-region counts) or not."""
    bench = _bench()
    example = synthesized["example"].outdir
    count = sum(len(json.loads(p.read_text())["Resources"]) for p in example.glob("*.template.json"))
    same = bench.templates_line((example, example))
    assert same.startswith(f"templates: the same {count} resources in 8 templates; cloud assembly "), same
    other = tmp_path / "other"
    shutil.copytree(example, other)
    template = sorted(other.glob("*.template.json"))[0]
    data = json.loads(template.read_text())
    data["Resources"].popitem()
    template.write_text(json.dumps(data))
    assert bench.templates_line((example, other)).startswith(
        f"templates: {count - 1} resources in 8 templates against {count} resources in 8 templates; "
    )


def test_the_loading_line_times_each_config_in_fresh_processes():
    configs = (str(ROOT / "config" / "single-account.yaml"), str(ROOT / "config" / "example.yaml"))
    line = _bench().loading_line(sys.executable, configs, 5.0, repeats=1)
    found = re.fullmatch(
        r"loading the config: (\d+\.\d{3}) s against (\d+\.\d{3}) s \(medians of 1 fresh processes each\), "
        r"([+-]\d+\.\d{3}) s: (\d+\.\d{3})x of the 5\.0 s synthesis from loading alone",
        line,
    )
    assert found, line
    large, small, difference, ratio = map(float, found.groups())
    assert 0 < small < 5 and 0 < large < 5
    assert difference == pytest.approx(large - small, abs=0.0015)
    assert ratio == pytest.approx(1 + difference / 5.0, abs=0.0015)


def test_the_profile_charges_each_request_to_the_library_line_that_sent_it():
    """bench/synth_profile.py: counts inside the block only, every request once, charged to constructs_lib."""
    from constructs_lib import LogBucket
    from tests.conftest import new_stack

    profile = _bench("synth_profile")
    stack = new_stack()
    with profile.counting() as requests:
        LogBucket(stack, "Logs", server_access_logs=False)
    cdk.Stack(stack.node.scope, "After")  # outside the block: not counted

    assert requests.created["aws-cdk-lib.aws_s3.Bucket"] == 1
    assert "aws-cdk-lib.Stack" not in requests.created
    assert requests.count["create"] == sum(requests.created.values())
    assert requests.total == sum(requests.sites.values()) == sum(requests.files.values())
    assert "constructs_lib/log_bucket.py" in requests.files
    assert all(site.split(":", 1)[0] in requests.files for site in requests.sites)
    assert set(requests.seconds) == set(requests.count)


def test_the_profile_report_lists_phases_requests_types_and_lines():
    profile = _bench("synth_profile")
    build, synth = profile.Requests(), profile.Requests()
    build.count.update(create=3, get=5)
    build.seconds.update(create=0.3, get=0.05)
    build.created.update({"aws-cdk-lib.aws_s3.Bucket": 3})
    build.created_seconds.update({"aws-cdk-lib.aws_s3.Bucket": 0.3})
    build.sites.update({"constructs_lib/log_bucket.py:10": 8})
    synth.count.update(complete=2)
    synth.seconds.update(complete=1.5)
    phases = [profile.Phase("build the stacks", 1.0, 0.4, 0.7), profile.Phase("app.synth()", 2.0, 0.1, 3.0)]

    lines = profile.report(phases, build, synth, top=5).splitlines()

    assert lines[0].split() == ["phase", "wall", "s", "python", "CPU", "s", "node", "CPU", "s"]
    assert lines[3].split() == ["total", "3.00", "0.50", "3.70"]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.strip()}
    assert rows["create"] == ["3", "0.300", "0", "0.000"]
    assert rows["complete"] == ["0", "0.000", "2", "1.500"]
    assert rows["total"] == ["8", "0.350", "2", "1.500"]
    assert rows["aws-cdk-lib.aws_s3.Bucket"] == ["3", "0.300"]
    assert rows["constructs_lib/log_bucket.py:10"] == ["8"]
    assert rows["constructs_lib/log_bucket.py"] == ["8"]  # the file's row sums its lines


def test_the_preflight_bench_runs_a_ready_organization_without_blockers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """bench/preflight.py: its emulated organization is ready (no blocker, every check runs), and each
    --jobs run gives the same rows (it exits 1 otherwise). Over HTTP with kept-alive connections, as AWS
    answers: the connections left open are under half the clients made (each account's are closed)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, "")  # the bench sets them: restored after the test
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # the bench points it at its emulator
    assert _bench("preflight").main(["--accounts", "1", "--latency-ms", "0", "--jobs", "1,2", "--http"]) == 0
    table = capsys.readouterr().out
    assert "preflight, 4 accounts (1 workload), 0 ms per call" in table
    runs = [line.split() for line in table.splitlines() if line.strip()[:1].isdigit()]
    assert [run[0] for run in runs] == ["1", "2"]
    assert {run[6] for run in runs} == {"0"}  # blockers
    assert len({(run[3], run[4]) for run in runs}) == 1  # the same calls and clients either way
    assert int(runs[0][4]) >= 4  # a client per account at least
    assert all(float(run[8]) >= float(runs[0][8]) > 0 for run in runs)  # the process's peak: it only grows
    # Connections open when an account is done against clients made: with every client kept (before
    # 36800a4) 58 of 59; closed per account, 3 with one job and 15 with two.
    assert all(0 < 2 * int(run[9]) < int(run[4]) for run in runs)


# --- bench/test_suite.py: `make test`'s time next to the floor (the suite itself is not run here) ---


def test_the_suite_bench_reads_the_seconds_of_pytests_summary_line():
    suite = _bench("test_suite")
    assert suite.pytest_seconds("....\n===== 2258 passed in 70.87s (0:01:10) =====\n") == 70.87
    assert suite.pytest_seconds("1 failed, 3 passed, 2 warnings in 2.5s\nmake: *** [test] Error 1\n") == 2.5
    assert suite.pytest_seconds("ruff: All checks passed!\nran in 3s\n") is None  # no summary line
    assert suite.pytest_seconds("") is None


def test_the_suite_bench_charges_each_test_to_its_file(tmp_path: Path):
    suite = _bench("test_suite")
    report = tmp_path / "junit.xml"
    report.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        '<testcase classname="tests.stacks.test_config.TestCommandLine" name="a" time="1.25" />'
        '<testcase classname="tests.stacks.test_config" name="b" time="0.5" />'
        '<testcase classname="tests.test_bench" name="c[1]" time="2.0" />'
        '<testcase classname="somewhere.else.TestX" name="d" time="0.125" />'
        "</testsuite></testsuites>"
    )
    assert suite.module_of("tests.stacks.test_config.TestCommandLine") == "tests/stacks/test_config.py"
    assert suite.seconds_by_file(report) == {
        "tests/stacks/test_config.py": (1.75, 2),
        "tests/test_bench.py": (2.0, 1),
        "somewhere.else.TestX": (0.125, 1),  # no such file: its classname as it came
    }


def test_the_suite_bench_measures_cpu_and_memory_of_one_run_only(tmp_path: Path):
    """The wrapper a run goes through: the exit code passes through, and the CPU and largest resident set
    are those of the processes it waited for (a fresh process per run: nothing of an earlier run counts)."""
    suite = _bench("test_suite")
    usage = tmp_path / "usage.json"
    busy = "import sys\nblock = bytearray(64 * 1024 * 1024)\nsum(range(3 * 10**6))\nsys.exit(3)\n"
    done = subprocess.run([sys.executable, "-c", suite._USAGE, str(usage), sys.executable, "-c", busy])
    assert done.returncode == 3
    used = json.loads(usage.read_text())
    assert 0 < used["cpu"] < 30
    assert used["maxrss_kib"] > 64 * 1024  # the 64 MiB block was resident


def test_the_suite_bench_reports_runs_medians_target_and_slowest_files():
    suite = _bench("test_suite")
    runs = [suite.SuiteRun(72.0, 70.5, 135.0, 610.0, 1.8), suite.SuiteRun(66.0, None, 125.0, 600.0, 1.5)]
    files = [
        {"tests/a.py": (10.0, 3), "tests/b.py": (30.0, 1)},
        {"tests/a.py": (20.0, 3), "tests/c.py": (5.0, 2)},
    ]
    lines = suite.report(runs, files, top=2, heading="make test, 2 run(s)").splitlines()
    assert lines[0] == "make test, 2 run(s)"
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:6]}
    assert rows["1"] == ["72.0", "70.5", "135.0", "610", "1.80", "40.0"]
    assert rows["2"] == ["66.0", "-", "125.0", "600", "1.50", "44.0"]
    assert rows["med"] == ["69.0", "70.5", "130.0", "605", "1.65", "41.8"]
    assert "wall/floor: median of the runs' ratios 42.0" in lines
    (target,) = [line for line in lines if line.startswith("target:")]
    assert "under 60 s on 2 cores: not met" in target and "(median 69.0 s, fastest 66.0 s, slowest 72.0 s)" in target
    # Medians per file over the runs (a file missing from a run counts 0 there), slowest first, top 2.
    table = lines[lines.index(next(line for line in lines if line.startswith("test files by seconds"))) :]
    assert "32.5 s in all, 3 files; the first 2" in table[0]
    assert [row.split() for row in table[2:]] == [
        ["15.0", "46.2%", "3", "tests/a.py"],
        ["15.0", "46.2%", "1", "tests/b.py"],
    ]
    fast = [suite.SuiteRun(55.0, 54.0, 100.0, 500.0, 1.5)]
    assert ": met on this" in suite.report(fast, [], top=5, heading="h")


def test_the_suite_bench_refuses_a_count_below_one():
    with pytest.raises(SystemExit) as exit_:
        _bench("test_suite").main(["--runs", "0"])
    assert exit_.value.code == 2
