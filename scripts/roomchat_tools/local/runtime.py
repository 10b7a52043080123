"""Run Lambda functions locally, one warm subprocess per concurrent invocation, as Lambda does.

Each function gets a small pool of worker processes (``worker.py``): an isolated interpreter with
the function's own environment and its deployment package importable. An invocation borrows an
idle worker (or starts one: a cold start), sends it the event over a pipe and awaits the reply
without blocking the event loop, so handlers can call back into the gateway while they run. A worker
that times out or dies is discarded, like an execution environment that Lambda resets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# How a worker's interpreter starts. -P: the worker script's folder (this package) stays off the
# import path; -S: no `site`, so no .pth file of this machine's environment runs (the editable
# install of this project adds the working tree through one); the import path is then PYTHONPATH
# (the task root, then the runtime's libraries: see function_environment) and the standard library.
LAMBDA_PYTHON_FLAGS = ("-P", "-S")
# What Lambda's Python runtime provides besides the standard library (worker.py: LAMBDA_PROVIDED).
RUNTIME_LIBRARIES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_HEADER = struct.Struct(">I")

log = logging.getLogger("devstack.runtime")
LogSink = Callable[[str, str], None]


@dataclass(frozen=True)
class FunctionSpec:
    """What the emulator says about a deployed function (GetFunctionConfiguration)."""

    name: str
    arn: str
    handler: str
    code_sha256: str
    environment: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 3.0
    memory_mb: int = 128
    runtime: str = "python3.11"
    role: str = ""  # the execution role's ARN (its policies bound the function's AWS calls)


@dataclass(frozen=True)
class InvocationResult:
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    aws_request_id: str = ""
    duration_ms: float = 0.0


class CodeMismatchError(RuntimeError):
    """The deployed function's CodeSha256 matches none of the local deployment packages."""


def b64sha256(path: Path) -> str:
    """Lambda's CodeSha256: base64 of the SHA-256 of the zip file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


class CodeStore:
    """Local deployment packages by CodeSha256, each extracted once into a temporary task root."""

    def __init__(self, zips: Iterable[Path]) -> None:
        self._zips = {b64sha256(Path(z)): Path(z) for z in zips}
        self._roots: dict[str, Path] = {}
        self._tmp: Path | None = None

    @property
    def hashes(self) -> dict[str, Path]:
        return dict(self._zips)

    def task_root(self, spec: FunctionSpec) -> Path:
        if spec.code_sha256 not in self._zips:
            known = ", ".join(f"{p} ({h})" for h, p in self._zips.items()) or "none"
            raise CodeMismatchError(
                f"function {spec.name} was deployed with CodeSha256 {spec.code_sha256}, "
                f"which matches no local package: {known}. Rebuild and re-apply."
            )
        root = self._roots.get(spec.code_sha256)
        if root is None:
            if self._tmp is None:
                self._tmp = Path(tempfile.mkdtemp(prefix="roomchat-lambda-"))
            root = self._tmp / f"task-{len(self._roots)}"
            with zipfile.ZipFile(self._zips[spec.code_sha256]) as zf:
                zf.extractall(root)
            self._roots[spec.code_sha256] = root
        return root

    def cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp, self._roots = None, {}


class WorkerGone(Exception):
    """The worker process exited or closed its pipe mid-invocation."""


class InitError(Exception):
    """The handler could not be imported (Lambda's init phase failed or timed out)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage", "init failed"))
        self.error = error


INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase, apart from the function's timeout


class Worker:
    """One execution environment: a worker subprocess running one function's handler."""

    def __init__(self, spec: FunctionSpec, task_root: Path, env: dict[str, str], sink: LogSink):
        self.spec = spec
        self.task_root = task_root
        self.env = env
        self.sink = sink
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.idle_since = time.monotonic()
        self.proc: asyncio.subprocess.Process | None = None
        self._log_task: asyncio.Task[None] | None = None
        self._next_id = 0

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *LAMBDA_PYTHON_FLAGS,
            str(WORKER_SCRIPT),
            str(self.task_root),
            self.spec.handler,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=str(self.task_root),
        )
        self._log_task = asyncio.create_task(self._pump_logs())
        try:
            reply = await asyncio.wait_for(self._read_reply(), INIT_TIMEOUT_S)
        except TimeoutError:
            await self.kill()
            message = f"Init timed out after {INIT_TIMEOUT_S:.0f} seconds"
            raise InitError({"errorType": "Runtime.InitTimeout", "errorMessage": message}) from None
        except WorkerGone as exc:
            await self.kill()
            raise InitError({"errorType": "Runtime.ExitError", "errorMessage": str(exc)}) from None
        if not reply.get("ok"):
            await self.kill()
            raise InitError(reply.get("error") or {"errorType": "Runtime.Unknown"})

    async def _read_reply(self) -> dict[str, Any]:
        assert self.proc and self.proc.stdout
        try:
            header = await self.proc.stdout.readexactly(_HEADER.size)
            (size,) = _HEADER.unpack(header)
            return json.loads(await self.proc.stdout.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise WorkerGone(str(exc)) from exc

    async def _pump_logs(self) -> None:
        assert self.proc and self.proc.stderr
        while line := await self.proc.stderr.readline():
            self.sink(self.spec.name, line.decode(errors="replace").rstrip("\n"))

    async def invoke(self, event: Any, context: dict[str, Any]) -> dict[str, Any]:
        assert self.proc and self.proc.stdin and self.proc.stdout
        self._next_id += 1
        payload = json.dumps({"id": self._next_id, "event": event, "context": context}).encode()
        try:
            self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            await self.proc.stdin.drain()
        except (ConnectionError, BrokenPipeError) as exc:
            raise WorkerGone(str(exc)) from exc
        reply = await self._read_reply()
        if reply.get("id") != self._next_id:
            raise WorkerGone(f"out-of-order reply {reply.get('id')} for {self._next_id}")
        return reply

    async def stop(self, grace_s: float = 1.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            if proc.stdin:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), grace_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._log_task:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._log_task, 1.0)

    async def kill(self) -> None:
        if self.proc and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.stop(grace_s=1.0)


