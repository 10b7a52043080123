"""`roomchat chat` and `roomchat history` (the installed command), as `make chat` / `make history`
run them."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import websockets

from roomchat_tools.local import emulator as emulator_mod
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.support import Client, run
from tests.reliability.support import keepalive

pytestmark = pytest.mark.e2e

# The console script `make venv` installs beside the interpreter.
ROOMCHAT = str(Path(sys.executable).with_name("roomchat"))
CHAT = [ROOMCHAT, "chat"]
HISTORY = [ROOMCHAT, "history"]
LINE = re.compile(r"^\[(?P<room>[^\]]+)\] \d\d:\d\d (?P<sender>[^:]+): (?P<text>.*)$")


def _room(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _run(argv, env, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, input=stdin, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT
    )


async def _joined_client(url: str, room: str, name: str) -> Client:
    client = await Client.connect(url)
    await client.request(
        {"action": "join", "roomId": room, "name": name}, {"type": "joined", "roomId": room}
    )
    return client


# ----- chat.py -----------------------------------------------------------------------------------


def test_chat_send_reaches_the_room_and_prints_readable_lines(stack):
    room = _room("cli")

    async def scenario():
        watcher = await _joined_client(stack.url, room, "watcher")
        result = await asyncio.to_thread(
            _run,
            [
                *CHAT,
                "--room",
                room,
                "--name",
                "carl",
                "--send",
                "hello from chat.py",
                "--wait",
                "0.5",
            ],
            stack.env,
        )
        seen = await watcher.expect({"type": "message", "roomId": room})
        await watcher.close()
        return result, seen

    result, seen = run(scenario())
    assert result.returncode == 0, result.stderr
    assert seen["sender"] == "carl" and seen["message"] == "hello from chat.py"
    lines = [m.groupdict() for line in result.stdout.splitlines() if (m := LINE.match(line))]
    assert {"room": room, "sender": "carl", "text": "hello from chat.py"} in lines
    assert f"[{room}] joined as carl" in result.stdout  # no --url: found the stack by stack.json


def test_chat_sends_twenty_lines_typed_at_once_in_the_order_typed(stack):
    # Piped lines arrive at once: the outbox keeps one sendAll in flight, so they are stored
    # and delivered in order although API Gateway may run a connection's frames concurrently.
    room = _room("fast")
    typed = [f"line {i:02d}" for i in range(20)]

    async def scenario():
        watcher = await _joined_client(stack.url, room, "walt")
        async with keepalive([watcher]):  # the stack closes connections idle for 10 s
            result = await asyncio.to_thread(
                _run,
                [*CHAT, "--room", room, "--name", "fast", "--url", stack.url, "--wait", "0.2"],
                stack.env,
                "".join(f"{line}\n" for line in typed),
            )
        delivered = []
        while len(delivered) < len(typed):
            delivered.append(await watcher.expect({"type": "message", "roomId": room}, 20))
        page = await watcher.request(
            {"action": "history", "roomId": room, "limit": 50}, {"type": "history", "roomId": room}
        )
        await watcher.close()
        return result, delivered, page

    result, delivered, page = run(scenario())
    assert result.returncode == 0, result.stderr
    assert [f["message"] for f in delivered] == typed
    assert [m["message"] for m in page["messages"]] == typed
    shown = [m["text"] for line in result.stdout.splitlines() if (m := LINE.match(line))]
    assert shown == typed


def test_chat_outbox_retries_internal_and_rate_limited_with_the_same_client_msg_id():
    from roomchat_client import Outbox

    class FakeClient:
        """Answers each sendAll from a script; records what was sent."""

        def __init__(self, answers):
            self.answers = answers
            self.sent: list[dict] = []

        async def request(self, frame, match, timeout=None):
            self.sent.append(dict(frame))
            code = self.answers.pop(0)
            if code is None:  # no answer in time
                raise TimeoutError
            reply = {"roomId": frame["roomId"], "clientMsgId": frame["clientMsgId"]}
            reply |= {"type": "message"} if code == "ok" else {"type": "error", "code": code}
            assert match(reply)
            return reply

    async def scenario():
        fake = FakeClient(["internal", "rate_limited", None, "ok", "bad_request", "ok"])
        outbox = Outbox(fake, "lobby", backoff_s=0.01, attempts=4)
        acks = [outbox.submit(text) for text in ("one", "two", "three")]
        await asyncio.wait_for(outbox.drain(), 10)
        outbox.close()
        return fake, [a.result() for a in acks]

    fake, acks = run(scenario())
    sent = [(f["message"], f["clientMsgId"]) for f in fake.sent]
    assert [m for m, _ in sent] == ["one"] * 4 + ["two", "three"]
    assert len({c for m, c in sent if m == "one"}) == 1  # every retry kept its clientMsgId
    assert [a.get("type") for a in acks] == ["message", "error", "message"]
    assert acks[1]["code"] == "bad_request"  # refused for good: the next message went


def test_chat_reads_commands_from_stdin_and_exits_at_eof(stack):
    room = _room("pipe")

    async def scenario():
        other = await _joined_client(stack.url, room, "dora")
        script = "first line\nsecond line\n/who\n/history 5\n/leave\n"
        async with keepalive([other]):  # the stack closes connections idle for 10 s
            result = await asyncio.to_thread(
                _run,
                [*CHAT, "--room", room, "--name", "eve", "--url", stack.url, "--wait", "0.2"],
                stack.env,
                script,
            )
        frames = await other.quiet(1.0)
        await other.close()
        return result, frames

    result, frames = run(scenario())
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert f"[{room}] members (2): " in out and "dora" in out and "eve" in out
    assert f"[{room}] --- history: 2 messages ---" in out
    assert f"[{room}] you left" in out
    said = [f["message"] for f in frames if f.get("type") == "message"]
    assert said == ["first line", "second line"]
    assert {"type": "presence", "event": "leave", "roomId": room, "name": "eve"} in frames


def test_chat_join_switches_rooms(stack):
    first, second = _room("first"), _room("second")
    script = f"in first\n/join {second}\nin second\n"
    result = _run(
        [*CHAT, "--room", first, "--name", "fay", "--url", stack.url, "--wait", "0.2"],
        stack.env,
        script,
    )
    lines = [m.groupdict() for line in result.stdout.splitlines() if (m := LINE.match(line))]
    assert {"room": first, "sender": "fay", "text": "in first"} in lines
    assert {"room": second, "sender": "fay", "text": "in second"} in lines


def test_chat_reconnects_after_its_connection_is_deleted_and_shows_each_missed_message_once(stack):
    """The @connections DELETE closes the terminal client's connection while another member
    posts: it reconnects by itself, rejoins from the last message it showed, and prints every
    message exactly once, in order: before the drop live, during it from the replay, after it
    live again."""
    room = _room("back")
    ddb = stack.client("dynamodb")
    api = stack.management()

    async def scenario():
        poster = await _joined_client(stack.url, room, "pia")
        proc = await asyncio.create_subprocess_exec(
            *CHAT,
            *("--room", room, "--name", "gus", "--url", stack.url, "--wait", "1"),
            *("--ping-interval", "3"),  # the stack closes connections idle for 10 s
            env=stack.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        lines: list[str] = []

        async def until(text: str) -> None:
            while not any(text in line for line in lines):
                raw = await asyncio.wait_for(proc.stdout.readline(), 60)
                assert raw, f"the chat ended before {text!r}: {lines}"
                lines.append(raw.decode().rstrip("\n"))

        async with keepalive([poster]):  # the stack closes connections idle for 10 s
            await until(f"[{room}] joined as gus")
            outbox = poster.outbox(room)
            for i in range(1, 6):
                await outbox.submit(f"before {i}")
            await until("before 5")
            items = ddb.query(
                TableName=stack.info["rooms_table"],
                KeyConditionExpression="roomId = :r",
                ExpressionAttributeValues={":r": {"S": room}},
            )["Items"]
            (connection_id,) = [i["connectionId"]["S"] for i in items if i["name"]["S"] == "gus"]
            await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            for i in range(1, 11):  # while it is away and rejoining
                await outbox.submit(f"during {i}")
            await until("* reconnected to")
            for i in range(1, 6):
                await outbox.submit(f"after {i}")
            await until("after 5")
        proc.stdin.close()  # end of input: the chat drains, listens --wait seconds, exits 0
        rest, stderr = await asyncio.wait_for(proc.communicate(), 30)
        await poster.close()
        return proc.returncode, lines + rest.decode().splitlines(), stderr.decode()

    code, lines, stderr = run(scenario(), timeout=120)
    assert code == 0, stderr
    shown = [m["text"] for line in lines if (m := LINE.match(line)) and m["sender"] == "pia"]
    want = [f"before {i}" for i in range(1, 6)] + [f"during {i}" for i in range(1, 11)]
    assert shown == [*want, *(f"after {i}" for i in range(1, 6))]
    assert any(line.startswith("* disconnected: ") and "reconnecting" in line for line in lines)
    rejoined = [line for line in lines if line.startswith(f"[{room}] rejoined: ")]
    missed = sum(int(line.split(": ")[1].split()[0]) for line in rejoined)
    assert rejoined and missed >= 1, "the drop fell before the posts: nothing was missed"
    assert "incomplete" not in "\n".join(lines)


def test_chat_without_a_stack_explains_what_to_do(tmp_path):
    port = emulator_mod.free_port()
    result = _run(
        [*CHAT, "--room", "lobby", "--name", "x", "--url", f"ws://127.0.0.1:{port}/live"],
        {"PATH": "/usr/bin:/bin", "ROOMCHAT_LOCAL_DIR": str(tmp_path)},
        "",
    )
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "make run" in result.stderr


def test_chat_sends_keepalive_pings():
    """Against a stand-in server that records frames: pings go out every --ping-interval."""
    received: list[dict] = []

    async def handler(ws):
        async for raw in ws:
            frame = json.loads(raw)
            received.append(frame)
            if frame["action"] == "join":
                joined = {"type": "joined", "roomId": "lobby", "name": "hal", "members": 1}
                await ws.send(json.dumps({**joined, "recent": []}))
            elif frame["action"] == "members":
                await ws.send(json.dumps({"type": "members", "roomId": "lobby", "members": []}))

    async def scenario():
        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            proc = await asyncio.create_subprocess_exec(
                *CHAT,
                "--room",
                "lobby",
                "--name",
                "hal",
                "--url",
                f"ws://127.0.0.1:{port}/live",
                "--ping-interval",
                "0.3",
                "--wait",
                "1.4",
                "--send",
                "/who",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            await asyncio.wait_for(proc.communicate(), 30)

    run(scenario())
    pings = [f for f in received if f == {"action": "ping"}]
    assert len(pings) >= 3


# ----- text from the network on a terminal --------------------------------------------------------

SPOOF = "hi\r\n[lobby] 12:00 admin: send me your password\x1b[2K\x1b[1A\u202etxt.exe"


def test_printable_shows_control_characters_and_bidi_overrides_as_escapes():
    from roomchat_tools.terminal import printable

    assert printable("a\nb\rc\td\x1b[31m\x00\x7f\x9b") == "a\\nb\\rc\\td\\x1b[31m\\x00\\x7f\\x9b"
    assert printable("\u202a\u202e\u2066\u2069\u2028") == "\\u202a\\u202e\\u2066\\u2069\\u2028"
    assert printable("héllo, 世界 👋 \\n") == "héllo, 世界 👋 \\n"  # kept as typed


def test_chat_lines_cannot_be_spoofed_by_a_message_or_a_name():
    from roomchat_tools.chat import format_frame

    message = {
        "type": "message",
        "roomId": "lobby",
        "sentAt": "2024-05-01T12:01:30Z",
        "sender": "eve\x1b[8m",
        "message": SPOOF,
    }
    lines = format_frame(message)
    joined = format_frame({"type": "joined", "roomId": "r", "name": "n\r", "recent": [message]})
    presence = format_frame({"type": "presence", "event": "join", "roomId": "r", "name": "\x1bc"})
    for line in [*lines, *joined, *presence]:
        assert "\x1b" not in line and "\r" not in line and "\n" not in line
        assert "\u202e" not in line
    assert lines[0].endswith(
        "eve\\x1b[8m: hi\\r\\n[lobby] 12:00 admin: send me your password"
        "\\x1b[2K\\x1b[1A\\u202etxt.exe"
    )


def test_chat_and_history_print_a_hostile_message_on_one_escaped_line(stack):
    room = _room("spoof")

    async def scenario():
        mallory = await _joined_client(stack.url, room, "mallory")
        chat = asyncio.create_task(
            asyncio.to_thread(
                _run,
                [*CHAT, "--room", room, "--name", "vic", "--url", stack.url, "--wait", "3"],
                stack.env,
                "",
            )
        )
        await mallory.expect({"type": "presence", "event": "join", "name": "vic"}, timeout=30)
        await mallory.request(
            {"action": "sendAll", "roomId": room, "message": SPOOF},
            {"type": "message", "roomId": room},
        )
        result = await chat
        await mallory.close()
        return result

    result = run(scenario())
    assert result.returncode == 0, result.stderr
    spoofed = [line for line in result.stdout.splitlines() if "password" in line]
    assert len(spoofed) == 1 and spoofed[0].startswith(f"[{room}] ")
    assert "mallory: hi\\r\\n[lobby] 12:00 admin:" in spoofed[0]
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout

    table = _run([*HISTORY, "--room", room], stack.env)
    assert table.returncode == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if "password" in line]
    assert len(rows) == 1 and "  mallory  hi\\r\\n[lobby]" in rows[0]
    assert "\x1b" not in table.stdout and "\u202e" not in table.stdout


# ----- history.py --------------------------------------------------------------------------------


def test_history_prints_a_page_oldest_first_with_a_cursor(stack):
    room = _room("hist")

    async def scenario():
        ana = await _joined_client(stack.url, room, "ana")
        for i in range(5):
            await ana.request(
                {"action": "sendAll", "roomId": room, "message": f"line {i}"},
                {"type": "message", "message": f"line {i}"},
            )
        await ana.close()

    run(scenario())
    page = _run([*HISTORY, "--room", room, "--limit", "3", "--json"], stack.env)
    assert page.returncode == 0, page.stderr
    data = json.loads(page.stdout)
    assert [m["message"] for m in data["messages"]] == ["line 2", "line 3", "line 4"]
    assert data["next"] == data["messages"][0]["messageId"]
    assert all(m["sender"] == "ana" for m in data["messages"])

    older = _run(
        [*HISTORY, "--room", room, "--limit", "3", "--before", data["next"], "--json"], stack.env
    )
    older_data = json.loads(older.stdout)
    assert [m["message"] for m in older_data["messages"]] == ["line 0", "line 1"]
    assert older_data["next"] is None

    table = _run([*HISTORY, "--room", room, "--limit", "3"], stack.env)
    assert table.returncode == 0
    rows = [line for line in table.stdout.splitlines() if "  ana  " in line]
    assert [row.rsplit("  ", 1)[1] for row in rows] == ["line 2", "line 3", "line 4"]
    assert f"older: make history ROOM={room} BEFORE={data['next']}" in table.stdout


def test_history_of_an_empty_room(stack):
    result = _run([*HISTORY, "--room", _room("empty")], stack.env)
    assert result.returncode == 0
    assert "no messages" in result.stdout


def test_history_without_a_running_stack_says_so(tmp_path: Path):
    result = _run(
        [*HISTORY, "--room", "lobby"],
        {"PATH": "/usr/bin:/bin", "ROOMCHAT_LOCAL_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "not running" in result.stderr and "make run" in result.stderr
    assert "Traceback" not in result.stderr


def test_history_with_a_stale_stack_file_says_so(tmp_path: Path):
    (tmp_path / "stack.json").write_text(
        json.dumps({"pid": 999999, "emulator_endpoint": "http://127.0.0.1:1", "history_table": "x"})
    )
    result = _run(
        [*HISTORY, "--room", "lobby"],
        {"PATH": "/usr/bin:/bin", "ROOMCHAT_LOCAL_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "not running" in result.stderr


def test_chat_explains_a_refused_handshake(auth_gateway, tmp_path):
    result = _run(
        [*CHAT, "--room", "lobby", "--name", "x", "--url", auth_gateway.websocket_url],
        {"PATH": "/usr/bin:/bin", "ROOMCHAT_LOCAL_DIR": str(tmp_path)},
        "",
    )
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr and "--token" in result.stderr


# ----- what a newcomer reads (issue 26) -----------------------------------------------------------


def test_chat_names_a_refused_token_as_refused_not_missing(auth_gateway, tmp_path):
    from tests.e2e.support import token_for

    forged = token_for("ana", secret="not-the-stack-secret-0123-0123456789")
    result = _run(
        [*CHAT, "--room", "lobby", "--url", auth_gateway.websocket_url, "--token", forged],
        {"PATH": "/usr/bin:/bin", "ROOMCHAT_LOCAL_DIR": str(tmp_path)},
        "",
    )
    assert result.returncode == 1
    assert "HTTP 403" in result.stderr and "the token was refused" in result.stderr
    assert "no token was given" not in result.stderr


def test_chat_says_the_server_went_away_when_it_stops_under_a_connected_client():
    """A server that stops closes its connections with 1001 (the local gateway does, and so does
    this stand-in's shutdown): not the idle or 2-hour limit, which a client that pings every
    4 minutes and connected seconds ago cannot have reached."""

    async def handler(ws):
        async for raw in ws:
            frame = json.loads(raw)
            if frame["action"] == "join":
                joined = {"type": "joined", "roomId": "lobby", "name": "ivy", "members": 1}
                await ws.send(json.dumps({**joined, "recent": []}))

    async def scenario():
        server = await websockets.serve(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            *CHAT,
            "--room",
            "lobby",
            "--name",
            "ivy",
            "--url",
            f"ws://127.0.0.1:{port}/live",
            "--wait",
            "30",
            "--reconnect-attempts",
            "1",
            "--send",
            "/help",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await proc.stdout.readuntil(b"joined as ivy")
        server.close()  # closes every connection with 1001 Going away, as a stopping gateway
        await server.wait_closed()
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        return proc.returncode, stderr.decode()

    code, stderr = run(scenario())
    assert code == 1
    assert "disconnected: the server went away (stopped or restarted) (code 1001" in stderr
    assert "idle" not in stderr
    assert "gave up reconnecting after 1 try" in stderr


def test_chat_says_a_command_it_does_not_know_is_unknown(stack):
    result = _run(
        [*CHAT, "--room", _room("cmd"), "--name", "kim", "--url", stack.url, "--wait", "0"],
        stack.env,
        "/foo\n/invite\n",
    )
    assert result.returncode == 0, result.stderr
    assert "! unknown command /foo; commands: /join <room>" in result.stdout
    assert "! /invite needs an argument" in result.stdout


def test_chat_edit_and_delete_notices_name_the_message_by_its_text(stack):
    room = _room("edits")
    result = _run(
        [*CHAT, "--room", room, "--name", "lee", "--url", stack.url, "--wait", "0.5"],
        stack.env,
        "first words\n/edit better words\n/delete\n",
    )
    assert result.returncode == 0, result.stderr
    assert f'[{room}] * lee\'s message "first words" was edited: better words' in result.stdout
    assert f'[{room}] * lee\'s message "better words" was deleted' in result.stdout
    assert not re.search(r"message [0-9A-Z]{26}", result.stdout)  # no raw ids


def test_history_shows_tombstones_and_edits_as_the_chat_does_and_null_in_json(stack):
    room = _room("tomb")

    async def scenario():
        ana = await _joined_client(stack.url, room, "ana")
        gone = await ana.say(room, "regret this")
        kept = await ana.say(room, "first draft")
        await ana.call(
            {"action": "delete", "roomId": room, "messageId": gone["messageId"]}, "deleted"
        )
        await ana.edit(room, kept["messageId"], "final")
        await ana.close()

    run(scenario())
    data = json.loads(_run([*HISTORY, "--room", room, "--json"], stack.env).stdout)
    deleted, edited = data["messages"]
    assert deleted["message"] is None and deleted["deletedBy"] and deleted["deletedAt"]
    assert edited["message"] == "final" and edited["editedAt"]
    table = _run([*HISTORY, "--room", room], stack.env).stdout
    rows = [line for line in table.splitlines() if "  ana  " in line]
    assert [row.rsplit("  ", 1)[1] for row in rows] == ["(deleted)", "final (edited)"]


def test_history_refuses_a_room_id_the_server_would_refuse(stack):
    result = _run([*HISTORY, "--room", "bad room!"], stack.env)
    assert result.returncode == 2
    assert "--room: 'bad room!' is not a room id" in result.stderr
    assert "no messages" not in result.stdout


def test_chat_replies_in_a_thread_reacts_and_lists_mentions(stack):
    room = _room("conv")

    async def scenario():
        dora = await _joined_client(stack.url, room, "dora")
        await dora.send({"action": "sendAll", "roomId": room, "message": "lunch @eve?"})
        parent = (await dora.expect({"type": "message", "roomId": room}))["messageId"]
        script = (
            f"/reply {parent} yes please\n/react {parent} 🎉\n/thread {parent}\n"
            "/threads\nthanks @dora\n/mentions\n"
        )
        result = await asyncio.to_thread(
            _run,
            [*CHAT, "--room", room, "--name", "eve", "--url", stack.url, "--wait", "0.5"],
            stack.env,
            script,
        )
        frames = await dora.quiet(1.0)
        mentions = await dora.request({"action": "mentions"}, {"type": "mentions"})
        await dora.close()
        return parent, result, frames, mentions

    parent, result, frames, mentions = run(scenario())
    out = result.stdout
    assert result.returncode == 0, result.stderr
    replies = [f for f in frames if f.get("type") == "message" and f.get("replyTo") == parent]
    assert [r["message"] for r in replies] == ["yes please"]
    assert any(f.get("type") == "reaction" and f["emoji"] == "🎉" for f in frames), out
    assert f"[{room}] --- thread of" in out and "yes please" in out
    assert "threads you follow: 1" in out
    # eve was not in the room when dora named her: plain text; her "@dora" is a mention
    assert "--- 0 mentions ---" in out
    assert [m["message"] for m in mentions["messages"]] == ["thanks @dora"]
