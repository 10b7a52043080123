"""The local stack's readiness before its apply ends (local/applystream.py), on a recorded
`terraform apply -json` stream of infra/ against the emulator (tests/unit/data, recorded by
`roomchat run`, which keeps each run's stream in .local/devstack/apply.jsonl), and the
background process runner on a stand-in terraform that replays it."""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import time
from pathlib import Path

import pytest

from roomchat_tools.local import stack as devstack
from roomchat_tools.local.applystream import (
    DEFERRED,
    ApplyProgress,
    BackgroundApply,
    CompletedApply,
    deferred,
    echo_line,
)

RECORDED = Path(__file__).parent / "data" / "apply-stream.jsonl.gz"


def recorded() -> list[dict]:
    with gzip.open(RECORDED, "rt") as f:
        return [json.loads(line) for line in f]


def ready_at(messages: list[dict]) -> tuple[int, ApplyProgress]:
    progress = ApplyProgress()
    for i, message in enumerate(messages):
        progress.feed(message)
        if progress.chat_ready:
            return i, progress
    raise AssertionError("never ready")


def test_the_chat_is_ready_once_everything_but_the_deferred_is_applied():
    messages = recorded()
    index, progress = ready_at(messages)
    # Ready well before the apply ends, with the queues, mapping and alarms still to come.
    assert not progress.ended and index < len(messages) - 50
    chat_path = {a for a in progress.planned if not deferred(a)}
    assert chat_path <= progress.applied
    pending = progress.planned - progress.applied
    assert "aws_lambda_event_source_mapping.fanout" in pending
    assert "aws_sqs_queue_redrive_policy.fanout" in pending
    assert pending and all(deferred(a) for a in pending)
    # The last resource on the chat's path is what made it ready.
    last = messages[index]
    assert last["type"] == "apply_complete" and not deferred(last["hook"]["resource"]["addr"])
    # Everything the gateway needs is there: the functions, routes, permissions, tables.
    for kind in (
        "module.functions.aws_lambda_function.this",
        "module.websocket_api.aws_apigatewayv2_route.this",
        "module.websocket_api.aws_lambda_permission.this",
        "module.websocket_api.aws_apigatewayv2_route_response.this",
    ):
        assert sum(a.startswith(kind) for a in progress.applied) >= 18, kind
    assert progress.id_of("module.tables.aws_dynamodb_table.rooms") == "roomchat-rooms"
    assert progress.id_of("module.websocket_api.aws_apigatewayv2_stage.this") == "live"
    assert progress.id_of("module.websocket_api.aws_apigatewayv2_api.this")


def test_the_whole_stream_ends_with_the_outputs():
    progress = ApplyProgress()
    for message in recorded():
        progress.feed(message)
    assert progress.ended and progress.chat_ready and not progress.errors
    assert progress.planned <= progress.applied  # (plus the data sources read)
    assert progress.outputs is not None and not progress.sensitive_outputs
    assert progress.outputs["fanout_queue_url"].endswith("/roomchat-fanout")
    assert "cognito_client_id" not in progress.outputs  # null outputs are left out


def test_not_ready_before_the_plan_is_complete():
    """Until the plan's change_summary, more resources may come: an empty set is not 'done'."""
    progress = ApplyProgress()
    for message in recorded():
        if message["type"] == "change_summary":
            break
        progress.feed(message)
    assert progress.planned and not progress.plan_known
    progress.applied |= progress.planned  # even with every resource seen so far applied
    assert not progress.chat_ready


def test_a_failed_resource_on_the_chat_path_means_never_ready():
    messages = recorded()
    index, _ = ready_at(messages)
    failing = messages[index]["hook"]["resource"]["addr"]
    progress = ApplyProgress()
    for message in messages[:index]:
        progress.feed(message)
    progress.feed(
        {
            "type": "apply_errored",
            "@message": f"{failing}: Creation errored after 0s",
            "hook": {"resource": {"addr": failing}, "action": "create"},
        }
    )
    progress.feed(
        {
            "type": "diagnostic",
            "@message": "Error: creating Lambda Permission",
            "diagnostic": {
                "severity": "error",
                "summary": "creating Lambda Permission",
                "detail": "ResourceNotFoundException",
                "address": failing,
            },
        }
    )
    assert not progress.chat_ready
    assert any("ResourceNotFoundException" in e for e in progress.errors)


