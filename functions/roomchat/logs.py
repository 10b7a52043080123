"""Structured logs: one JSON object per line, carrying the invocation's context.

CloudWatch Logs Insights reads these fields directly (connectionId, roomId, action, requestId).
"""

from __future__ import annotations

import contextvars
import json
import sys
import time
from collections.abc import Mapping
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
    _write(level, event, fields)


def _write(level: str, event: str, fields: Mapping[str, Any]) -> None:
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


# ----------------------------------------------------------- metrics (embedded metric format)
# A log record that is also a set of CloudWatch metrics: CloudWatch Logs extracts the values named
# in its "_aws" block, so counting costs no API call and no import. Spec:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

COUNT = "Count"
MILLISECONDS = "Milliseconds"
DEFAULT_NAMESPACE = "roomchat"
FUNCTION_DIMENSION = "FunctionName"
_metric_target: tuple[str, str] | None = None


def _metrics_target() -> tuple[str, str]:
    """(namespace, function name): METRICS_NAMESPACE (Terraform sets it per stack) and the name
    Lambda gives the function in AWS_LAMBDA_FUNCTION_NAME, read once per process."""
    global _metric_target
    if _metric_target is None:
        import os

        namespace = os.environ.get("METRICS_NAMESPACE", "").strip() or DEFAULT_NAMESPACE
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "").strip() or "local"
        _metric_target = (namespace, function)
    return _metric_target


def metrics(
    event: str, values: Mapping[str, tuple[float, str]], level: str = "INFO", **fields: Any
) -> None:
    """One log record carrying ``values`` ({name: (number, unit)}) as EMF metrics.

    Each metric is published twice: by function (dimension FunctionName) and for the whole
    stack (no dimension, which alarms use), both in the stack's namespace.

    Written whatever LOG_LEVEL says: these records are the alarms' and the dashboard's data,
    not chatter, so LOG_LEVEL=WARNING must not silence the alarms (``level`` only labels them).
    """
    namespace, function = _metrics_target()
    directive = {
        "Namespace": namespace,
        "Dimensions": [[FUNCTION_DIMENSION], []],
        "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
    }
    numbers = {name: value for name, (value, _) in values.items()}
    _write(
        level,
        event,
        {
            **fields,
            **numbers,
            FUNCTION_DIMENSION: function,
            "_aws": {"Timestamp": time.time_ns() // 1_000_000, "CloudWatchMetrics": [directive]},
        },
    )
