"""The web client's protocol logic (web/js: frames, dedupe, rooms, reconnect schedule), unit-tested
with node's built-in runner, so `make test` covers it. No browser and no stack needed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"


def test_node_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the web unit tests need Node 20+)")
    files = sorted(str(p.relative_to(WEB)) for p in (WEB / "tests").glob("*.test.js"))
    assert files, "no web/tests/*.test.js found"
    result = subprocess.run(
        [node, "--test", *files], cwd=WEB, capture_output=True, text=True, timeout=120
    )
    summary = "\n".join(line for line in result.stdout.splitlines() if line.startswith("# "))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in summary, summary