def test_only_the_fanout_tier_and_monitoring_are_deferred():
    assert deferred("aws_sqs_queue.fanout") and deferred(
        "module.monitoring[0].aws_kms_key.alarms[0]"
    )
    assert deferred("module.attachments.aws_s3_bucket_lifecycle_configuration.this")
    assert not deferred("module.attachments.aws_s3_bucket.this")
    for address in (
        'module.functions.aws_lambda_function.this["join"]',
        "module.websocket_api.aws_apigatewayv2_stage.this",
        "aws_cognito_user_pool_client.this[0]",
        "module.tables.aws_dynamodb_table.rooms",
    ):
        assert not deferred(address), address
    assert len(DEFERRED) == 6


def test_verbose_output_is_terraforms_own_text():
    assert echo_line({"type": "version", "@message": "Terraform 1.11.4"}) is None
    line = echo_line(
        {"type": "diagnostic", "@message": "Error: boom", "diagnostic": {"detail": "why"}}
    )
    assert line == "Error: boom\nwhy"


# ---- the process runner, with a stand-in terraform replaying the recorded stream ------------

REPLAY = """
import gzip, json, os, signal, sys, time
signal.signal(signal.SIGINT, lambda *a: (os.write(1, b"interrupted\\n"), os._exit(1)))
path, fail, hang = sys.argv[1], sys.argv[2] == "fail", sys.argv[3] == "hang"
with gzip.open(path, "rt") as f:
    lines = f.readlines()
print("a warning that is not JSON", flush=True)
for i, line in enumerate(lines):
    message = json.loads(line)
    if message["type"] == "apply_start" and message["hook"]["resource"]["addr"].startswith(
        "aws_sqs_queue_redrive_policy"
    ):
        if hang:
            time.sleep(600)
        time.sleep(0.5)  # the deferred rest comes visibly later
        if fail:
            print(json.dumps({"type": "diagnostic", "@message": "Error: creating SQS redrive",
                              "diagnostic": {"severity": "error", "summary": "creating SQS redrive",
                                             "detail": "InvalidParameterValue"}}), flush=True)
            sys.exit(1)
    if message["type"] == "apply_complete" and message["hook"]["resource"]["addr"].startswith(
        "aws_sqs_queue_redrive_policy"
    ):
        time.sleep(0.6)  # as on the emulator: the mapping comes ~25 s before the policy
    print(line, end="", flush=True)
"""


def _replay(tmp_path: Path, mode: str = "ok", hang: bool = False) -> BackgroundApply:
    script = tmp_path / "terraform.py"
    script.write_text(REPLAY)
    argv = [sys.executable, str(script), str(RECORDED), mode, "hang" if hang else "no"]
    cleaned = []
    apply = BackgroundApply(
        argv,
        tmp_path,
        {"PATH": "/usr/bin:/bin"},
        cleanup=lambda: cleaned.append(True),
        record=tmp_path / "apply.jsonl",
    )
    apply.cleaned = cleaned  # type: ignore[attr-defined]
    return apply


def test_background_apply_is_ready_before_it_has_finished(tmp_path):
    apply = _replay(tmp_path)
    assert apply.wait_ready() is True
    assert not apply.finished.is_set()  # the deferred rest is still being applied
    assert apply.finished.wait(30)
    assert apply.succeeded and apply.cleaned == [True]
    assert apply.ready_s is not None and apply.finished_s is not None
    assert apply.ready_s < apply.finished_s
    assert apply.text == ["a warning that is not JSON"]
    assert (tmp_path / "apply.jsonl").read_text().count("\n") == len(recorded()) + 1


def test_a_failure_after_ready_is_reported(tmp_path):
    apply = _replay(tmp_path, "fail")
    assert apply.wait_ready() is True
    assert apply.finished.wait(30)
    assert not apply.succeeded and apply.returncode == 1
    assert "InvalidParameterValue" in apply.failure()


