"""Warm restarts of the whole local stack: `make run` again keeps what the last run left
(local/snapshot.py: the emulator's resources and data with Terraform's state) and applies only
what changed; `--fresh` and an unusable snapshot start from empty.

One stack directory for the module (its fixture: a first start, from the suite's seed
(tests/stack.py), its whole apply, a message, a stale membership, a clean stop that saves the
snapshot; an unusable snapshot: tests/unit/test_snapshot.py), then each test starts it
again from that snapshot with its own change. Its functions are built from a copy of
functions/roomchat (ROOMCHAT_FUNCTIONS_SRC), so a test can edit their code; the fan-out tier's
threshold is lowered (a room of 3 goes through the queue) to show the tier works at once."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from roomchat_client import Client as PlainClient
from roomchat_tools.infra import build_lambda
from roomchat_tools.local import dynamodb_local, launcher, snapshot
from roomchat_tools.local import emulator as emulator_mod
from tests.e2e.support import run
from tests.reliability.support import (
    connect_and_join,
    drain,
    members,
    messages_of,
    say,
    sent_record,
    unique,
)
from tests.stack import RunningStack, suite_seed

pytestmark = pytest.mark.e2e

TF_VARS = {"fanout_tier_threshold": 2, "fanout_chunk_size": 2}
GHOST = "gone-before-the-restart"


@dataclass
class Baseline:
    local: Path
    source: Path  # the functions' package the stack builds its zip from
    saved: Path  # the snapshot the first run left, copied
    info: dict  # its stack.json once applied
    room: str
    message_id: str

    @property
    def work(self) -> Path:
        return self.local / "devstack"

    def restore(self) -> None:
        """The stack directory as the first run left it (another test may have replaced the
        snapshot); no apply stream yet, so one written by this start shows."""
        shutil.copy(self.saved, snapshot.path_in(self.work))
        (self.work / "apply.jsonl").unlink(missing_ok=True)


def _launch(
    local: Path,
    source: Path,
    *args: str,
    tf_vars: dict | None = None,
    env: dict[str, str] | None = None,
) -> RunningStack:
    env = {
        **(env or {}),
        "ROOMCHAT_WARM": "1",
        "ROOMCHAT_FUNCTIONS_SRC": str(source),
        "ROOMCHAT_TF_VARS": json.dumps(tf_vars or TF_VARS),
        "ROOMCHAT_PORT": str(emulator_mod.free_port()),
        "ROOMCHAT_EMULATOR_PORT": str(emulator_mod.free_port()),
        "ROOMCHAT_IDLE_TIMEOUT": "30",
    }
    try:
        launched = launcher.launch(local, env, args=args, timeout_s=300)
    except launcher.StackNotReady as e:
        pytest.fail(str(e))
    return RunningStack(
        launched.proc,
        launched.info,
        local,
        launched.log_path,
        launched.env,
        launched.ready_s,
        dict(launched.info),
    )


def _stop(stack: RunningStack) -> str:
    """Ctrl-C; the stack's whole log."""
    code, _ = launcher.stop(stack.proc, timeout_s=60)
    log = stack.log_path.read_text(errors="replace")
    assert code == 0, log[-3000:]
    return log


