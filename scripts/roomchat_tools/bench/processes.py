"""The child processes a run starts (JSON lines over stdin/stdout), and how they stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from roomchat_tools.local.proctree import descendants

REPO_ROOT = Path(__file__).resolve().parents[3]
BENCH_DIR = REPO_ROOT / "bench"
BASELINE_DIR = BENCH_DIR / "baseline"
DEFAULT_OUT = BENCH_DIR / "results"
POSTER = BENCH_DIR / "poster.py"
COLDSTART = BENCH_DIR / "coldstart.py"


def task_python(
    script: Path, task_root: Path, env: dict[str, str], *args: str
) -> tuple[list[str], dict[str, str]]:
    """A fresh interpreter running ``script`` against an extracted deployment package: the
    package first on the path through PYTHONPATH (as Lambda's runtime finds the function's code
    before anything else), no user site (-s), no script directory put first (-P), and no PYTHON*
    variable but the ones ``env`` (built here, not inherited) sets."""
    argv = [sys.executable, "-s", "-P", str(script), str(task_root), *args]
    return argv, {**env, "PYTHONPATH": str(task_root)}


# The servers below, started as `python -m roomchat_tools.bench _serve <role> ...`.
SERVE = [sys.executable, "-m", "roomchat_tools.bench", "_serve"]


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Linux: send this process ``signum`` when the bench dies, whatever kills it."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG


def lambda_like_env(extra: dict[str, str]) -> dict[str, str]:
    """A function's process environment (as the gateway builds it), pointed nowhere real."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda: no .pyc is written
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


class Helper:
    """A child process speaking JSON lines: its first line says where it listens; closing its
    stdin stops it."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.label = label
        self.argv = argv
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, Any] = {}

    async def start(self, timeout_s: float = 60.0) -> dict[str, Any]:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=str(REPO_ROOT),
            limit=1 << 24,
        )
        self.info = await self.read(timeout_s)
        return self.info

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        await self.proc.stdin.drain()

    async def read(self, timeout_s: float = 120.0) -> dict[str, Any]:
        assert self.proc and self.proc.stdout
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout_s)
        if not line:
            code = await asyncio.wait_for(self.proc.wait(), 10)
            raise RuntimeError(f"{self.label} exited with {code} before answering")
        return json.loads(line)

    async def stop(self, grace_s: float = 30.0) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), grace_s)
        except TimeoutError:
            for pid in (proc.pid, *descendants(proc.pid)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await proc.wait()
