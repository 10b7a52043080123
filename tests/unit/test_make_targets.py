"""What the Makefile prints: `make token` only the token (so TOKEN=$(make token ...) works),
`make chat` never the token, `make help` in two aligned columns."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
SECRET = "a-dev-secret-of-32+chars-0123456789"


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(ROOT), **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_make_token_prints_exactly_one_line_the_token() -> None:
    result = _make("token", "NAME=ana", env={"ROOMCHAT_AUTH_SECRET": SECRET})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and JWT.match(lines[0]), result.stdout


def test_make_chat_does_not_echo_the_token(tmp_path: Path) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLWFuYSJ9.c2VjcmV0LXNpZ25hdHVyZQ"
    result = _make("chat", f"TOKEN={token}", "URL=ws://127.0.0.1:9/live")
    assert result.returncode != 0  # nothing listens there
    assert "cannot connect" in result.stderr
    assert token not in result.stdout + result.stderr
    assert "c2VjcmV0LXNpZ25hdHVyZQ" not in result.stdout + result.stderr


def test_make_help_puts_every_description_in_one_column() -> None:
    result = _make("help")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("  make ")]
    assert len(rows) > 20
    starts = {re.match(r"  make \S+\s+", row).end() for row in rows}
    assert len(starts) == 1, rows


def test_make_run_offers_quiet_logs() -> None:
    quiet = _make("-n", "run", "QUIET=1")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip().endswith("roomchat run --quiet")
    assert _make("-n", "run").stdout.strip().endswith("roomchat run")
