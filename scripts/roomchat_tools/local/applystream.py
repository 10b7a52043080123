"""`terraform apply -json` in the background, and when the chat is ready before it ends.

The apply's slowest resources are waits in the AWS provider that the emulator cannot shorten (and
that are the same on AWS): each SQS queue ~25 s of attribute-propagation checks, the redrive
policy as long again after both queues, the alarm topic's KMS key ~13 s. None of them is on the
chat's path: the functions know the queue by name and its ARN is built from its parts
(infra/fanout.tf). So the local stack starts its gateway once every other resource is applied,
and the rest (DEFERRED) finishes behind it; messages queued meanwhile wait in SQS, as on AWS
during a deployment.

Terraform's machine-readable UI (https://developer.hashicorp.com/terraform/internals/machine-readable-ui)
prints one JSON message per line: `planned_change` for every resource the plan changes, then
`change_summary` (operation "plan"), then `apply_start` / `apply_complete` (with the resource's
id) / `apply_errored` per resource, `diagnostic` for warnings and errors, and a last
`change_summary` (operation "apply") when the apply has ended.

``ApplyProgress`` is the pure part (fed message by message, tested on a recorded stream);
``BackgroundApply`` runs the process and feeds it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack.apply")

# Resource addresses (prefixes) the chat does not need to start: the fan-out tier's queues, their
# redrive policy and event source mapping (a big room's chunks queued before the mapping exists
# wait in the queue; before the queue exists send_all posts them inline, as in a queue outage),
# and the alarms with their KMS key and topic. Everything else, including anything added to
# infra/ later, is on the chat's path by default.
DEFERRED = (
    # The attachments bucket's lifecycle rule (unattached uploads expire after a day): the
    # provider waits for the rules to read back the same several times (~55 s here), and
    # nothing the chat does needs it.
    "module.attachments.aws_s3_bucket_lifecycle_configuration.",
    "aws_sqs_queue.",
    "aws_sqs_queue_redrive_policy.",
    "aws_lambda_event_source_mapping.",
    "module.monitoring[",
    "module.monitoring.",
)


def deferred(address: str) -> bool:
    return address.startswith(DEFERRED)


@dataclass
class ApplyProgress:
    """What a `terraform apply -json` stream has said so far."""

    planned: set[str] = field(default_factory=set)
    applied: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)  # address -> id of applied resources
    errors: list[str] = field(default_factory=list)
    plan_known: bool = False  # `planned` is complete (the plan's change_summary, or a change begun)
    ended: bool = False  # the apply's change_summary has come
    # The root module's outputs (the `outputs` message at the end), complete unless one is
    # sensitive: the stream does not carry those values.
    outputs: dict[str, Any] | None = None
    sensitive_outputs: bool = False

    def feed(self, message: Mapping[str, Any]) -> None:
        handler = getattr(self, f"_on_{message.get('type')}", None)
        if handler is not None:
            handler(message)

    def _on_planned_change(self, message: Mapping[str, Any]) -> None:
        change = message.get("change") or {}
        if change.get("action") not in (None, "noop", "read"):
            self.planned.add(change["resource"]["addr"])

    def _on_change_summary(self, message: Mapping[str, Any]) -> None:
        operation = (message.get("changes") or {}).get("operation")
        if operation == "plan":
            self.plan_known = True
        elif operation in ("apply", "destroy"):
            self.ended = True

    def _on_apply_start(self, message: Mapping[str, Any]) -> None:
        # Applying a saved plan prints the planned changes but no plan change_summary: the
        # first change being applied (not a data source read) says the list is complete.
        if (message.get("hook") or {}).get("action") not in (None, "read"):
            self.plan_known = True

    def _on_apply_complete(self, message: Mapping[str, Any]) -> None:
        hook = message.get("hook") or {}
        address = hook["resource"]["addr"]
        self.applied.add(address)
        if hook.get("id_value") is not None:
            self.ids[address] = str(hook["id_value"])

    def _on_outputs(self, message: Mapping[str, Any]) -> None:
        items = (message.get("outputs") or {}).items()
        self.outputs = {name: item.get("value") for name, item in items}
        self.sensitive_outputs = any(item.get("sensitive") for _, item in items)

    def _on_apply_errored(self, message: Mapping[str, Any]) -> None:
        self.errors.append(str(message.get("@message", "")))

    def _on_diagnostic(self, message: Mapping[str, Any]) -> None:
        diagnostic = message.get("diagnostic") or {}
        if diagnostic.get("severity") == "error":
            parts = (diagnostic.get("summary"), diagnostic.get("address"), diagnostic.get("detail"))
            self.errors.append(" ".join(str(p) for p in parts if p))

    @property
    def waiting_for(self) -> set[str]:
        """Resources on the chat's path not applied yet."""
        return {a for a in self.planned if not deferred(a)} - self.applied

    @property
    def chat_ready(self) -> bool:
        """Every planned resource but the DEFERRED ones is applied (and none failed)."""
        return self.plan_known and not self.errors and not self.waiting_for

    def id_of(self, address: str) -> str | None:
        return self.ids.get(address)


