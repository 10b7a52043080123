"""Structured logs: one JSON object per line, carrying the invocation's context.

CloudWatch Logs Insights reads these fields directly (connectionId, roomId, action, requestId).
"""

from __future__ import annotations

import contextvars
import json
import sys
import time
from typing import Any

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_context")
_threshold = 20


def set_level(level: str) -> None:
    global _threshold
    _threshold = _LEVELS.get(level.upper(), 20)


def bind(**fields: Any) -> None:
    """Start a new invocation's context (replaces the previous one)."""
    _context.set({k: v for k, v in fields.items() if v is not None})


def context() -> dict[str, Any]:
    return dict(_context.get({}))


def log(level: str, event: str, **fields: Any) -> None:
    if _LEVELS[level] < _threshold:
        return
    record = {"ts": round(time.time(), 3), "level": level, "event": event}
    record.update(_context.get({}))
    record.update({k: v for k, v in fields.items() if v is not None})
    sys.stdout.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def info(event: str, **fields: Any) -> None:
    log("INFO", event, **fields)


def warning(event: str, **fields: Any) -> None:
    log("WARNING", event, **fields)


def error(event: str, **fields: Any) -> None:
    log("ERROR", event, **fields)


def debug(event: str, **fields: Any) -> None:
    log("DEBUG", event, **fields)


def extend(**fields: Any) -> None:
    """Add fields to the current invocation's context (e.g. roomId once the body is parsed)."""
    current = dict(_context.get({}))
    current.update({k: v for k, v in fields.items() if v is not None})
    _context.set(current)
