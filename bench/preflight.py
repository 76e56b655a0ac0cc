"""Preflight benchmark: ``make preflight`` on an organization of many accounts, one account after
another against ``--jobs`` accounts at a time.

    .venv/bin/python bench/preflight.py                       # 100 workload accounts, 50 ms per call
    .venv/bin/python bench/preflight.py --accounts 1000 --latency-ms 100 --jobs 1,8,16
    .venv/bin/python bench/preflight.py --http --accounts 100 --latency-ms 0   # over kept-alive HTTP

The organization is emulated in this process (moto's ``mock_aws``): the example config's management,
log archive and audit accounts and ``--accounts`` workload accounts in its two workload OUs, every CDK
environment of the plan bootstrapped, so that the preflight finds no blocker and runs every check of
every account. moto answers a call in well under a millisecond, AWS in tens (more from another
continent): each call first waits ``--latency-ms`` (``time.sleep``, which other threads run through,
as they run through a real network wait), so the table shows what the waiting costs. The API calls
are counted per service; each run's rows must be the same as the first run's (the order included).
Each run also reports the boto3 clients it made and the process's peak resident set. With ``--http``
moto answers over HTTP/1.1 on a local port instead, keeping connections alive as AWS does (moto's own
server closes each one), and the table adds the most connections still open when an account was
reported done: what an account's clients hold on to.

This is a measurement, not a test: it prints a table and never fails on a number.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import http.server
import io
import json
import os
import resource
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# bench/ is no package: the app's root and this folder first
from synth import with_workloads, workload_name, workload_unit  # noqa: E402

from stacks.config import BaselineConfig, parse_config  # noqa: E402

#: moto's account for the caller's credentials: the management account.
MANAGEMENT = "123456789012"


def organization_data(accounts: int, ids: dict[str, str], units: dict[str, str], org_id: str) -> dict[str, Any]:
    """config/example.yaml with the emulated organization's ids and ``accounts`` workload accounts
    (bench/synth.py's: ``workload-NNNN``, alternately in Production and NonProduction)."""
    data = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
    for account in data["accounts"]:
        if account["role"] != "workload":
            account["id"] = MANAGEMENT if account["role"] == "management" else ids[account["name"]]
    with_workloads(data, accounts, ids)
    data["organization"]["id"] = org_id

    def with_ids(nodes: list[dict[str, Any]]) -> None:
        for unit in nodes:
            unit["id"] = units[unit["name"]]
            with_ids(unit.get("children", []))

    with_ids(data["organization"]["organizational_units"])
    return data


def emulated_organization(session: Any, accounts: int) -> BaselineConfig:
    """The organization created in moto; returns its config (every id the emulator handed out)."""
    orgs = session.client("organizations")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    example = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
    units: dict[str, str] = {}

    def create(nodes: list[dict[str, Any]], parent: str) -> None:
        for unit in nodes:
            created = orgs.create_organizational_unit(ParentId=parent, Name=unit["name"])["OrganizationalUnit"]
            units[unit["name"]] = created["Id"]
            create(unit.get("children", []), created["Id"])

    create(example["organization"]["organizational_units"], root)
    members = [(a["name"], a.get("ou")) for a in example["accounts"] if a["role"] not in ("management", "workload")]
    members += [(workload_name(i), workload_unit(i)) for i in range(accounts)]
    ids: dict[str, str] = {}
    for name, unit in members:
        status = orgs.create_account(Email=f"aws-{name}@acme.example", AccountName=name)["CreateAccountStatus"]
        ids[name] = status["AccountId"]
        if unit is not None:
            orgs.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=units[unit])
    return parse_config(organization_data(accounts, ids, units, org_id))


def bootstrap(session: Any, plan: Any) -> None:
    """A CDKToolkit stack (version 33, trusting the management account) in every environment of the plan."""
    from stacks import preflight

    sessions = preflight.Sessions(session, home_account=MANAGEMENT, member_role=preflight.DEFAULT_MEMBER_ROLE)
    template = json.dumps(
        {
            "Parameters": {"TrustedAccounts": {"Type": "String", "Default": ""}, "Version": {"Type": "String"}},
            "Resources": {
                "CdkBootstrapVersion": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Name": "/cdk-bootstrap/hnb659fds/version", "Value": "33"},
                }
            },
        }
    )
    for env in plan.environments:
        trusted = "" if env.account == MANAGEMENT else MANAGEMENT
        sessions.client(env.account, "cloudformation", env.region).create_stack(
            StackName="CDKToolkit",
            TemplateBody=template,
            Parameters=[
                {"ParameterKey": "TrustedAccounts", "ParameterValue": trusted},
                {"ParameterKey": "Version", "ParameterValue": "33"},
            ],
        )