class FunctionPool:
    """Warm workers for one function; at most ``concurrency`` invocations run at once."""

    def __init__(
        self,
        spec: FunctionSpec,
        task_root: Path,
        env: dict[str, str],
        concurrency: int,
        sink: LogSink,
    ) -> None:
        self.spec = spec
        self.task_root = task_root
        self.env = env
        self.sink = sink
        self._slots = asyncio.Semaphore(concurrency)
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._closed = False
        self.cold_starts = 0
        self.invocations = 0  # every invoke() call (what Lambda bills as requests)

    @property
    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._all if w.proc]

    async def _spawn(self) -> Worker:
        worker = Worker(self.spec, self.task_root, self.env, self.sink)
        self._all.add(worker)
        try:
            await worker.start()
        except BaseException:
            self._all.discard(worker)
            raise
        self.cold_starts += 1
        return worker

    def set_env(self, updates: dict[str, str]) -> None:
        """Change environment variables, as a function configuration update does on Lambda:
        idle environments are retired, so the next invocations start with the new values
        (invocations running now finish with the old ones)."""
        self.env = {**self.env, **updates}
        for worker in list(self._idle):
            self._retire(worker)

    async def prewarm(self) -> None:
        """Start one environment ahead of the first invocation (no cold start then)."""
        if not self._idle and not self._closed:
            with contextlib.suppress(InitError):
                self._idle.append(await self._spawn())

    async def invoke(self, event: Any) -> InvocationResult:
        if self._closed:
            return _failure("Runtime.Unavailable", "the gateway is shutting down", "")
        request_id = str(uuid.uuid4())
        self.invocations += 1
        async with self._slots:
            started = time.monotonic()
            try:
                worker = self._idle.pop() if self._idle else await self._spawn()
            except InitError as exc:
                self.sink(self.spec.name, f"{request_id} init failed: {exc.error}")
                return InvocationResult(False, None, exc.error, request_id, 0.0)
            started = time.monotonic()
            context = {
                "function_name": self.spec.name,
                "function_version": "$LATEST",
                "invoked_function_arn": self.spec.arn,
                "memory_limit_in_mb": self.spec.memory_mb,
                "aws_request_id": request_id,
                "log_group_name": f"/aws/lambda/{self.spec.name}",
                "log_stream_name": worker.log_stream,
                "deadline_ms": int(time.time() * 1000 + self.spec.timeout_s * 1000),
            }
            try:
                reply = await asyncio.wait_for(worker.invoke(event, context), self.spec.timeout_s)
            except TimeoutError:
                self._retire(worker)
                message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
                self.sink(self.spec.name, f"{request_id} {message}")
                return _failure("Sandbox.Timedout", message, request_id, started)
            except WorkerGone as exc:
                self._retire(worker)
                return _failure("Runtime.ExitError", f"worker exited: {exc}", request_id, started)
            except asyncio.CancelledError:
                self._retire(worker)
                raise
            if self._closed:
                self._retire(worker)
            else:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
        elapsed = (time.monotonic() - started) * 1000
        if reply.get("ok"):
            return InvocationResult(True, reply.get("result"), None, request_id, elapsed)
        return InvocationResult(False, None, reply.get("error"), request_id, elapsed)

    def reap(self, max_idle_s: float, keep: int = 1) -> int:
        """Stop workers idle for longer than ``max_idle_s``, keeping the ``keep`` most recently
        used ones warm; Lambda too reclaims environments that a burst left behind."""
        now = time.monotonic()
        self._idle.sort(key=lambda w: w.idle_since)  # oldest first; pop() takes the newest
        stale = [
            w
            for w in self._idle[: max(0, len(self._idle) - keep)]
            if now - w.idle_since > max_idle_s
        ]
        for worker in stale:
            self._retire(worker)
        return len(stale)

    def _retire(self, worker: Worker) -> None:
        self._all.discard(worker)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)
        task = asyncio.ensure_future(worker.kill())
        task.add_done_callback(lambda t: t.exception())

    async def aclose(self) -> None:
        self._closed = True
        workers, self._all, self._idle = list(self._all), set(), []
        await asyncio.gather(*(w.kill() for w in workers), return_exceptions=True)


