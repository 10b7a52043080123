"""Starts the local stack (`python -m roomchat_tools.local`) as a child process, waits until it is
ready, and stops it as a terminal's Ctrl-C would: the one launcher of the tests (tests/stack.py)
and the bench (roomchat_tools.bench).

A *seed* is the local dir of one fresh stack whose whole apply was done and which then stopped
cleanly: its snapshot and Terraform working copy (local/snapshot.py). ``plant_seed`` copies them
into a new local dir, and that stack, started with ROOMCHAT_WARM=restore, restores them as a
second `make run` does: with the same variables nothing is applied, with others only the
difference. The suite applies infra/ from empty once (build_seed) instead of once a stack."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roomchat_tools.local.proctree import descendants

REPO_ROOT = Path(__file__).resolve().parents[3]


class StackNotReady(RuntimeError):
    pass


@dataclass
class LaunchedStack:
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]  # the stack's stack.json: URLs, emulator endpoint, table names, pid
    local_dir: Path
    log_path: Path
    env: dict[str, str]
    ready_s: float


def launch(
    local_dir: Path,
    env: Mapping[str, str],
    *,
    args: Sequence[str] = (),
    timeout_s: float = 300.0,
    preexec_fn: Callable[[], None] | None = None,
) -> LaunchedStack:
    """Start the stack with ``local_dir`` as its ROOMCHAT_LOCAL_DIR and ``env`` over this
    process's environment; return once its stack.json names the started process (ready to chat;
    its fan-out tier may still be being applied: see wait_applied). Its output goes
    to ``local_dir/devstack.log``. Raises StackNotReady (after stopping it) when it exits or is
    not ready in time."""
    local_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        # Its stacks are new each time (tests, bench): no plan or snapshot to reuse, and saving
        # them would take CPU from what they measure (local/stack.py, _plan_path, snapshot.py).
        # A test of warm starts sets ROOMCHAT_WARM=1 in ``env``.
        "ROOMCHAT_PLAN_CACHE": "0",
        "ROOMCHAT_WARM": "0",
        **env,
        "ROOMCHAT_LOCAL_DIR": str(local_dir),
    }
    log_path = local_dir / "devstack.log"
    stack_json = local_dir / "stack.json"
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "roomchat_tools.local", *args],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C must not reach it twice
            preexec_fn=preexec_fn,
        )
    while time.monotonic() - started < timeout_s:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise StackNotReady(f"the stack exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(stack_json.read_text())
            if info.get("pid") == proc.pid:
                ready = time.monotonic() - started
                return LaunchedStack(proc, info, local_dir, log_path, full_env, ready)
        time.sleep(0.5)
    stop(proc)
    tail = log_path.read_text(errors="replace")[-4000:]
    raise StackNotReady(f"the stack was not ready within {timeout_s:.0f} s:\n{tail}")


def wait_applied(stack: LaunchedStack, timeout_s: float = 180.0) -> dict[str, Any]:
    """Wait until the stack's whole apply is done (stack.json's ``applied``: the fan-out tier's
    queues and event source mapping, the alarms, Terraform's outputs), which the stack finishes
    after it is ready to chat; returns (and keeps in ``stack.info``) the updated stack.json.
    Raises StackNotReady when the stack exits first or it takes longer than ``timeout_s``."""
    stack_json = stack.local_dir / "stack.json"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            tail = stack.log_path.read_text(errors="replace")[-4000:]
            raise StackNotReady(f"the stack exited with {stack.proc.returncode}:\n{tail}")
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(stack_json.read_text())
            if info.get("pid") == stack.proc.pid and info.get("applied"):
                stack.info = info
                return info
        time.sleep(0.5)
    tail = stack.log_path.read_text(errors="replace")[-4000:]
    raise StackNotReady(f"the stack's apply was not done within {timeout_s:.0f} s:\n{tail}")


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> tuple[int | None, set[int]]:
    """Ctrl-C (SIGINT): the stack stops everything it started. If it has not exited within
    ``timeout_s``, its whole tree is killed. Returns its exit code (None when it had to be
    killed) and the processes it had below it, which must all be gone now."""
    tree = descendants(proc.pid)
    if proc.poll() is not None:
        return proc.returncode, tree
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout_s), tree
    except subprocess.TimeoutExpired:
        for pid in (proc.pid, *tree):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)
        return None, tree


SEED_FILES = ("devstack/terraform", "devstack/emulator.snapshot")


def build_seed(seed_dir: Path, env: Mapping[str, str], timeout_s: float = 300.0) -> Path:
    """A fresh stack in ``seed_dir`` (``env`` as for launch), its whole apply done, stopped with
    Ctrl-C: what it leaves there is a seed for plant_seed. Raises StackNotReady when it fails."""
    stack = launch(seed_dir, {**env, "ROOMCHAT_WARM": "1"}, timeout_s=timeout_s)
    try:
        wait_applied(stack, timeout_s)
    finally:
        code, _ = stop(stack.proc)
    missing = [name for name in SEED_FILES if not (seed_dir / name).exists()]
    if code != 0 or missing:
        tail = stack.log_path.read_text(errors="replace")[-4000:]
        raise StackNotReady(f"the seed stack exited with {code}, missing {missing}:\n{tail}")
    return seed_dir


def plant_seed(seed_dir: Path, local_dir: Path) -> None:
    """Copy the seed's snapshot and Terraform working copy (its `.terraform/` links to the
    provider, it is not a copy of it) into ``local_dir``, for a start with ROOMCHAT_WARM=restore."""
    for name in SEED_FILES:
        source, target = seed_dir / name, local_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
