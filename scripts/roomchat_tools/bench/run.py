"""One run: the machine's description, the Bench (its frames, the order of the phases, what
they share) and the phases it is made of (phases_*.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..stackfile import dynamodb_endpoint
from .phases_baseline import ReferencePhases
from .phases_ours import OursPhases
from .phases_sweeps import SweepPhases
from .plan import Plan, Series, token
from .processes import POSTER, REPO_ROOT, SERVE, Helper, lambda_like_env, task_python
from .stack import Stack
from .tier_phase import TierPhases


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info() -> dict[str, Any]:
    import aiohttp
    import botocore

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {"botocore": botocore.__version__, "aiohttp": aiohttp.__version__}
    with contextlib.suppress(Exception):
        import moto

        versions["moto"] = moto.__version__
    dirty = [line for line in _git("status", "--porcelain").splitlines() if line]
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git("rev-parse", "--short=12", "HEAD"),
        "commit_subject": _git("log", "-1", "--format=%s"),
        "uncommitted_files": len(dirty),
        "versions": versions,
        "loadavg_start": list(os.getloadavg()),
    }


def raise_open_files_limit() -> None:
    """1,000 clients here and 1,000 sockets in the gateway: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class Bench(ReferencePhases, OursPhases, SweepPhases, TierPhases):
    def __init__(self, plan: Plan, out: Path, stack_file: Path | None, quiet: bool = False):
        self.plan = plan
        self.out = out
        self.quiet = quiet
        self.run_id = uuid.uuid4().hex[:6]
        self.stack = Stack(stack_file, self.log)
        self.work = Path(tempfile.mkdtemp(prefix="roomchat-bench-"))
        self.started = time.monotonic()
        self.results: dict[str, Any] = {
            "generated_at": _now_iso(),
            "machine": machine_info(),
            "plan": dataclasses.asdict(plan),
            "settings": {},
            "fanout": [],
            "sweeps": {},
            "cost": {},
            "cold_start": {},
            "posters": {},
            "phases_s": {},
        }

    def log(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self.started
            print(f"[bench {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    # ----- frames -----------------------------------------------------------------------------
    def text(self, seq: int) -> str:
        """The chat message: 100 characters, carrying the broadcast's token."""
        head = f"bench {token(seq)} "
        return head + "lorem ipsum dolor sit amet "[: 100 - len(head)].ljust(100 - len(head), ".")

    def frame(self, seq: int) -> str:
        """The frame ours delivers for that message, byte for byte in shape and size: what the
        limits and the baseline send, so every variant moves the same bytes."""
        from roomchat import protocol
        from roomchat.ports import Message
        from roomchat.ulid import new_ulid
        from roomchat.usecases import iso_ms, now_ms

        now = now_ms()
        message = Message(
            room_id=f"bench-{self.run_id}-all-{max(self.plan.sizes or [0])}",
            message_id=new_ulid(now),
            sent_at=iso_ms(now),
            sender=self.member_name(0),
            message=self.text(seq),
            client_msg_id=f"b{self.run_id}-{seq}",
        )
        return protocol.encode(protocol.message_frame(message))

    def member_name(self, index: int) -> str:
        return f"b{self.run_id}-{index:04d}"

    # ----- phases -----------------------------------------------------------------------------
    def run_posters_only(self, workers: int) -> dict[str, Any]:
        """The poster CPU phase alone: no stack, no WebSocket clients."""
        t = time.monotonic()
        self.extract_packages()
        asyncio.run(self.poster_cpu(workers))
        self.results["phases_s"]["posters"] = time.monotonic() - t
        return self.results["posters"]

    def run(self, deadline_s: float) -> dict[str, Any]:
        """Cold starts and the stack first (from this thread, so the stack, which dies with its
        parent thread, outlives nothing), then the measured phases on one event loop."""
        raise_open_files_limit()
        phases = self.results["phases_s"]
        t = time.monotonic()
        self.cold_starts()
        phases["cold_start"] = time.monotonic() - t
        t = time.monotonic()
        info = self.stack.start()
        phases["stack_start"] = time.monotonic() - t
        self.log(f"stack ready: {info['websocket_url']} (emulator {info['emulator_endpoint']})")
        self.load_spec(info)
        asyncio.run(asyncio.wait_for(self.phases(info), deadline_s))
        self.results["machine"]["loadavg_end"] = list(os.getloadavg())
        return self.results

    def run_tier_only(self, deadline_s: float) -> dict[str, Any]:
        """The tier phase alone (``--tier-phase``), with what its report needs: the stack, the
        sample's and ours' tier series, and the poster phase (CPU per post for the paper table)."""
        raise_open_files_limit()
        self.plan.sizes = []
        self.extract_packages()
        t = time.monotonic()
        info = self.stack.start()
        self.results["phases_s"]["stack_start"] = time.monotonic() - t
        self.load_spec(info)
        asyncio.run(asyncio.wait_for(self.phases(info, tier_only=True), deadline_s))
        return self.results

    async def phases(self, info: dict[str, Any], tier_only: bool = False) -> None:
        import aiohttp

        phases = self.results["phases_s"]
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=None, connect=60, sock_connect=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for name, phase in (
                ("bare", lambda: self.bare_phase(session)),
                ("baseline", lambda: self.baseline_phase(session, info)),
                ("ours", lambda: self.ours_phase(session, info)),
                ("posters", lambda: self.poster_cpu(self.fanout_workers)),
            ):
                if tier_only and name == "bare":
                    continue
                t = time.monotonic()
                await phase()
                phases[name] = time.monotonic() - t

    def load_spec(self, info: dict[str, Any]) -> None:
        """The deployed sendAll function, read back as the gateway reads it."""
        from roomchat_tools.local.apimodel import emulator_clients, load_api

        apigw, lam = emulator_clients(info["emulator_endpoint"], info["region"])
        api = load_api(apigw, lam, api_id=info["api_id"], stage=info["stage"])
        self.send_spec = api.routes["sendAll"].function
        env = self.send_spec.environment
        self.fanout_workers = int(env.get("FANOUT_WORKERS") or 32)
        concurrency = int(os.environ.get("ROOMCHAT_LAMBDA_CONCURRENCY") or 2)
        self.results["settings"].update(
            {
                "fanout_workers": self.fanout_workers,
                "lambda_concurrency": concurrency,
                "send_all_memory_mb": self.send_spec.memory_mb,
                "send_all_timeout_s": self.send_spec.timeout_s,
                "rate_limit_per_second": int(env.get("RATE_LIMIT_PER_SECOND") or 10),
                "frame_bytes": len(self.frame(1).encode()),
                "message_chars": len(self.text(1)),
                "stack": "attached" if self.stack.stack_file else "started by the bench",
                "dynamodb_engine": info.get("dynamodb_engine") or "moto",
                "stack_ready_s": round(self.stack.started_s, 1),
            }
        )

    def record(self, series: Series) -> None:
        summary = series.summary()
        self.results["fanout"].append({**summary, "last_s": series.last_s})
        p50 = summary["p50_s"]
        shown = f"p50 {p50 * 1000:8.1f} ms" if p50 is not None else "no complete broadcast"
        delay = f" +{series.post_delay_ms:.0f} ms/post" if series.post_delay_ms else ""
        self.log(
            f"{series.variant:<34}{delay:>14} {series.members:>5} -> {series.expected:>5}: "
            f"{shown}  missing {series.missing} extra {series.extra}"
        )

    # ----- 2. the baseline ----------------------------------------------------------------------
    def gateway_helper(
        self, info: dict[str, Any], api_id: str, zip_path: Path, tier: bool = False
    ) -> Helper:
        """A gateway process for one API; with ``tier``, inline fan-out to start with
        (FANOUT_TIER_THRESHOLD=0, switched by the tier phase) and the fan-out tier run in it
        on a queue of its own (ownqueue.py)."""
        concurrency = self.results["settings"]["lambda_concurrency"]
        argv = [*SERVE, "gateway", "--emulator"]
        argv += [info["emulator_endpoint"], "--region", info["region"], "--api-id", api_id]
        argv += ["--dynamodb", dynamodb_endpoint(info)]
        argv += ["--zip", str(zip_path), "--concurrency", str(concurrency)]
        if tier:
            argv += ["--own-fanout-queue", "--env", "FANOUT_TIER_THRESHOLD=0"]
        return Helper(f"gateway for {api_id}", argv)

    def rounds(self, size: int, delay_ms: float) -> tuple[int, int]:
        """(iterations, warm-up) for a size, fewer with the slow AWS-like round trip."""
        if delay_ms:
            return self.plan.rtt_iterations[size], 1
        if size not in self.plan.iterations:  # a size of the tier phase only
            return self.tier_rounds(size)
        return self.plan.iterations[size], self.plan.warmup

    async def set_delay(self, gateway: Helper, delay_ms: float) -> None:
        await gateway.send({"post_delay_ms": delay_ms})
        await gateway.read()

    def delays(self) -> list[float]:
        """Post round trips to measure with: loopback as it is, then the AWS-like one."""
        return [0.0, self.plan.rtt_ms] if self.plan.rtt_ms else [0.0]

    @staticmethod
    def time_read(read: Callable[[], Any], times: int = 3) -> float:
        """How long the emulator takes for a read (median): context for the timings above."""
        spent = []
        for _ in range(times):
            started = time.perf_counter()
            read()
            spent.append(time.perf_counter() - started)
        return statistics.median(spent)

    async def wait_for_items(
        self, ddb: Any, table: str, count: int, timeout_s: float = 60
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while True:
            items = []
            for page in ddb.get_paginator("scan").paginate(TableName=table):
                items.extend(page["Items"])
            if len(items) == count:
                return items
            if time.monotonic() > deadline:
                raise RuntimeError(f"{table} has {len(items)} items, expected {count}")
            await asyncio.sleep(0.25)

    # ----- 1 and 3. ours, and the management-API limit through the same gateway -----------------
    def poster(
        self,
        info: dict[str, Any] | None,
        workers: int,
        callback_url: str | None = None,
        kind: str | None = None,
    ) -> Helper:
        """bench/poster.py with the sendAll function's own environment (and worker count), or
        without a stack (``info`` None) a Lambda-like one; ``kind`` sets FANOUT_POSTER."""
        if info is None:
            env = lambda_like_env(
                {
                    "ROOMS_TABLE": "roomchat-rooms",
                    "HISTORY_TABLE": "roomchat-history",
                    "CALLBACK_URL": callback_url or "",
                }
            )
        else:
            env = self._function_env(info, callback_url)
        env["FANOUT_WORKERS"] = str(workers)
        if kind:
            env["FANOUT_POSTER"] = kind
        argv, env = task_python(POSTER, self.ours_root, env)
        return Helper(f"poster ({kind or 'default'}, {workers} workers)", argv, env=env)

    def _function_env(self, info: dict[str, Any], callback_url: str | None) -> dict[str, str]:
        from roomchat_tools.local.runtime import function_environment

        env = function_environment(
            self.send_spec,
            self.ours_root,
            region=info["region"],
            emulator_endpoint=info["emulator_endpoint"],
            callback_url=callback_url or info["callback_url"],
        )
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint(info)
        return env
