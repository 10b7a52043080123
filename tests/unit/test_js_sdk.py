"""The JavaScript SDK (clients/js): its unit tests under node's runner, its declarations
compiled by TypeScript, and its package as `npm pack` makes it, installed in a clean project."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sdk_packages import JS_SDK, js_project, node_websocket_flags, npm_pack


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the JavaScript SDK needs Node 20+)")
    return node


def test_node_unit_tests_pass() -> None:
    result = subprocess.run(
        [_node(), "--test", "test/"], cwd=JS_SDK, capture_output=True, text=True, timeout=120
    )
    summary = "\n".join(line for line in result.stdout.splitlines() if line.startswith("# "))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in summary and "# pass 0" not in summary, summary


def test_the_declarations_compile_and_type_a_program() -> None:
    tsc = JS_SDK / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.exists():
        pytest.skip("clients/js/node_modules is missing: `make test` installs it with npm ci")
    result = subprocess.run(
        [_node(), str(tsc), "-p", "."], cwd=JS_SDK, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_npm_pack_ships_the_code_types_readme_and_changelog_only(tmp_path: Path) -> None:
    report = npm_pack(tmp_path)
    files = {f["path"] for f in report["files"]}
    assert {"package.json", "README.md", "CHANGELOG.md", "src/index.js"} <= files
    assert {"types/index.d.ts", "types/protocol.d.ts"} <= files
    assert all(f.startswith(("src/", "types/")) or "/" not in f for f in files), files
    assert not any(f.startswith(("test/", "examples/", "node_modules/")) for f in files)
    assert report["path"].stat().st_size < 64 * 1024  # 25 kB today


def test_the_packed_package_installs_in_a_clean_project_and_has_no_dependencies(
    tmp_path: Path,
) -> None:
    tarball = npm_pack(tmp_path)["path"]
    project = js_project(tmp_path / "app", tarball)
    installed = sorted(p.name for p in (project / "node_modules").iterdir() if p.name[0] != ".")
    assert installed == ["roomchat-client"]
    script = (
        "import { ChatClient, ACTIONS } from 'roomchat-client';"
        "const c = new ChatClient();"
        "console.log(ACTIONS.length, typeof c.connect, typeof globalThis.WebSocket);"
    )
    result = subprocess.run(
        [_node(), *node_websocket_flags(), "--input-type=module", "-e", script],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["29", "function", "function"]
