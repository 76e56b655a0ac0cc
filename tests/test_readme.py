"""Every ```python block of README.md and of the pages under docs/ runs as written, on its own: a block
that fails, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    """README.md, then every markdown page under docs/."""
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def python_blocks() -> list[tuple[str, int, str]]:
    """(document relative to the repository, line of the opening fence + 1, code) of every python block."""
    blocks = []
    for path in documents():
        text = path.read_text()
        name = path.relative_to(ROOT).as_posix()
        blocks += [(name, text[: m.start()].count("\n") + 1, m.group(1)) for m in _BLOCK.finditer(text)]
    return blocks


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but hyphens dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_readme_has_python_examples():
    blocks = python_blocks()
    assert len(blocks) >= 19
    assert {name for name, _, _ in blocks} >= {"README.md", "docs/constructs.md", "docs/telemetry.md"}
    # The front door shows the library with one runnable example of its own.
    assert sum(name == "README.md" for name, _, _ in blocks) >= 1


def test_the_readme_is_the_front_door_and_links_every_docs_page():
    readme = README.read_text()
    assert readme.count("\n") < 450, "README.md grew past the front door: move reference material into docs/"
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{page.name})" in readme, f"README.md's docs map misses docs/{page.name}"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_files_and_headings_that_exist(path: Path):
    text = path.read_text()
    for target in _LINK.findall(_BLOCK.sub("", text)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{path.relative_to(ROOT)}: link to {target}: no such file"
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", re.sub(r"^```.*?^```", "", linked.read_text(), flags=re.S | re.M), re.M)
            assert anchor in {_slug(h) for h in headings}, (
                f"{path.relative_to(ROOT)}: link to {target}: no such heading"
            )


@pytest.mark.parametrize(
    ("name", "line", "code"), python_blocks(), ids=[f"{n}:{line}" for n, line, _ in python_blocks()]
)
def test_block_runs_on_its_own(name: str, line: int, code: str):
    if "cdk.App(" in code:
        # A block that builds an app synthesizes it, so what it shows is what CloudFormation gets.
        assert "app.synth()" in code, f"{name}:{line}: the block builds an app but never synthesizes it"
    exec(compile(code, f"{name}:{line}", "exec"), {"__name__": f"doc_{line}"})


def test_the_readmes_make_synth_summary_is_what_make_synth_prints(synthesized, capsys: pytest.CaptureFixture[str]):
    """The table under "`make synth` prints a summary" is the summary of the example organization as
    synthesized now (with the cdk-nag packs), resource counts included."""
    from stacks import summary

    block = README.read_text().split("`make synth` prints a summary:\n\n```\n", 1)[1].split("```", 1)[0]
    outdir = synthesized["example"].outdir
    summary.main(["summary", str(outdir)])
    printed = capsys.readouterr().out.replace(f"{outdir}/", "cdk.out/")
    # The command pads every column, the last one too; the README's lines carry no trailing blanks.
    assert [line.rstrip() for line in printed.splitlines()] == block.splitlines()
