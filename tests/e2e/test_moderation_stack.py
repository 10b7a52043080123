"""Issue 13 on the local stack (`make run` with the sample review hook created by Terraform):
delete, edit, typing, read markers and the review hook, driven by real WebSocket clients; the
hook is invoked by the deployed sendAll function through the Lambda Invoke API of the stack."""

from __future__ import annotations

import json

import pytest

from tests.e2e.support import Client, run
from tests.stack import _start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hook_stack(tmp_path_factory):
    tf_vars = {
        "create_sample_review_hook": True,
        "review_hook_masked_words": ["heck"],
        "review_hook_denied_words": ["spam"],
        # A cold worker starts in well over this on a busy laptop; warm ones answer in time.
        "review_hook_timeout_ms": 5000,
    }
    yield from _start_stack(tmp_path_factory, {"ROOMCHAT_TF_VARS": json.dumps(tf_vars)})


async def _join(client: Client, room: str, name: str) -> dict:
    return await client.request(
        {"action": "join", "roomId": room, "name": name}, {"type": "joined", "roomId": room}
    )


def test_the_review_hook_masks_and_denies_messages_on_the_stack(hook_stack):
    async def scenario():
        ana = await Client.connect(hook_stack.url)
        bob = await Client.connect(hook_stack.url)
        await _join(ana, "hooked", "ana")
        await _join(bob, "hooked", "bob")
        await ana.send({"action": "sendAll", "roomId": "hooked", "message": "oh heck"})
        masked = await bob.expect({"type": "message", "roomId": "hooked"})
        denied = await ana.request(
            {"action": "sendAll", "roomId": "hooked", "message": "buy spam"}, {"type": "error"}
        )
        page = await bob.request({"action": "history", "roomId": "hooked"}, {"type": "history"})
        for c in (ana, bob):
            await c.close()
        return masked, denied, page

    masked, denied, page = run(scenario())
    assert masked["message"] == "oh ****"
    assert denied["code"] == "rejected" and "spam" in denied["message"]
    assert [m["message"] for m in page["messages"]] == ["oh ****"]


def test_delete_edit_typing_and_read_markers_on_the_stack(hook_stack):
    async def scenario():
        ana = await Client.connect(hook_stack.url)
        bob = await Client.connect(hook_stack.url)
        await _join(ana, "life", "ana")
        await _join(bob, "life", "bob")
        await ana.send({"action": "sendAll", "roomId": "life", "message": "helo"})
        first = await ana.expect({"type": "message", "message": "helo"})
        await ana.send({"action": "sendAll", "roomId": "life", "message": "secret"})
        second = await ana.expect({"type": "message", "message": "secret"})
        await ana.send(
            {
                "action": "edit",
                "roomId": "life",
                "messageId": first["messageId"],
                "message": "hello",
            }
        )
        edited = await bob.expect({"type": "edited"})
        await ana.send({"action": "delete", "roomId": "life", "messageId": second["messageId"]})
        deleted = await bob.expect({"type": "deleted"})
        await ana.send({"action": "typing", "roomId": "life"})
        typing = await bob.expect({"type": "typing"})
        read = await bob.request(
            {"action": "markRead", "roomId": "life", "messageId": first["messageId"]},
            {"type": "read"},
        )
        rejoined = await _join(bob, "life", "bob")
        ana_quiet = [f for f in await ana.quiet(0.5) if f.get("type") == "typing"]
        for c in (ana, bob):
            await c.close()
        return first, second, edited, deleted, typing, read, rejoined, ana_quiet

    first, second, edited, deleted, typing, read, rejoined, ana_quiet = run(scenario())
    assert edited["messageId"] == first["messageId"] and edited["message"] == "hello"
    assert deleted["messageId"] == second["messageId"]
    assert typing["name"] == "ana" and ana_quiet == []
    assert read["lastRead"] == first["messageId"]
    assert rejoined["lastRead"] == first["messageId"] and rejoined["unread"] == 1
    recent = {m["messageId"]: m for m in rejoined["recent"]}
    assert recent[first["messageId"]]["message"] == "hello"
    assert recent[second["messageId"]]["message"] is None


