"""Where a running local stack is: the one module that finds and reads `.local/stack.json`.

`roomchat run` (local/stack.py) writes the file when the stack is ready and removes it when it
stops; the chat and history clients (and the bench) find the stack through it. The folder is
`$ROOMCHAT_LOCAL_DIR`, else `.local/` at the top of the checkout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOCAL_DIR = REPO_ROOT / ".local"
FILE_NAME = "stack.json"


class StackFileError(RuntimeError):
    """No readable stack file, or the stack that wrote it is gone; the message says which."""


def local_dir() -> Path:
    """Where the local stack keeps its state, logs and stack file."""
    return Path(os.environ.get("ROOMCHAT_LOCAL_DIR") or DEFAULT_LOCAL_DIR).resolve()


def path(base: Path | None = None) -> Path:
    """The stack file of the local dir `base` (default: `local_dir()`)."""
    return (base or local_dir()) / FILE_NAME


def read(file: Path | None = None) -> dict[str, Any]:
    """What the stack file says (URLs, ports, table names, the stack's pid), as written."""
    file = file or path()
    try:
        info = json.loads(file.read_text())
    except FileNotFoundError:
        raise StackFileError(f"the local stack is not running (no {file})") from None
    except (OSError, ValueError) as exc:
        raise StackFileError(f"{file} is unreadable ({exc})") from None
    if not isinstance(info, dict):
        raise StackFileError(f"{file} is unreadable (not a JSON object)")
    return info


def dynamodb_endpoint(info: dict[str, Any]) -> str:
    """Where the stack's tables are: DynamoDB Local with ``ROOMCHAT_DYNAMODB=local``
    (local/dataplane.py), else the emulator. Read them with access key id ``testing`` (DynamoDB
    Local keeps a database per key id and region)."""
    return str(info.get("dynamodb_endpoint") or info["emulator_endpoint"])


def running(file: Path | None = None) -> dict[str, Any]:
    """`read()`, refusing a file left behind by a stack whose process is gone."""
    info = read(file)
    try:
        pid = int(info.get("pid", 0))
    except (TypeError, ValueError):
        pid = 0
    if pid <= 0 or not _pid_alive(pid):
        raise StackFileError(f"the local stack is not running (pid {info.get('pid')} is gone)")
    return info


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
