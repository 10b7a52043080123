"""The suite runs on two pytest-xdist workers (`make test`); tests sharing a costly fixture must
then stay on one worker, or each worker builds its own stack. Checked on a small suite run
through the same grouping (tests/xdist_groups.py) and the installed pytest and pytest-xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("xdist")

REPO = Path(__file__).resolve().parents[2]
PARALLEL = ["-n", "2", "--dist", "loadgroup"]  # as `make test` runs the suite

SHARED = """
import os
import pytest


@pytest.fixture(scope="module")
def costly():
    with open(os.environ["SETUP_LOG"], "a") as log:
        log.write(os.environ.get("PYTEST_XDIST_WORKER", "none") + "\\n")
    return 1


@pytest.mark.parametrize("i", range(12))
def test_uses_it(costly, i):
    pass


def test_needs_nothing():
    pass
"""

FREE = """
import pytest


@pytest.mark.parametrize("i", range(40))
def test_free(i):
    pass
"""


def test_a_costly_module_fixture_is_built_once_across_two_workers(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "from tests.xdist_groups import pytest_collection_modifyitems  # noqa: F401\n"
    )
    (tmp_path / "test_shared.py").write_text(SHARED)
    (tmp_path / "test_free.py").write_text(FREE)
    log = tmp_path / "setups.log"
    env = {**os.environ, "SETUP_LOG": str(log), "PYTHONPATH": str(REPO)}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PARALLEL, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "53 passed" in done.stdout
    assert len(log.read_text().split()) == 1, "the group was split: " + log.read_text()