def _failure(
    error_type: str, message: str, request_id: str, started: float | None = None
) -> InvocationResult:
    elapsed = (time.monotonic() - started) * 1000 if started is not None else 0.0
    error = {"errorType": error_type, "errorMessage": message}
    return InvocationResult(False, None, error, request_id, elapsed)


def runtime_library_dirs() -> list[str]:
    """The folders holding this machine's boto3 and its dependencies: the local stand-in for the
    Lambda runtime's own library folder (/var/runtime), where boto3 comes from on Lambda."""
    dirs: list[str] = []
    for name in RUNTIME_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin).resolve()
        folder = str(origin.parent.parent if spec.submodule_search_locations else origin.parent)
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def function_environment(
    spec: FunctionSpec,
    task_root: Path,
    *,
    region: str,
    emulator_endpoint: str,
    callback_url: str,
    lambda_url: str | None = None,
) -> dict[str, str]:
    """The process environment Lambda would give the function, pointed at the local stack."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(task_root),
    }
    env.update(spec.environment)
    env.update(
        {
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            # Lambda's Python runtimes find the handler in the task root and boto3 in the
            # runtime's library folder through PYTHONPATH, not through site-packages:
            # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
            "PYTHONPATH": os.pathsep.join([str(task_root), *runtime_library_dirs()]),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # The emulator accepts any credentials; real ones must never reach it.
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            # No profile of the developer's (~/.aws) may point the function elsewhere.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": emulator_endpoint,
            # The @connections API lives on the gateway, not in the emulator.
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": callback_url,
            "CALLBACK_URL": callback_url,
        }
    )
    if lambda_url:
        # Lambda Invoke (the review hook) reaches the deployed code in this stack's workers,
        # not moto's Docker-based Invoke.
        env["AWS_ENDPOINT_URL_LAMBDA"] = lambda_url
    return env
