"""The Python SDK (clients/python) as a user installs it: a wheel built with the locked build
tools, installed in a clean virtual environment with only its one dependency, where it imports
and reads as typed."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from roomchat_client import protocol as checkout_protocol
from tests.sdk_packages import python_venv, python_wheel, without_checkout_env


def test_the_wheel_holds_the_package_typed_and_nothing_of_the_tooling(tmp_path: Path) -> None:
    wheel = python_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "roomchat_client/py.typed" in names and "roomchat_client/frames.py" in names
    assert not any(n.startswith(("roomchat_tools/", "roomchat/", "tests/")) for n in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    requires = [
        line
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert requires == ["Requires-Dist: websockets>=13"]


def test_the_wheel_installs_alone_in_a_clean_venv(tmp_path: Path) -> None:
    python = python_venv(tmp_path / "venv", python_wheel(tmp_path))
    venv = str(tmp_path / "venv")
    script = (
        "import roomchat_client, websockets;"
        "from roomchat_client import Client, Session, protocol;"
        f"print(len(protocol.BUILDERS), roomchat_client.__file__.startswith({venv!r}))"
    )
    result = subprocess.run(
        [str(python), "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=without_checkout_env(),
    )
    assert result.returncode == 0, result.stderr
    # every frame builder of the checkout's SDK is in the wheel
    assert result.stdout.split() == [str(len(checkout_protocol.BUILDERS)), "True"]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
    ).stdout
    installed = sorted(line.split("==")[0].lower() for line in listed.splitlines())
    assert [p for p in installed if p not in ("pip", "setuptools")] == [
        "roomchat-client",
        "websockets",
    ]
