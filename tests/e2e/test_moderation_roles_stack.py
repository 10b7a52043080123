"""Issue 13 on issue 12's roles, on the local stack with sign-in (auth_mode jwt): a moderator
kicks and bans a member, who is refused on re-join; a member may not kick; the owner deletes a
member's message. Real WebSocket clients with tokens from `roomchat token`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.support import AUTH_SECRET, Client, run

pytestmark = pytest.mark.e2e

ROOMCHAT = Path(sys.executable).with_name("roomchat")


def _token(sub: str, name: str) -> str:
    result = subprocess.run(
        [str(ROOMCHAT), "token", "--sub", sub, "--name", name],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ROOMCHAT_AUTH_SECRET": AUTH_SECRET},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_moderator_kicks_and_bans_a_member_who_may_not_kick_back(jwt_stack):
    tokens = {who: _token(f"u-{who}", who) for who in ("owner", "mod", "ana")}

    async def scenario():
        owner, mod, ana = [
            await Client.connect(f"{jwt_stack.url}?token={tokens[who]}")
            for who in ("owner", "mod", "ana")
        ]
        created = await owner.call(
            {"action": "createRoom", "roomId": "club", "policy": "open"}, "roomCreated"
        )
        promoted = await owner.call(
            {"action": "promote", "roomId": "club", "userId": "u-mod"}, "role"
        )
        for c in (owner, mod, ana):
            await c.call({"action": "join", "roomId": "club"}, "joined")
        await ana.send({"action": "sendAll", "roomId": "club", "message": "spam"})
        said = await ana.expect({"type": "message", "message": "spam"})
        deleted = await owner.call(
            {"action": "delete", "roomId": "club", "messageId": said["messageId"]}, "deleted"
        )
        refused = await ana.call({"action": "kick", "roomId": "club", "userId": "u-mod"}, "kicked")
        kicked = await mod.call(
            {"action": "kick", "roomId": "club", "userId": "u-ana", "ban": "forever"}, "kicked"
        )
        told = await ana.expect({"type": "kicked"})
        again = await ana.call({"action": "join", "roomId": "club"}, "joined")
        members = await owner.call({"action": "members", "roomId": "club"}, "members")
        for c in (owner, mod, ana):
            await c.close()
        return created, promoted, deleted, refused, kicked, told, again, members

    created, promoted, deleted, refused, kicked, told, again, members = run(scenario())
    assert created["owner"] == "u-owner" and promoted["role"] == "moderator"
    assert deleted["deletedBy"] == "u-owner"
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert kicked["type"] == "kicked" and kicked["banned"] and kicked["names"] == ["ana"]
    assert told == kicked
    assert again["code"] == "forbidden" and "banned" in again["message"]
    assert sorted(members["members"]) == ["mod", "owner"]


def test_uninvite_prunes_an_invited_users_vanished_connection(jwt_stack):
    """The uninvited user's connection is gone without a $disconnect (the management API
    answers 410, injected): uninvite prunes it, reading its rooms through the byConnection
    index, under the uninvite function's own role. Without that grant the local stack refused
    the Query as AWS would (IAM DENIED in the log) and uninvite answered `internal` with the
    role already deleted."""
    from tests.reliability.support import GatewayFaults, Tables

    tokens = {who: _token(f"u-{who}", who) for who in ("boss", "bea")}
    faults = GatewayFaults(jwt_stack.info["http_url"])

    async def scenario():
        boss, bea = [
            await Client.connect(f"{jwt_stack.url}?token={tokens[who]}") for who in ("boss", "bea")
        ]
        await boss.call(
            {"action": "createRoom", "roomId": "vault", "policy": "private"}, "roomCreated"
        )
        await boss.call({"action": "join", "roomId": "vault"}, "joined")
        await boss.call({"action": "invite", "roomId": "vault", "userId": "u-bea"}, "role")
        await bea.call({"action": "join", "roomId": "vault"}, "joined")
        bea_id = Tables(jwt_stack).member_ids("vault")["bea"]
        faults.answer(bea_id, 410)
        uninvited = await boss.call(
            {"action": "uninvite", "roomId": "vault", "userId": "u-bea"}, "role"
        )
        members = await boss.call({"action": "members", "roomId": "vault"}, "members")
        for c in (boss, bea):
            await c.close()
        return bea_id, uninvited, members

    try:
        bea_id, uninvited, members = run(scenario())
    finally:
        faults.clear()
    assert uninvited == {"type": "role", "roomId": "vault", "userId": "u-bea", "role": None}
    assert members["members"] == ["boss"]
    assert Tables(jwt_stack).memberships_of(bea_id) == []  # pruned: gone from every room