def test_stop_interrupts_terraform_once_and_waits_for_it(tmp_path):
    apply = _replay(tmp_path, hang=True)
    assert apply.wait_ready() is True
    started = time.monotonic()
    apply.stop(grace_s=10)
    assert time.monotonic() - started < 5  # SIGINT, not the grace period's kill
    assert apply.finished.is_set() and apply.returncode == 1
    assert "interrupted" in apply.text


class FakeSources:
    def __init__(self):
        self.added = 0

    async def add_new(self) -> int:
        self.added += 1
        return 0


class NoTerraform:
    def outputs(self):  # the stream carries every output: Terraform is not asked
        raise AssertionError("terraform output was called")


@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_the_stack_follows_the_background_apply(tmp_path, mode):
    """Done: stack.json says applied, with the outputs, and the mapping is polled; failed: the
    stack is stopped and the failure returned (run_stack then exits nonzero)."""
    apply = _replay(tmp_path, mode)
    assert apply.wait_ready()
    path = tmp_path / "stack.json"
    info = {"pid": 1, "applied": False, "outputs": {}}
    sources = FakeSources()

    deploy = devstack._Deploy(None, NoTerraform(), {}, tmp_path, False, None, apply=apply)

    async def follow():
        stop = asyncio.Event()
        result = await devstack._follow_apply(deploy, sources, (path, info), time.monotonic(), stop)
        return result, stop.is_set()

    failure, stopped = asyncio.run(follow())
    if mode == "ok":
        assert failure is None and not stopped
        written = json.loads(path.read_text())
        assert written["applied"] is True
        assert written["outputs"]["fanout_queue_url"].endswith("/roomchat-fanout")
        assert sources.added == 3  # at once, when the mapping was applied, and at the end
    else:
        assert stopped and "InvalidParameterValue" in failure
        assert not path.exists()


def test_a_saved_plans_stream_is_ready_at_the_same_point():
    """Applying a saved plan prints the planned changes but no plan change_summary: the first
    change being applied completes the list instead (data source reads do not)."""
    messages = recorded()
    index, _ = ready_at(messages)
    without_summary = [m for m in messages if m["type"] != "change_summary"]
    saved_index, progress = ready_at(without_summary)
    assert without_summary[saved_index] is messages[index]
    assert not progress.ended


def test_nothing_to_apply_reads_as_an_apply_already_done():
    """A warm start whose inputs are the snapshot's: the stack reads the restored state's ids
    and outputs as it would read them from an apply's stream."""
    ids = {
        "module.websocket_api.aws_apigatewayv2_api.this": "abc123",
        "aws_lambda_event_source_mapping.fanout": "uuid-1",
    }
    apply = CompletedApply(ids, {"api_id": "abc123"})
    assert apply.wait_ready() and apply.finished.is_set() and apply.succeeded
    assert apply.progress.chat_ready and apply.progress.ended and not apply.progress.planned
    assert apply.progress.id_of("module.websocket_api.aws_apigatewayv2_api.this") == "abc123"
    assert apply.applied_any("aws_lambda_event_source_mapping.")
    assert not apply.created_anything()
    assert apply.progress.outputs == {"api_id": "abc123"}
    assert not apply.progress.sensitive_outputs
    apply.stop()  # nothing runs: a no-op


def test_a_warm_start_with_nothing_to_apply_is_followed_without_terraform(tmp_path):
    apply = CompletedApply({"aws_sqs_queue.fanout": "q"}, {"fanout_queue_url": "http://q"})
    deploy = devstack._Deploy(None, NoTerraform(), {}, tmp_path, False, None, apply=apply)
    deploy.mode = "unchanged"
    path, info, sources = tmp_path / "stack.json", {"pid": 1, "applied": False}, FakeSources()
    failure = asyncio.run(
        devstack._follow_apply(deploy, sources, (path, info), time.monotonic(), asyncio.Event())
    )
    assert failure is None and sources.added == 2  # at once (the restored one), at the end
    written = json.loads(path.read_text())
    assert written["applied"] is True and written["outputs"] == {"fanout_queue_url": "http://q"}
