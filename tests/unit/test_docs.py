"""The documentation stays usable: README.md is a short page with the requirements on its first
screen; every relative link of README.md, docs/*.md and the other READMEs reaches a file (and a
heading, when it names one), and every `make <target>` they mention exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        *(ROOT / "docs").glob("*.md"),
        ROOT / "web" / "README.md",
        ROOT / "clients" / "js" / "README.md",
        ROOT / "clients" / "python" / "README.md",
        ROOT / "bench" / "README.md",
        ROOT / "infra" / "README.md",
    ]
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MAKE = re.compile(r"\bmake ([a-z][a-z-]*)\b")


def _targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text))


def _anchors(page: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", page.read_text(), re.M)}


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code blocks are not links
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_its_heading(page: Path) -> None:
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        found = (page.parent / path).resolve() if path else page
        missing_heading = anchor and found.suffix == ".md" and anchor not in _anchors(found)
        if not found.exists() or missing_heading:
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)} links to what is not there: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_command_names_a_target(page: Path) -> None:
    named = set(MAKE.findall(page.read_text())) - {"it", "a", "sure", "the", "per"}
    assert named - _targets() == set(), f"{page.relative_to(ROOT)}: no such target"


def test_readme_is_a_short_page_with_the_requirements_on_its_first_screen() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 150
    first_screen = "\n".join(lines[:25])
    for requirement in ("Python ≥ 3.11", "Terraform ≥ 1.9", "npm", "Java ≥ 17"):
        assert requirement in first_screen
    assert "make run" in first_screen and "make test" in first_screen


def test_the_suite_and_the_bench_have_one_duration_in_the_docs() -> None:
    said = {"test": set(), "bench": set()}
    for page in [*PAGES, ROOT / "Makefile"]:
        text = " ".join(page.read_text().split())
        for target in said:
            for match in re.finditer(rf"make {target}\W[^.]{{0,120}}?(\d+) min", text):
                said[target].add(match.group(1))
    assert len(said["test"]) <= 1 and len(said["bench"]) <= 1, said
