"""The Lambda code type-checks under `mypy --strict` (as `make lint` runs it), so CI enforces it.

About 8 s on 2 cores from a cold cache, under 1 s warm (.mypy_cache, git-ignored).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_functions_pass_mypy_strict():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "functions/roomchat"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_the_python_sdk_passes_mypy_strict():
    """clients/python ships `py.typed`: its users' type checkers read its annotations."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "clients/python/src/roomchat_client"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
