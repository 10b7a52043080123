"""The SDKs as an app developer gets them: `npm pack` of clients/js and a wheel of
clients/python, each installed in a clean temporary project (no access to this checkout).

    tarball = npm_pack(tmp)                  # clients/js -> roomchat-client-<version>.tgz
    project = js_project(tmp, tarball)       # package.json + node_modules/roomchat-client
    wheel = python_wheel(tmp)                # clients/python -> roomchat_client-*.whl
    python = python_venv(tmp, wheel)         # a new venv with the wheel and the locked websockets
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
JS_SDK = REPO_ROOT / "clients" / "js"
PY_SDK = REPO_ROOT / "clients" / "python"
DEV_LOCK = REPO_ROOT / "requirements" / "dev.txt"


def _run(argv: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        pytest.skip("npm is not installed (the JavaScript SDK's package needs it)")
    return found


def npm_pack(dest: Path) -> dict:
    """`npm pack` of clients/js into ``dest``: npm's JSON report (filename, size, files)."""
    result = _run([npm(), "pack", "--json", "--pack-destination", str(dest)], JS_SDK)
    report = json.loads(result.stdout)[0]
    report["path"] = dest / report["filename"]
    return report


def js_project(dest: Path, tarball: Path) -> Path:
    """A new ES-module project with the packed SDK installed from its tarball (offline: the
    package has no dependencies)."""
    dest.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "chat-app", "private": True, "type": "module"}
    (dest / "package.json").write_text(json.dumps(manifest))
    quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
    _run([npm(), "install", "--offline", *quiet, str(tarball)], dest)
    return dest


def js_example_app(dest: Path) -> Path:
    """A new project with the packed JavaScript SDK installed and its examples copied in."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    project = js_project(dest / "app", npm_pack(dest)["path"])
    for example in (JS_SDK / "examples").iterdir():
        shutil.copy(example, project / example.name)
    return project


def node_websocket_flags() -> list[str]:
    """Node 20 and 21 have a WebSocket only behind a flag; 22 has it by default."""
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    major = int(re.match(r"v(\d+)", version).group(1)) if version else 0
    return ["--experimental-websocket"] if major in (20, 21) else []


def python_wheel(dest: Path) -> Path:
    """A wheel of clients/python, built by pip with the locked setuptools (no build isolation, so
    nothing unlocked is fetched), from a copy: setuptools builds in the source tree, and two test
    workers may build at once."""
    source = dest / "roomchat-client-src"
    shutil.copytree(PY_SDK, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    quiet = ["--no-deps", "--no-build-isolation", "-q"]
    _run([sys.executable, "-m", "pip", "wheel", *quiet, "-w", str(dest), str(source)], REPO_ROOT)
    (wheel,) = dest.glob("roomchat_client-*.whl")
    return wheel


def python_venv(dest: Path, wheel: Path) -> Path:
    """A clean venv (no site packages of this one) with the wheel and its one dependency at the
    version and hashes of requirements/dev.txt; returns its python."""
    _run([sys.executable, "-m", "venv", str(dest)], REPO_ROOT)
    python = dest / "bin" / "python"
    pins = dest / "requirements.txt"
    pins.write_text(_locked("websockets"))
    uv = Path(sys.executable).with_name("uv")
    install = (
        [str(uv), "pip", "install", "--quiet", "--python", str(python)]
        if uv.exists()
        else [str(python), "-m", "pip", "install", "-q"]
    )
    _run([*install, "--require-hashes", "-r", str(pins)], REPO_ROOT)
    _run([*install, "--no-deps", str(wheel)], REPO_ROOT)
    return python


def _locked(package: str) -> str:
    """The lines of requirements/dev.txt that pin ``package`` (its version and hashes)."""
    lines = DEV_LOCK.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{package}=="))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        if line.strip().startswith("--hash"):
            block.append(line)
    return "\n".join(block) + "\n"


def without_checkout_env() -> dict[str, str]:
    """An environment that cannot see this checkout's packages."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
