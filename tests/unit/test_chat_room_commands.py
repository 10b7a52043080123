"""The terminal client's room commands (/create, /invite, /promote, ...) against the real
handlers: a loopback WebSocket hands each frame to them as the signed-in user."""

from __future__ import annotations

import asyncio
import json

from roomchat_client import Client
from roomchat_tools.chat import Chat, format_frame
from tests.unit.test_users_and_roles import Users


class LoopbackWs:
    def __init__(self, users: Users, sender, cid: str, sub: str):
        self.users, self.sender, self.cid, self.sub = users, sender, cid, sub
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    async def send(self, data: str) -> None:
        reply = self.users.send(self.cid, self.sub, **json.loads(data))
        for frame in [*self.sender.take(self.cid), *([reply] if reply else [])]:
            await self.queue.put(json.dumps(frame))

    def __aiter__(self):
        return self

    async def __anext__(self) -> str:
        return await self.queue.get()


def _session(users, sender, lines):
    out: list[str] = []

    async def main():
        chat = Chat(Client(LoopbackWs(users, sender, "A", "u-ana")), "ana", out.append)
        receiver = asyncio.create_task(chat.receive())
        for line in lines:
            await chat.handle(line)
        receiver.cancel()

    asyncio.run(main())
    return out


def test_create_invite_promote_and_demote_from_the_terminal(chat, sender):
    users = Users(chat)
    out = _session(
        users,
        sender,
        ["/create team private", "/invite u-bo", "/promote u-bo", "/demote u-bo", "/uninvite u-bo"],
    )

    assert out[0] == "[team] created (private), owner u-ana"
    assert out[1].startswith("[team] joined as ana")
    assert out[2:] == [
        "[team] u-bo is now: member",
        "[team] u-bo is now: moderator",
        "[team] u-bo is now: member",
        "[team] u-bo is now: no role",
    ]


def test_a_refused_room_command_prints_the_reason(chat, sender):
    users = Users(chat)
    users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")
    out = _session(users, sender, ["/join team", "/create team"])
    assert out == [
        "! forbidden: room 'team' is invitation-only; ask its owner for an invite",
        "! forbidden: room 'team' already exists; pick another id",
    ]


def test_role_frames_read_as_sentences():
    frame = {"type": "role", "roomId": "r", "userId": "u", "role": None}
    assert format_frame(frame) == ["[r] u is now: no role"]


def test_conversation_commands_without_their_arguments_print_their_usage(chat, sender):
    users = Users(chat)
    out = _session(
        users,
        sender,
        ["/threads", "/react m1 👍", "/join team", "/react m1", "/unreact", "/reply m1", "/pin"],
    )
    assert out[0] == "! join a room first: /join <room>"
    assert out[1] == "! join a room first: /join <room>"
    assert out[2].startswith("[team] joined as ana")
    assert out[3:] == [
        "! usage: /react <messageId> <emoji>",
        "! usage: /unreact <messageId> <emoji>",
        "! usage: /reply <messageId> <text>",
        "! usage: /pin <messageId>",
    ]


def test_a_message_with_files_names_each_with_its_size_and_the_command_to_get_it():
    from roomchat_tools.chat import format_message

    line = format_message(
        {
            "roomId": "lobby",
            "messageId": "01HZX3K9Q8V7N6M5K4J3H2G1F0",
            "sentAt": "2026-11-29T08:00:00.000Z",
            "sender": "ana",
            "message": "notes",
            "attachments": [
                {
                    "uploadId": "01HZX3K9Q8V7N6M5K4J3H2G1F1",
                    "name": "a\x1b[2Jb.pdf",
                    "type": "application/pdf",
                    "size": 49_357,
                },
            ],
        }
    )
    assert (
        "[file a\\x1b[2Jb.pdf, 48.2 KB: /get 01HZX3K9Q8V7N6M5K4J3H2G1F0 01HZX3K9Q8V7N6M5K4J3H2G1F1]"
        in line
    )
