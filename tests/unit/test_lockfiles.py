"""The Python locks (requirements/*.txt) agree with pyproject.toml, pin every package exactly and
carry hashes, so a clean clone installs the same program every week (roomchat_tools/lockfiles.py,
`make lock`, `make venv`)."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from roomchat_tools import lockfiles

PYPROJECT = tomllib.loads(lockfiles.PYPROJECT.read_text())
ENVIRONMENTS = sorted(lockfiles.environments(PYPROJECT))


def _pins(env: str) -> dict[str, str]:
    """name -> version of every `name==version` line of a lock."""
    text = lockfiles.lock_path(env).read_text()
    return {
        canonicalize_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^ ;\\]+)", text, re.M)
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_lock_was_compiled_from_what_pyproject_lists_now(env):
    problem = lockfiles.stale(env, PYPROJECT)
    assert problem is None, problem


def test_changing_a_version_in_pyproject_without_relocking_is_caught_with_what_to_run():
    # given pyproject.toml with one range changed, and the locks as they are
    changed = copy.deepcopy(PYPROJECT)
    dev = changed["project"]["optional-dependencies"]["dev"]
    index = next(i for i, r in enumerate(dev) if r.startswith("moto"))
    dev[index] = "moto[server]==5.2.6"
    # when / then
    problem = lockfiles.stale("dev", changed)
    assert problem is not None
    assert "requirements/dev.txt" in problem and "make lock" in problem
    # the other environments did not change
    assert lockfiles.stale("checkov", changed) is None


def test_comments_and_order_in_pyproject_do_not_make_a_lock_stale():
    shuffled = copy.deepcopy(PYPROJECT)
    shuffled["project"]["optional-dependencies"]["dev"].reverse()
    assert lockfiles.input_digest("dev", shuffled) == lockfiles.input_digest("dev", PYPROJECT)


def test_the_check_command_fails_with_the_reason_on_a_stale_lock(tmp_path, monkeypatch):
    """What `make venv` runs before installing: exit 1 and the reason on stderr."""
    lock = tmp_path / "dev.txt"
    text = lockfiles.lock_path("dev").read_text()
    lock.write_text(text.replace(lockfiles.input_digest("dev"), "0" * 64))
    monkeypatch.setattr(lockfiles, "LOCK_DIR", tmp_path)
    monkeypatch.setattr(lockfiles, "ROOT", tmp_path.parent)
    assert lockfiles.check(["dev"]) == 1
    ok = subprocess.run(
        [sys.executable, str(lockfiles.__file__), "check"], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_requirement_of_pyproject_is_satisfied_by_the_lock(env):
    """Also catches a lock edited by hand: every range pyproject.toml asks for holds for the
    pinned version (markers evaluated for this Python, as the install does)."""
    pins = _pins(env)
    for raw in lockfiles.environments(PYPROJECT)[env]:
        requirement = Requirement(raw)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{raw}: not in requirements/{env}.txt (run make lock)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{raw}: requirements/{env}.txt pins {pins[name]} (run make lock)"
        )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_pin_is_exact_and_carries_hashes(env):
    entries = re.split(r"\n(?=\S)", lockfiles.lock_path(env).read_text())
    packages = [e for e in entries if not e.startswith("#") and e.strip()]
    assert packages, f"requirements/{env}.txt pins nothing"
    for entry in packages:
        first = entry.splitlines()[0]
        assert "==" in first, f"not an exact pin in requirements/{env}.txt: {first}"
        assert "--hash=sha256:" in entry, f"no hash for {first} in requirements/{env}.txt"


def test_the_moto_that_broke_the_browsers_sign_in_is_excluded():
    """moto 5.2.6's server answers a CORS preflight with 500 (tests/e2e/test_emulator_cors.py)."""
    assert _pins("dev")["moto"] != "5.2.6"
    moto = next(r for r in lockfiles.environments(PYPROJECT)["dev"] if r.startswith("moto"))
    assert not Requirement(moto).specifier.contains("5.2.6")
