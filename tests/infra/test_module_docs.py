"""The input and output tables of infra/README.md and each infra/modules/*/README.md match the
variables.tf and outputs.tf beside them: every variable and output is listed exactly once, none
that does not exist, and each input's type and default are the ones declared. (terraform-docs
would generate the tables; it is not available offline, so this test keeps them from drifting.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from roomchat_tools.infra import tf

MODULE_DIRS = [tf.INFRA_DIR, *sorted(p for p in (tf.INFRA_DIR / "modules").iterdir() if p.is_dir())]
# The heading of the inputs table: modules say "Inputs", the root README "Variables".
INPUT_HEADINGS = ("## Inputs", "## Variables")


def _blocks(path: Path, kind: str) -> dict[str, str]:
    text = path.read_text()
    parts = re.split(rf'(?m)^{kind} "([^"]+)" {{\n', text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _type_of(body: str) -> str:
    line = re.search(r"(?m)^  type\s*=\s*(.+)$", body).group(1).strip()
    if "({" in line:  # a multi-line object type: `map(object({` -> `map(object)`
        prefix = line.split("({", 1)[0]
        return prefix + ")" * prefix.count("(")
    return line


def _default_of(body: str) -> str:
    line = re.search(r"(?m)^  default\s*=\s*(.+)$", body).group(1).strip()
    return line


def _table(readme: str, headings: tuple[str, ...]) -> list[list[str]]:
    for heading in headings:
        if heading in readme:
            section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
            rows = [line for line in section.splitlines() if line.startswith("| `")]
            return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    raise AssertionError(f"no {' or '.join(headings)} table")


def _names(cell: str) -> list[str]:
    return re.findall(r"`([a-z0-9_]+)`", cell)


@pytest.mark.parametrize("module", MODULE_DIRS, ids=lambda p: p.name)
def test_inputs_table_matches_variables_tf(module: Path) -> None:
    variables = _blocks(module / "variables.tf", "variable")
    rows = _table((module / "README.md").read_text(), INPUT_HEADINGS)
    listed = [name for row in rows for name in _names(row[0])]
    assert sorted(listed) == sorted(variables), "README inputs differ from variables.tf"
    for row in rows:
        (name,) = _names(row[0])
        body = variables[name]
        assert row[1] == _type_of(body), f"{module.name}: {name} type"
        assert row[2].strip("`") == _default_of(body), f"{module.name}: {name} default"


@pytest.mark.parametrize("module", MODULE_DIRS, ids=lambda p: p.name)
def test_outputs_table_matches_outputs_tf(module: Path) -> None:
    outputs = _blocks(module / "outputs.tf", "output")
    rows = _table((module / "README.md").read_text(), ("## Outputs",))
    listed = [name for row in rows for name in _names(row[0])]
    assert sorted(listed) == sorted(outputs), "README outputs differ from outputs.tf"
