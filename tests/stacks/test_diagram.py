"""The README's architecture picture is regenerated from config/example.yaml: it never goes stale."""

from __future__ import annotations

from stacks.diagram import BEGIN, END, render
from tests.conftest import ROOT, Synthesized


def grouped(synth: Synthesized) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, stack in synth.stacks.items():
        result.setdefault(stack.account, []).append(name)
    return result


def test_readme_diagram_is_current(synthesized: dict[str, Synthesized]):
    example = synthesized["example"]
    expected = f"{BEGIN}\n{render(example.config, grouped(example))}\n{END}"
    assert expected in (ROOT / "README.md").read_text(), "README diagram is stale: run `make diagram`"


def test_diagram_shows_ous_accounts_stacks_and_the_trail_flow(synthesized: dict[str, Synthesized]):
    example = synthesized["example"]
    text = render(example.config, grouped(example))
    assert text.startswith("```mermaid\nflowchart LR")
    assert 'subgraph ou_Production["OU Production"]' in text
    assert "<i>acme-log-archive<br/>StackSet acme-workload-baseline (3 regions)</i>" in text
    assert "<i>acme-management<br/>acme-baseline-management-eu-west-1<br/>" in text
    assert 'acct_management -- "StackSet acme-workload-baseline: AWS Config, event forwarding' in text
    assert (
        'acct_management -- "organization trail acme-organization-trail: log files of every account" --> acct_log_archive'
        in text
    )
    assert 'empty_Infrastructure["(no accounts yet)"]' in text


def test_single_account_diagram(synthesized: dict[str, Synthesized]):
    single = synthesized["single-account"]
    text = render(single.config, grouped(single))
    assert 'subgraph single["single-account mode"]' in text
    assert "<i>solo-single-account<br/>" in text
