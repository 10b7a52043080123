"""The Python SDK's conversation actions (roomchat_client.conversations) against a tiny server:
a reply goes through the room's outbox with replyTo (and keeps its order with messages), a
reaction waits for its own reaction frame and not another's, thread pages follow next, and
every builder's frame is one docs/asyncapi.yaml accepts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from roomchat_client import Client, protocol

PARENT = "01HZX3K9Q8V7N6M5K4J3H2G1F0"
REPLIES = [f"01HZX3K9Q8V7N6M5K4J3H2G1G{i}" for i in range(5)]


class FakeApi:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle(self, ws: ServerConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            self.received.append(frame)
            for reply in self.answer(frame):
                await ws.send(json.dumps(reply))

    def answer(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        action, room = frame.get("action"), frame.get("roomId")
        if action == "sendAll":
            echo = {"type": "message", "roomId": room, "message": frame["message"]}
            echo["clientMsgId"] = frame["clientMsgId"]
            if "replyTo" in frame:
                echo["replyTo"] = frame["replyTo"]
            return [echo]
        if action == "react":
            # someone else's reaction on another message arrives first
            other = {"type": "reaction", "roomId": room, "messageId": REPLIES[0], "emoji": "👍"}
            mine = {"type": "reaction", "roomId": room, "messageId": frame["messageId"]}
            return [other, {**mine, "emoji": frame["emoji"], "added": not frame.get("remove")}]
        if action == "thread":
            end = REPLIES.index(frame["before"]) if "before" in frame else len(REPLIES)
            page = REPLIES[max(0, end - frame["limit"]) : end]
            older = page[0] if end - frame["limit"] > 0 else None
            return [{"type": "thread", "roomId": room, "replies": page, "next": older}]
        if action == "pin":
            return [{"type": "pinned", "roomId": room, "pinned": not frame.get("remove")}]
        if action == "mentions":
            return [{"type": "mentions", "messages": [], "next": None}]
        return [{"type": "error", "code": "unknown_action", "action": action}]


def scenario(test: Any) -> Any:
    async def main() -> Any:
        api = FakeApi()
        async with serve(api.handle, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            client = await Client.connect(f"ws://127.0.0.1:{port}/live")
            try:
                return await asyncio.wait_for(test(api, client), 30)
            finally:
                await client.close()

    return asyncio.run(main())


def test_a_reply_goes_through_the_rooms_outbox_in_order_with_messages() -> None:
    async def test(api: FakeApi, client: Client) -> Any:
        first = client.outbox("lobby").submit("before")
        reply = client.reply("lobby", PARENT, "in the thread", also_to_room=True)
        return await first, await reply

    first, reply = scenario(test)
    assert first["message"] == "before"
    assert reply["replyTo"] == PARENT and reply["message"] == "in the thread"


def test_the_reply_frame_says_where_it_goes() -> None:
    async def test(api: FakeApi, client: Client) -> Any:
        await client.reply("lobby", PARENT, "a")
        await client.reply("lobby", PARENT, "b", also_to_room=True)
        return [f for f in api.received if f["action"] == "sendAll"]

    plain, shown = scenario(test)
    assert plain["replyTo"] == PARENT and "alsoToRoom" not in plain
    assert shown["alsoToRoom"] is True


def test_a_reaction_waits_for_its_own_frame() -> None:
    async def test(api: FakeApi, client: Client) -> Any:
        return await client.react("lobby", PARENT, "🎉")

    answer = scenario(test)
    assert answer["messageId"] == PARENT and answer["emoji"] == "🎉"


def test_thread_pages_follow_next_to_the_start() -> None:
    async def test(api: FakeApi, client: Client) -> Any:
        return [page["replies"] async for page in client.thread_pages("lobby", PARENT, limit=2)]

    assert scenario(test) == [REPLIES[3:], REPLIES[1:3], REPLIES[:1]]


def test_pin_mentions_follow_and_markread_frames() -> None:
    async def test(api: FakeApi, client: Client) -> Any:
        unpinned = await client.pin("team", PARENT, pinned=False)
        listing = await client.mentions(limit=5)
        return unpinned, listing, api.received

    unpinned, listing, received = scenario(test)
    assert unpinned["pinned"] is False and listing["type"] == "mentions"
    assert received == [
        {"action": "pin", "roomId": "team", "messageId": PARENT, "remove": True},
        {"action": "mentions", "limit": 5},
    ]


def test_every_builder_makes_a_frame_of_its_action() -> None:
    frames = [
        protocol.send_all("r", "m", "c1", PARENT, also_to_room=True),
        protocol.thread("r", PARENT, 10, REPLIES[0]),
        protocol.threads("r", 5),
        protocol.follow("r", PARENT, remove=True),
        protocol.react("r", PARENT, protocol.REACTIONS[0], remove=True, reply_to=PARENT),
        protocol.mentions(20, PARENT),
        protocol.pin("r", PARENT, reply_to=PARENT),
        protocol.mark_read("r", REPLIES[0], PARENT),
        protocol.edit("r", REPLIES[0], "x", PARENT),
        protocol.delete("r", REPLIES[0], PARENT),
    ]
    assert [f["action"] for f in frames] == [
        *("sendAll", "thread", "threads", "follow", "react", "mentions", "pin"),
        *("markRead", "edit", "delete"),
    ]
    assert len(protocol.REACTIONS) == 40 and "❤️" in protocol.REACTIONS
