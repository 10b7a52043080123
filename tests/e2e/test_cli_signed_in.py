"""The terminal client signed in (auth_mode jwt): it says who you are, shows user ids in /who,
turns a member's display name into their id for /invite (or says what to type instead), and
leaves a room it was uninvited from."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from tests.e2e.support import Client, run, token_for
from tests.e2e.test_cli import CHAT, _run

pytestmark = pytest.mark.e2e


def _room(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_signed_in_chat_says_who_you_are_and_invites_by_display_name(jwt_stack):
    lobby, team = _room("lobby"), _room("team")

    async def scenario():
        cat = await Client.connect(f"{jwt_stack.url}?token={token_for('cat')}")
        dora = await Client.connect(f"{jwt_stack.url}?token={token_for('dora')}")
        await cat.join(lobby)
        await dora.join(lobby)
        await cat.say(lobby, "hi, I am cat")  # dora never writes: her id is not seen
        pings = [c.keepalive(2) for c in (cat, dora)]  # the test stacks idle out after 10 s
        script = f"/create {team} private\n/invite cat\n/invite dora\n/invite Cat\n/who\n"
        script += f"/join {lobby}\n/who\n"
        argv = [*CHAT, "--room", lobby, "--url", jwt_stack.url, "--token", token_for("ana")]
        result = await asyncio.to_thread(
            _run, [*argv, "--ping-interval", "2"], jwt_stack.env, script
        )
        joined = await cat.call({"action": "join", "roomId": team}, "joined")
        for ping in pings:
            ping.cancel()
        for client in (cat, dora):
            await client.close()
        return result, joined

    result, joined = run(scenario())
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert out.splitlines()[0].endswith("with a token for ana (user id user-ana)")
    assert "you are ana, user id user-ana (others invite you with: /invite user-ana)" in out
    assert "(cat is user id user-cat)" in out
    assert f"[{team}] user-cat is now: member" in out
    assert "! dora is a display name, and their user id is not known here yet" in out
    assert "! no user 'Cat' seen here: did you mean cat (user-cat)?" in out
    assert f"[{team}] members (1): ana (user-ana)" in out
    assert "cat (user-cat)" in out.split(f"[{lobby}] members (3): ")[1].splitlines()[0]
    assert joined["type"] == "joined"  # the invitation reached the right user


def test_signed_in_chat_leaves_a_room_it_was_uninvited_from(jwt_stack):
    club = _room("club")
    gone = f"[{club}] you are no longer in {club} (removed from its members)"

    async def scenario():
        ana = await Client.connect(f"{jwt_stack.url}?token={token_for('ana')}")
        ping = ana.keepalive(2)  # the test stacks idle out after 10 s
        await ana.call({"action": "createRoom", "roomId": club, "policy": "private"}, "roomCreated")
        await ana.join(club)
        await ana.call({"action": "invite", "roomId": club, "userId": "user-cat"}, "role")
        argv = [*CHAT, "--room", club, "--url", jwt_stack.url, "--token", token_for("cat")]
        # stdin stays open (the client keeps listening) until the notice is read
        cat = await asyncio.create_subprocess_exec(
            *argv,
            "--ping-interval",
            "2",
            env=jwt_stack.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await ana.expect({"type": "presence", "event": "join", "roomId": club, "name": "cat"}, 60)
        await ana.call({"action": "uninvite", "roomId": club, "userId": "user-cat"}, "role")
        seen = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                while gone not in seen and (line := await cat.stdout.readline()):
                    seen.append(line.decode().rstrip("\n"))
        cat.stdin.write(b"/who\n")
        cat.stdin.close()
        rest, err = await asyncio.wait_for(cat.communicate(), 60)
        ping.cancel()
        await ana.close()
        return cat.returncode, seen, rest.decode(), err.decode()

    code, seen, rest, err = run(scenario())
    assert code == 0, err
    assert gone in seen, seen
    assert "! join a room first: /join <room>" in rest  # out of its only room
