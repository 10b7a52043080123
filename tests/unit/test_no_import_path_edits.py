"""No module of the tooling, the tests or the bench edits the import path: the tooling is an
installed package (`roomchat_tools`), and Lambda workers get theirs from PYTHONPATH as on Lambda."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("scripts", "tests", "bench")
NEEDLE = "sys" + ".path"  # spelt in two so that this file does not match itself

# The bench as one module and its two helper processes, which it starts with `python -I` and which
# therefore put the task root on the path themselves. The bench package (scripts/roomchat_tools/
# bench/) replaces scripts/bench.py and starts them as the local Lambda workers are started
# (runtime.LAMBDA_PYTHON_FLAGS and function_environment's PYTHONPATH); then this list empties.
NOT_YET_CONVERTED: frozenset[str] = frozenset()


def _python_files() -> list[Path]:
    return sorted(
        path
        for folder in FOLDERS
        for path in (REPO_ROOT / folder).rglob("*.py")
        if ".venv" not in path.parts and "__pycache__" not in path.parts
    )


def _offenders() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in _python_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        hits = [number for number, line in enumerate(lines, 1) if NEEDLE in line]
        if hits:
            found[path.relative_to(REPO_ROOT).as_posix()] = hits
    return found


def test_the_scan_sees_the_tooling_the_tests_and_the_bench():
    names = {path.relative_to(REPO_ROOT).as_posix() for path in _python_files()}
    assert "scripts/roomchat_tools/local/worker.py" in names
    assert "tests/unit/test_no_import_path_edits.py" in names
    assert any(name.startswith("bench/") for name in names)


def test_no_file_in_scripts_tests_or_bench_touches_the_import_path():
    offenders = {
        name: lines for name, lines in _offenders().items() if name not in NOT_YET_CONVERTED
    }
    assert offenders == {}, f"{NEEDLE} in (file: line numbers) {offenders}"


def test_every_file_still_excused_still_needs_it():
    """A file of NOT_YET_CONVERTED that exists but no longer edits the path must leave the list,
    so that the exception cannot outlive its reason (a file that is gone excuses nothing)."""
    offenders = _offenders()
    stale = sorted(
        name for name in NOT_YET_CONVERTED if (REPO_ROOT / name).exists() and name not in offenders
    )
    assert stale == [], f"remove from NOT_YET_CONVERTED: {stale}"
