"""One Lambda execution environment: runs one function's handler, warm across invocations.

Started by the gateway as ``python -P -S worker.py <task_root> <handler>`` with the function's
environment, whose PYTHONPATH is the task root and then the folder holding boto3 (runtime.py says
why), as Lambda's PYTHONPATH names /var/task and /var/runtime. ``-P`` keeps this file's folder off
the import path, ``-S`` every .pth file (such as an editable install's) out of it, and this file
imports nothing from the project through the import path (``iam_check.py``, the check of the
function's AWS calls against its role, is loaded by file name), so the handler sees only the
deployment package (extracted to ``task_root``), the standard library and the runtime's
libraries (boto3), as on Lambda.

Wire protocol on the original stdin/stdout (each message: 4-byte big-endian length + JSON):
  out, once: {"id": 0, "ok": true} when the handler imported (init), or {"id": 0, "ok": false,
       "error": {...}} and exit
  in:  {"id": n, "event": {...}, "context": {"aws_request_id", "deadline_ms", ...}}
  out: {"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": {...}}
Whatever the handler prints goes to stderr, which the gateway shows as the function's log.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import signal
import struct
import sys
import time
import traceback
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")
# Set by the gateway: the file holding this function's role policy (iam_check.POLICY_FILE_ENV).
IAM_POLICY_ENV = "_ROOMCHAT_IAM_POLICY"

# What Lambda's Python runtimes provide besides the standard library; anything else the handler
# imports must be in the deployment package.
LAMBDA_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "awslambdaric"}
)


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.function_name: str = info["function_name"]
        self.function_version: str = info.get("function_version", "$LATEST")
        self.invoked_function_arn: str = info["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(info["memory_limit_in_mb"])
        self.aws_request_id: str = info["aws_request_id"]
        self.log_group_name: str = info["log_group_name"]
        self.log_stream_name: str = info["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = int(info["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name!r}, aws_request_id={self.aws_request_id!r})"


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        chunk = stream.read(missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _read_message(stream: BinaryIO) -> dict[str, Any] | None:
    header = _read_exact(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    payload = _read_exact(stream, size)
    return None if payload is None else json.loads(payload)


def _write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    payload = json.dumps(message).encode()
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _error(error_type: str, exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": error_type,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the gateway dies, even mid-invocation."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _runtime_dirs(task_root: str) -> list[str]:
    """PYTHONPATH's folders after the task root: the runtime's libraries (boto3 and its own)."""
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return [os.path.realpath(p) for p in entries if p and os.path.realpath(p) != task_root]


class RuntimeOnlyFinder(importlib.abc.MetaPathFinder):
    """Refuses imports, made by the deployment package's own code, of modules that only the
    runtime's library folder has besides boto3 and its dependencies (here the venv's site-packages
    holds the test tools too; Lambda would not have them). boto3 and botocore's own imports are
    left alone."""

    def __init__(self, task_root: str, runtime_dirs: list[str]) -> None:
        self.task_root = task_root + os.sep
        self.runtime_dirs = tuple(os.path.join(d, "") for d in runtime_dirs)

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if path is not None or fullname in LAMBDA_PROVIDED or fullname in sys.builtin_module_names:
            return None
        # Where the import would load it from: the task root comes first, the standard library
        # last; only what would come from the runtime's library folder is in question.
        spec = importlib.machinery.PathFinder.find_spec(fullname)
        locations = list(spec.submodule_search_locations or []) if spec else []
        origin = (spec.origin if spec and spec.origin else None) or next(iter(locations), None)
        if origin is None or not os.path.realpath(origin).startswith(self.runtime_dirs):
            return None
        if self._imported_by_package():
            raise ModuleNotFoundError(
                f"No module named '{fullname}': it is not in the deployment package, and "
                "Lambda's Python runtime provides only boto3, botocore and their dependencies",
                name=fullname,
            )
        return None

    def _imported_by_package(self) -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if not filename.startswith("<frozen") and filename != __file__:
                return os.path.realpath(filename).startswith(self.task_root)
            frame = frame.f_back
        return False


def _check_iam() -> None:
    """The local stack's IAM check of this function's AWS calls (iam_check.py, loaded from this
    file's folder by path, not through the import path), when the gateway gave this worker its
    role's policy; before the handler is imported, so every botocore client it makes is checked."""
    if not os.environ.get(IAM_POLICY_ENV):
        return
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iam_check.py")
    spec = importlib.util.spec_from_file_location("_roomchat_local_iam_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    module.install_from_environment(os.environ)


class Runtime:
    def __init__(self, task_root: str, handler: str) -> None:
        self.task_root = os.path.realpath(task_root)
        self.handler_name = handler
        self.handler: Any = None

    def load(self) -> Any:
        """Import the handler (the init phase); retried on the next invocation after a failure."""
        if self.handler is not None:
            return self.handler
        module_name, _, function_name = self.handler_name.rpartition(".")
        if not module_name:
            raise ValueError(f"Bad handler '{self.handler_name}': expected module.function")
        module = importlib.import_module(module_name)
        source = os.path.realpath(getattr(module, "__file__", "") or "")
        if not source.startswith(self.task_root + os.sep):
            raise ImportError(
                f"{module_name} was imported from {source}, not from the deployment package"
            )
        handler = getattr(module, function_name, None)
        if not callable(handler):
            raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
        self.handler = handler
        return handler

    def invoke(self, message: dict[str, Any]) -> dict[str, Any]:
        request_id = message["context"]["aws_request_id"]
        started = time.monotonic()
        try:
            try:
                handler = self.load()
            except Exception as exc:
                return {"ok": False, "error": _error("Runtime.ImportModuleError", exc)}
            try:
                result = handler(message["event"], LambdaContext(message["context"]))
            except Exception as exc:
                traceback.print_exc()
                return {"ok": False, "error": _error(type(exc).__name__, exc)}
            try:
                json.dumps(result)
            except (TypeError, ValueError) as exc:
                return {"ok": False, "error": _error("Runtime.MarshalError", exc)}
            return {"ok": True, "result": result}
        finally:
            elapsed = (time.monotonic() - started) * 1000
            print(f"REPORT RequestId: {request_id} Duration: {elapsed:.2f} ms", file=sys.stderr)


def main(argv: list[str]) -> int:
    task_root, handler = argv[1], argv[2]
    # Ctrl-C in the terminal reaches the whole process group; the gateway decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    # Keep the protocol streams for ourselves; the handler's prints and logs go to stderr.
    ipc_in = os.fdopen(os.dup(0), "rb", buffering=0)
    ipc_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    root = os.path.realpath(task_root)
    sys.meta_path.insert(0, RuntimeOnlyFinder(root, _runtime_dirs(root)))
    os.chdir(task_root)
    runtime = Runtime(task_root, handler)
    _check_iam()
    # The init phase: import the handler before the first event, as Lambda does, and say how it
    # went. A failed init ends this environment; the next invocation starts a new one.
    try:
        runtime.load()
    except Exception as exc:
        traceback.print_exc()
        _write_message(
            ipc_out, {"id": 0, "ok": False, "error": _error("Runtime.ImportModuleError", exc)}
        )
        return 1
    _write_message(ipc_out, {"id": 0, "ok": True})
    while True:
        message = _read_message(ipc_in)
        if message is None:  # the gateway closed the pipe: this environment is retired
            return 0
        reply = runtime.invoke(message)
        reply["id"] = message["id"]
        _write_message(ipc_out, reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