def _planned(work: Path) -> dict[str, str]:
    """address -> action of every change the last apply planned (its -json stream)."""
    changes = {}
    for line in (work / "apply.jsonl").read_text().splitlines():
        message = json.loads(line)
        if message.get("type") == "planned_change":
            change = message["change"]
            changes[change["resource"]["addr"]] = change["action"]
    return changes


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Baseline:
    local = tmp_path_factory.mktemp("warm")
    source = tmp_path_factory.mktemp("functions") / "roomchat"
    shutil.copytree(build_lambda.SOURCE_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    work = local / "devstack"
    # The first run: from the suite's seed when there is one (a warm start applying this
    # module's variables: the seed's own start was the fresh one), else from empty.
    seed = suite_seed(tmp_path_factory)
    if seed is not None:
        launcher.plant_seed(seed, local)
    work.mkdir(exist_ok=True)
    stack = _launch(local, source)
    try:
        info = stack.applied()  # the snapshot is taken once the whole apply is done
        room = unique("kept")

        async def scenario() -> dict:
            (ana,) = await connect_and_join(stack.url, room, ["ana"])
            echo = await say(ana, room, "before the restart")
            await ana.close()
            return echo

        echo = run(scenario())
        # A membership whose connection will not exist after the restart (as a missed
        # $disconnect would leave one): it must not come back as a ghost.
        stack.client("dynamodb").put_item(
            TableName=info["rooms_table"],
            Item={
                "roomId": {"S": room},
                "connectionId": {"S": GHOST},
                "name": {"S": "ghost"},
                "joinedAt": {"S": "2026-01-01T00:00:00Z"},
                "expiresAt": {"N": "4102444800"},
            },
        )
    finally:
        log = _stop(stack)
    assert log.count("snapshot saved for the next start") == 2  # after the apply, at the stop
    saved = tmp_path_factory.mktemp("saved") / snapshot.FILE_NAME
    shutil.copy(snapshot.path_in(work), saved)
    return Baseline(local, source, saved, info, room, echo["messageId"])


def test_an_unchanged_tree_starts_warm_applies_nothing_and_keeps_the_data(baseline):
    baseline.restore()
    stack = _launch(baseline.local, baseline.source)
    try:
        assert stack.launch_info["api_id"] == baseline.info["api_id"]
        info = stack.applied(timeout_s=30)
        assert info["outputs"] == baseline.info["outputs"]
        # The fan-out tier's mapping is restored as Terraform made it, then taken over by the
        # stack's poller (disabled in moto's view), as on a fresh start.
        mapping = stack.client("lambda").get_event_source_mapping(
            UUID=info["outputs"]["fanout_event_source_mapping_id"]
        )
        assert mapping["State"] == "Disabled"
        tier_room = unique("tier")

        async def scenario():
            (bob,) = await connect_and_join(stack.url, baseline.room, ["bob"])
            history = await bob.history(baseline.room)
            names = await members(bob, baseline.room)
            trio = await connect_and_join(stack.url, tier_room, ["x", "y", "z"])
            await drain(trio)
            echo = await say(trio[0], tier_room, "through the queue")
            frames = await drain(trio[1:], 4.0)
            record = await sent_record(stack, echo["messageId"])
            for client in [bob, *trio]:
                await client.close()
            return history, names, echo, frames, record

        history, names, echo, frames, record = run(scenario())
    finally:
        log = _stop(stack)
    assert "warm start: the inputs are those of the snapshot, nothing to apply" in log
    assert not (baseline.work / "apply.jsonl").exists()  # terraform applied nothing
    # History written before the restart is there; the stale membership is not.
    assert baseline.message_id in [m["messageId"] for m in history["messages"]]
    assert names == ["bob"]
    assert "items of closed connections cleared" in log
    # The fan-out tier works at once: a room of 3 goes through the queue and the fanout function.
    got = [[m["messageId"] for m in messages_of(f, tier_room)] for f in frames]
    assert got == [[echo["messageId"]]] * 2
    assert record["tier"] is True and record["chunksQueued"] == 1
    assert "snapshot saved for the next start" in log  # the clean stop saved the data again


def test_edited_function_code_updates_only_the_functions_and_runs(baseline):
    handlers = baseline.source / "handlers.py"
    original = handlers.read_text()
    edited = original.replace(
        "return _reply(200, protocol.pong_frame())",
        'return _reply(200, {**protocol.pong_frame(), "build": "edited"})',
    )
    assert edited != original
    handlers.write_text(edited)
    baseline.restore()
    try:
        stack = _launch(baseline.local, baseline.source)
        try:

            async def scenario():
                client = await PlainClient.connect(stack.url)  # no schema check: "build" is new
                pong = await client.ping()
                await client.join(baseline.room, "cy")
                history = await client.history(baseline.room)
                await client.close()
                return pong, history

            pong, history = run(scenario())
            functions = stack.client("lambda").list_functions()["Functions"]
            info = stack.applied(timeout_s=60)
        finally:
            log = _stop(stack)
    finally:
        handlers.write_text(original)
    assert "warm start: inputs changed since the snapshot, applying the difference" in log
    planned = _planned(baseline.work)
    # One zip for every function: its S3 object (named by its hash) is replaced and each
    # function's code updated; nothing else (tables, roles, routes, the tier) is touched.
    code_object = "module.functions.aws_s3_object.code"
    assert planned.pop(code_object) == "replace"
    assert planned and all(
        address.startswith("module.functions.aws_lambda_function.this[") and action == "update"
        for address, action in planned.items()
    ), planned
    assert len(planned) == len(functions)
    assert pong == {"type": "pong", "build": "edited"}
    zip_sha = build_lambda.b64sha256((baseline.work / "functions.zip").read_bytes())
    assert (
        {f["CodeSha256"] for f in functions} == {zip_sha} == {info["outputs"]["lambda_zip_sha256"]}
    )
    assert history["type"] == "history", history
    assert baseline.message_id in [m["messageId"] for m in history["messages"]]


def _dynamodb_local() -> dict[str, str]:
    """ROOMCHAT_DYNAMODB=local where DynamoDB Local is installed (`make test` installs it)."""
    try:
        dynamodb_local.find_jar()
    except dynamodb_local.Unavailable:
        return {}
    return {"ROOMCHAT_DYNAMODB": "local"}


def test_a_changed_variable_updates_only_what_uses_it(baseline):
    """Also on DynamoDB Local where it is installed: the restored emulator's tables are copied
    into it as on a fresh start (their data stays in the emulator's snapshot), and the chat
    works on it at once."""
    baseline.restore()
    tf_vars = {**TF_VARS, "lambda_limits": {"ping": {"timeout": 7}}}
    engine = _dynamodb_local()
    stack = _launch(baseline.local, baseline.source, tf_vars=tf_vars, env=engine)
    try:
        config = stack.client("lambda").get_function_configuration(FunctionName="roomchat-ping")
        room = unique("after")

        async def scenario():
            (eve,) = await connect_and_join(stack.url, room, ["eve"])
            pong = await eve.ping()
            echo = await say(eve, room, "after a variable changed")
            history = await eve.history(room)
            await eve.close()
            return pong, echo, history

        pong, echo, history = run(scenario())
        info = stack.launch_info
    finally:
        log = _stop(stack)
    assert "applying the difference" in log
    assert _planned(baseline.work) == {
        'module.functions.aws_lambda_function.this["ping"]': "update"
    }
    assert config["Timeout"] == 7 and pong == {"type": "pong"}
    assert [m["messageId"] for m in history["messages"]] == [echo["messageId"]]
    if engine:
        assert info["dynamodb_engine"] == "dynamodb-local"
        assert info["dynamodb_endpoint"] != info["emulator_endpoint"]


def test_fresh_starts_from_empty(baseline):
    baseline.restore()
    stack = _launch(baseline.local, baseline.source, "--fresh")
    try:
        # Ready to chat before the apply ends, as any fresh start.
        assert stack.launch_info["applied"] is False
        assert stack.launch_info["api_id"] != baseline.info["api_id"]

        async def scenario():
            (client,) = await connect_and_join(stack.url, baseline.room, ["dee"])
            history = await client.history(baseline.room)
            await client.close()
            return history

        history = run(scenario())
    finally:
        log = _stop(stack)  # before its apply is done: Terraform is stopped, no snapshot saved
    assert "snapshot removed: --fresh: the emulator starts empty" in log
    assert "warm start" not in log
    assert history["type"] == "history" and history["messages"] == []
    assert not snapshot.path_in(baseline.work).exists()