def test_terminal_client_edits_and_deletes_its_last_message(hook_stack):
    import asyncio
    import subprocess
    import sys
    from pathlib import Path

    roomchat = str(Path(sys.executable).with_name("roomchat"))

    async def scenario():
        watcher = await Client.connect(hook_stack.url)
        await _join(watcher, "cli-life", "watcher")
        script = "tpyo\n/edit typo\nsecond\n/delete\n/history 5\n"
        result = await asyncio.to_thread(
            subprocess.run,
            [
                roomchat,
                "chat",
                "--room",
                "cli-life",
                "--name",
                "eve",
                "--url",
                hook_stack.url,
                "--wait",
                "0.3",
            ],
            input=script,
            env=hook_stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        frames = await watcher.quiet(1.0)
        await watcher.close()
        return result, frames

    result, frames = run(scenario())
    assert result.returncode == 0, result.stderr
    messages = [f for f in frames if f.get("type") == "message"]
    assert [m["message"] for m in messages] == ["tpyo", "second"]
    edited = next(f for f in frames if f.get("type") == "edited")
    assert edited["messageId"] == messages[0]["messageId"] and edited["message"] == "typo"
    deleted = next(f for f in frames if f.get("type") == "deleted")
    assert deleted["messageId"] == messages[1]["messageId"]
    assert "eve: typo (edited)" in result.stdout and "eve: (deleted)" in result.stdout


def _moderate(stack, *args: str):
    import subprocess
    import sys
    from pathlib import Path

    roomchat = str(Path(sys.executable).with_name("roomchat"))
    return subprocess.run(
        [roomchat, "moderate", *args], env=stack.env, capture_output=True, text=True, timeout=60
    )


def test_the_operator_kicks_bans_deletes_and_disconnects_on_the_stack(hook_stack):
    import asyncio

    import websockets

    async def scenario():
        ana = await Client.connect(hook_stack.url)
        mal = await Client.connect(hook_stack.url)
        await _join(ana, "ops", "ana")
        await _join(mal, "ops", "mal")
        await mal.send({"action": "sendAll", "roomId": "ops", "message": "rude"})
        rude = await ana.expect({"type": "message", "message": "rude"})
        deleted = await asyncio.to_thread(
            _moderate, hook_stack, "delete", "--room", "ops", "--message", rude["messageId"]
        )
        tomb = await ana.expect({"type": "deleted"})
        kicked = await asyncio.to_thread(
            _moderate,
            hook_stack,
            "kick",
            "--room",
            "ops",
            "--user",
            rude["authorId"],
            "--ban",
            "forever",
        )
        told = await ana.expect({"type": "kicked"})
        mal_told = await mal.expect({"type": "kicked"})
        again = await mal.request(
            {"action": "join", "roomId": "ops", "name": "mal"}, {"type": "error"}
        )
        members = await ana.request({"action": "members", "roomId": "ops"}, {"type": "members"})
        await ana.send({"action": "sendAll", "roomId": "ops", "message": "me"})
        mine = await ana.expect({"type": "message", "message": "me"})
        gone = await asyncio.to_thread(
            _moderate, hook_stack, "disconnect", "--room", "ops", "--user", mine["authorId"]
        )
        try:
            await asyncio.wait_for(ana.ws.wait_closed(), 30)
            closed = True
        except (TimeoutError, websockets.ConnectionClosed):
            closed = ana.ws.close_code is not None
        await mal.close()
        return deleted, tomb, kicked, told, mal_told, again, members, gone, closed

    deleted, tomb, kicked, told, mal_told, again, members, gone, closed = run(scenario())
    assert deleted.returncode == 0, deleted.stderr
    assert tomb["deletedBy"] == "operator"
    assert kicked.returncode == 0, kicked.stderr
    assert told["names"] == ["mal"] and told["banned"] is True and mal_told == told
    assert again["code"] == "forbidden" and "banned" in again["message"]
    assert members["members"] == ["ana"]
    assert gone.returncode == 0 and json.loads(gone.stdout)["connections"] == 1
    assert closed
