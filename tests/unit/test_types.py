"""The Lambda code type-checks under `mypy --strict` (as `make lint` runs it), so CI enforces it.

About 8 s on 2 cores from a cold cache, under 1 s warm (.mypy_cache, git-ignored).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "package",
    [
        "functions/roomchat",
        # clients/python ships `py.typed`: its users' type checkers read its annotations.
        "clients/python/src/roomchat_client",
    ],
)
def test_passes_mypy_strict(package: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
