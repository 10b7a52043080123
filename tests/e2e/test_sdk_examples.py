"""The SDKs' examples chat with the local stack, each from a clean install of its package as an
app developer gets it: the Node script from `npm pack`'s tarball installed in a new project (the
browser page, from the same: tests/browser/test_sdk_example_page.py), the bot from a wheel
installed in a new venv. The other side of each
conversation is the tests' own client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.support import Client, run
from tests.sdk_packages import (
    PY_SDK,
    js_example_app,
    node_websocket_flags,
    python_venv,
    python_wheel,
    without_checkout_env,
)

pytestmark = pytest.mark.e2e


def _room(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def js_app(tmp_path_factory) -> Path:
    return js_example_app(tmp_path_factory.mktemp("js-app"))


def test_the_node_example_chats_through_the_packed_sdk(stack, js_app):
    room = _room("node")

    async def scenario():
        watcher = await Client.connect(stack.url)
        await watcher.join(room, "watcher")
        proc = await asyncio.create_subprocess_exec(
            "node",
            *node_websocket_flags(),
            "node-chat.mjs",
            stack.url,
            room,
            "hello from the example",
            cwd=js_app,
            env={**os.environ, "WAIT_MS": "20000"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        heard = await watcher.expect({"type": "message", "roomId": room}, 60)
        await watcher.say(room, "hello back")
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        await watcher.close()
        return proc.returncode, out.decode(), err.decode(), heard

    code, out, err, heard = run(scenario())
    assert code == 0, err
    assert heard["sender"] == "node-example" and heard["message"] == "hello from the example"
    assert f"sent as {heard['messageId']}" in out
    assert f"[{room}] watcher: hello back" in out


def test_the_python_bot_answers_in_a_room_from_a_clean_install(stack, tmp_path):
    room = _room("bot")
    python = python_venv(tmp_path / "venv", python_wheel(tmp_path))
    bot = subprocess.Popen(
        [str(python), str(PY_SDK / "examples" / "bot.py"), stack.url, room],
        cwd=tmp_path,
        env=without_checkout_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        async def scenario():
            ana = await Client.connect(stack.url)
            await ana.join(room, "ana")
            await ana.expect({"type": "presence", "event": "join", "name": "echo-bot"}, 60)
            await ana.say(room, "!echo is anyone there?")
            echo = await ana.expect({"type": "message", "sender": "echo-bot"}, 30)
            await ana.say(room, "!who")
            who = await ana.expect({"type": "message", "sender": "echo-bot"}, 30)
            await ana.close()
            return echo, who

        echo, who = run(scenario())
    finally:
        bot.terminate()
        _, err = bot.communicate(timeout=30)
    assert echo["message"] == "is anyone there?"
    assert set(who["message"].split(", ")) == {"ana", "echo-bot"}, err