def echo_line(message: Mapping[str, Any]) -> str | None:
    """What `--verbose` prints for a message: Terraform's own human-readable text of it."""
    if message.get("type") in ("version", "log") and message.get("@level") != "error":
        return None
    text = message.get("@message")
    if message.get("type") == "diagnostic":
        detail = (message.get("diagnostic") or {}).get("detail")
        if detail:
            text = f"{text}\n{detail}"
    return str(text) if text else None


class BackgroundApply:
    """`terraform apply -json` as a child process in its own session (a terminal's Ctrl-C reaches
    only the stack, which then stops terraform with one SIGINT: Terraform's graceful stop; a
    second would make it exit at once), its stream read by a thread into ``progress``."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        *,
        echo: bool = False,
        cleanup: Callable[[], None] = lambda: None,
        record: Path | None = None,
    ) -> None:
        self.progress = ApplyProgress()
        self.ready = threading.Event()  # chat_ready, or the process has ended
        self.finished = threading.Event()
        self.returncode: int | None = None
        self.started = time.monotonic()
        self.ready_s: float | None = None
        self.finished_s: float | None = None
        self.text: list[str] = []  # lines that were not JSON (Terraform's own warnings)
        self._echo = echo
        self._cleanup = cleanup
        self._lock = threading.Lock()
        # The raw stream, kept for a look afterwards (which resource took how long).
        self._record = record.open("w") if record is not None else None
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, name="terraform-apply", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                self._line(line)
        finally:
            self.returncode = self.proc.wait()
            self.finished_s = time.monotonic() - self.started
            if self._record is not None:
                self._record.close()
            self._cleanup()
            self.finished.set()
            self.ready.set()

    def _line(self, line: str) -> None:
        if self._record is not None:
            self._record.write(line)
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.text.append(line.rstrip("\n"))
            if self._echo:
                sys.stdout.write(line)
                sys.stdout.flush()
            return
        with self._lock:
            self.progress.feed(message)
            if self.progress.chat_ready and not self.ready.is_set():
                self.ready_s = time.monotonic() - self.started
                self.ready.set()
        if self._echo and (text := echo_line(message)):
            print(text, flush=True)

    def created_anything(self) -> bool:
        """Whether any resource was created (data sources read do not count)."""
        with self._lock:
            return any(
                ".data." not in a and not a.startswith("data.") for a in self.progress.applied
            )

    def applied_any(self, prefix: str) -> bool:
        """Whether a resource whose address starts with ``prefix`` is applied."""
        with self._lock:
            return any(address.startswith(prefix) for address in self.progress.applied)

    @property
    def succeeded(self) -> bool:
        return self.finished.is_set() and self.returncode == 0 and not self.progress.errors

    def failure(self) -> str:
        """What went wrong, for the user: the error diagnostics, else the output's tail."""
        lines = self.progress.errors or self.text[-20:]
        return "\n".join(lines) or f"terraform exited {self.returncode}"

    def wait_ready(self) -> bool:
        """Block until the chat's resources are applied (True) or the apply has ended without
        them (False)."""
        self.ready.wait()
        with self._lock:
            return self.progress.chat_ready

    def stop(self, grace_s: float = 20.0) -> None:
        """Stop a running apply as Ctrl-C would (one SIGINT: Terraform cancels what is in
        flight, writes its state and exits), killing it only if it has not ended in
        ``grace_s``."""
        if self.proc.poll() is None:
            log.info("stopping terraform apply (pid %d)", self.proc.pid)
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                log.warning("terraform did not stop within %.0f s: killed", grace_s)
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)


class CompletedApply:
    """What the stack reads from an apply, when there is nothing to apply: a restored snapshot
    (local/snapshot.py) whose inputs are this start's. Everything is applied already; the ids
    and outputs come from Terraform's restored state, as the stream would have given them."""

    def __init__(self, ids: Mapping[str, str], outputs: Mapping[str, Any]) -> None:
        self.progress = ApplyProgress(
            applied=set(ids),
            ids=dict(ids),
            plan_known=True,
            ended=True,
            outputs=dict(outputs),
        )
        self.ready = threading.Event()
        self.ready.set()
        self.finished = threading.Event()
        self.finished.set()
        self.returncode: int | None = 0
        self.started = time.monotonic()
        self.ready_s: float | None = 0.0
        self.finished_s: float | None = 0.0
        self.text: list[str] = []

    def created_anything(self) -> bool:
        return False

    def applied_any(self, prefix: str) -> bool:
        return any(address.startswith(prefix) for address in self.progress.applied)

    @property
    def succeeded(self) -> bool:
        return True

    def failure(self) -> str:
        return ""

    def wait_ready(self) -> bool:
        return True

    def stop(self, grace_s: float = 20.0) -> None:
        return None