@contextlib.contextmanager
def http_emulator() -> Iterator[int]:
    """moto on a free local port over HTTP/1.1, connections kept alive as AWS's endpoints keep them;
    every boto3 client goes there. Yields the port.

    Not moto's own server: werkzeug's closes every connection after its answer. This one reads each
    request whole (its Content-Length), answers with a Content-Length and waits for the next request
    on the same connection."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)

    class KeptAlive(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # the answer in one write, flushed at its end (not 40 ms of delayed ACK per call)
        disable_nagle_algorithm = True

        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            environ = {
                "REQUEST_METHOD": self.command,
                "SCRIPT_NAME": "",
                "PATH_INFO": urllib.parse.unquote(path),
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": str(self.server.server_address[1]),
                "SERVER_PROTOCOL": self.request_version,
                "REMOTE_ADDR": self.client_address[0],
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            for name, value in self.headers.items():
                key = "HTTP_" + name.upper().replace("-", "_")
                if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    environ[key] = f"{environ[key]},{value}" if key in environ else value
            started: list[Any] = []
            try:
                out = b"".join(app(environ, lambda status, headers, *_: started.extend((status, headers))))
                status, headers = started
            except Exception as error:  # a service moto lacks (Control Tower, OAM): an error answer, not a reset
                out = json.dumps({"__type": "NotImplemented", "message": f"not emulated: {error}"}).encode()
                status, headers = "501 Not Implemented", [("Content-Type", "application/x-amz-json-1.1")]
            self.send_response(int(status.split()[0]), status.partition(" ")[2])
            for name, value in headers:
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = answer

        def log_message(self, *_: Any) -> None:  # a line per call otherwise
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeptAlive)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    try:
        yield port
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
        server.shutdown()
        thread.join()
        server.server_close()


def open_connections(port: int) -> int:
    """Connections to ``port`` on this machine that still hold a file (established, or closed by the
    server and not yet by the client), from /proc/net/tcp: the client sides of the emulator's sockets."""
    states = {"01", "08"}  # ESTABLISHED, CLOSE_WAIT
    count = 0
    for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] in states:
            count += 1
    return count


def peak_mib() -> float:
    """This process's largest resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Measured(NamedTuple):
    """One preflight run of the table."""

    jobs: int
    wall: float
    cpu: float
    calls: int
    clients: int
    rows: int
    blockers: int
    calls_by_service: dict[str, int]
    peak_mib: float
    #: most connections to the emulator open when an account was reported done (``--http`` only)
    sockets: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100, help="workload accounts (default 100)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="wait before each API call (default 50)")
    parser.add_argument("--jobs", default="1,8", help="comma-separated --jobs values to time (default 1,8)")
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve the emulator over HTTP/1.1 on a local port, connections kept alive as AWS keeps them "
        "(default: inside this process, no sockets)",
    )
    args = parser.parse_args(argv)
    jobs = [int(j) for j in args.jobs.split(",")]

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # build_plan starts aws-cdk
    import boto3
    from moto import mock_aws

    from stacks.deploy_plan import build_plan
    from stacks.preflight import Result, run_preflight

    with contextlib.ExitStack() as emulator:
        port = emulator.enter_context(http_emulator()) if args.http else None
        if port is None:
            emulator.enter_context(mock_aws())
        else:  # moto's server prints a line per call to a service it lacks (Control Tower, OAM)
            emulator.enter_context(contextlib.redirect_stdout(io.StringIO()))
        session = boto3.Session(region_name="eu-west-1")
        started = time.perf_counter()
        config = emulated_organization(session, args.accounts)
        plan = build_plan(config)
        bootstrap(session, plan)
        before = peak_mib()
        print(
            f"organization of {len(config.accounts)} accounts emulated and its plan built in "
            f"{time.perf_counter() - started:.1f} s (untimed), {before:.0f} MiB",
            file=sys.stderr,
        )

        calls: collections.Counter[str] = collections.Counter()
        counting = threading.Lock()  # the accounts' threads count side by side

        def wait(event_name: str, **_: Any) -> None:  # before-send: after the request is built, before moto
            with counting:
                calls[event_name.split(".")[1]] += 1
            time.sleep(args.latency_ms / 1000)

        session.events.register_first("before-send", wait)
        clients = [0]

        def made(**_: Any) -> None:  # one class per client made (under the preflight's client lock)
            clients[0] += 1

        session.events.register("creating-client-class", made)
        sockets = [0]

        def progress(_line: str) -> None:  # once per account checked: the client sockets open then
            if port is not None:
                sockets[0] = max(sockets[0], open_connections(port))

        results: list[Measured] = []
        first_rows = None
        for count in jobs:
            calls.clear()
            clients[0] = sockets[0] = 0
            wall, cpu = time.perf_counter(), time.process_time()
            rows = run_preflight(config, session=session, plan=plan, jobs=count, progress=progress)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if first_rows is None:
                first_rows = rows
            elif rows != first_rows:
                print(f"--jobs {count}: the rows differ from --jobs {jobs[0]}'s", file=sys.stderr)
                return 1
            results.append(
                Measured(
                    jobs=count,
                    wall=wall,
                    cpu=cpu,
                    calls=sum(calls.values()),
                    clients=clients[0],
                    rows=len(rows),
                    blockers=sum(r.result is Result.BLOCKER for r in rows),
                    calls_by_service=dict(calls),
                    peak_mib=peak_mib(),
                    sockets=sockets[0],
                )
            )
            print(f"--jobs {count}: {wall:.1f} s", file=sys.stderr)

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"preflight, {len(config.accounts)} accounts ({args.accounts} workload), {args.latency_ms:g} ms per call, "
        f"{os.cpu_count()} cores, {now}"
    )
    print()
    print(
        f"{'jobs':>4} {'wall s':>8} {'CPU s':>7} {'calls':>7} {'clients':>7} {'rows':>6} {'blockers':>8} "
        f"{'vs first':>8} {'peak MiB':>8}" + (f" {'sockets':>7}" if args.http else "")
    )
    for run in results:
        print(
            f"{run.jobs:>4} {run.wall:8.1f} {run.cpu:7.1f} {run.calls:7d} {run.clients:7d} {run.rows:6d} "
            f"{run.blockers:8d} {results[0].wall / run.wall:7.1f}x {run.peak_mib:8.0f}"
            + (f" {run.sockets:7d}" if args.http else "")
        )
    print()
    print(
        f"peak MiB: the process's largest resident set by the end of that run, the emulated organization "
        f"included ({before:.0f} MiB before the first run)"
    )
    if args.http:
        print("sockets: the most connections to the emulator open when an account was reported done")
    by_service = results[0].calls_by_service
    print("calls per run by service: " + ", ".join(f"{k} {v}" for k, v in sorted(by_service.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
