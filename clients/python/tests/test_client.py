"""The Python SDK's Client (roomchat_client) against a tiny in-process websockets server that
answers as the API does: frames buffered, predicate waits, the outbox's order and retries,
history paging, the query string, what a closed connection does to the waits."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

import pytest
import websockets
from websockets.asyncio.server import ServerConnection, serve

from roomchat_client import Client

MESSAGES = [f"m{i:02d}" for i in range(7)]  # the room's history, oldest first


class FakeApi:
    """Answers the protocol's actions for one room; ``fail`` scripts sendAll's first answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        # message text -> the answers to its next sendAlls, in order ("silence": none)
        self.fail: dict[str, list[str]] = {}
        self.stored: dict[str, dict[str, Any]] = {}  # clientMsgId -> message frame
        self.connection: ServerConnection | None = None

    async def handle(self, ws: ServerConnection) -> None:
        self.connection = ws
        assert ws.request is not None
        self.paths.append(ws.request.path)
        async for raw in ws:
            frame = json.loads(raw)
            self.received.append(frame)
            for reply in self.answer(frame):
                await ws.send(json.dumps(reply))

    def answer(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        action, room = frame.get("action"), frame.get("roomId")
        if action == "join":
            # someone else's presence first: a frame no one waits for
            return [
                {"type": "presence", "event": "join", "roomId": room, "name": "zed"},
                {"type": "joined", "roomId": room, "name": frame["name"], "members": 2},
            ]
        if action == "members":
            return [{"type": "members", "roomId": room, "members": ["ana", "zed"]}]
        if action == "ping":
            return [{"type": "pong"}]
        if action == "history":
            limit = frame.get("limit", 3)
            end = MESSAGES.index(frame["before"]) if "before" in frame else len(MESSAGES)
            page = MESSAGES[max(0, end - limit) : end]
            older = page[0] if end - limit > 0 else None
            return [{"type": "history", "roomId": room, "messages": page, "next": older}]
        if action == "sendAll":
            cid = frame["clientMsgId"]
            if self.fail.get(frame["message"]):
                code = self.fail[frame["message"]].pop(0)
                if code == "silence":
                    return []
                return [{"type": "error", "code": code, "action": "sendAll", "clientMsgId": cid}]
            message = {"type": "message", "roomId": room, "message": frame["message"]}
            stored = self.stored.setdefault(cid, {**message, "clientMsgId": cid})
            return [stored]
        return [{"type": "error", "code": "unknown_action", "action": action}]


def scenario(test: Any) -> Any:
    """Run ``test(api, url)`` against a fresh server on a free port."""

    async def main() -> Any:
        api = FakeApi()
        async with serve(api.handle, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            return await asyncio.wait_for(test(api, f"ws://127.0.0.1:{port}/live"), 30)

    return asyncio.run(main())


def test_connect_puts_token_and_name_in_the_query_string():
    async def test(api: FakeApi, url: str) -> list[str]:
        client = await Client.connect(url, token="t.k=n", name="ana b")
        await client.ping()
        await client.close()
        return api.paths

    (path,) = scenario(test)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert query == {"token": ["t.k=n"], "name": ["ana b"]}


def test_unmatched_frames_stay_buffered_for_a_later_wait_in_arrival_order():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        joined = await client.join("lobby", "ana")
        buffered = list(client.pending)  # the presence frame that came first
        presence = await client.expect({"type": "presence", "roomId": "lobby"})
        await client.send({"action": "ping"})
        await client.send({"action": "members", "roomId": "lobby"})
        members = await client.expect(lambda f: f.get("type") == "members")
        rest = await client.quiet(0.2)
        await client.close()
        return joined, buffered, presence, members, rest

    joined, buffered, presence, members, rest = scenario(test)
    assert joined["type"] == "joined" and joined["name"] == "ana"
    assert buffered == [presence] and presence["name"] == "zed"
    assert members["members"] == ["ana", "zed"]
    assert rest == [{"type": "pong"}]  # skipped by the members wait, kept, then taken by quiet


def test_a_wait_with_no_matching_frame_times_out_and_keeps_what_came():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        await client.send({"action": "ping"})
        with pytest.raises(TimeoutError, match="no frame matching"):
            await client.expect({"type": "members"}, timeout=0.3)
        kept = await client.quiet(0)
        await client.close()
        return kept

    assert scenario(test) == [{"type": "pong"}]


def test_an_action_returns_its_error_frame_instead_of_waiting_for_its_reply():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        reply = await client.call({"action": "dance"}, "danced", timeout=2)
        await client.close()
        return reply

    assert scenario(test) == {"type": "error", "code": "unknown_action", "action": "dance"}


def test_history_pages_follow_next_back_to_the_oldest_message():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        pages = [page async for page in client.history_pages("lobby", limit=3)]
        await client.close()
        return pages, [f.get("before") for f in api.received]

    pages, befores = scenario(test)
    assert [p["messages"] for p in pages] == [["m04", "m05", "m06"], ["m01", "m02", "m03"], ["m00"]]
    assert befores == [None, "m04", "m01"]
    assert pages[-1]["next"] is None


def test_outbox_sends_one_at_a_time_in_order_and_retries_with_the_same_client_msg_id():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        api.fail = {"one": ["rate_limited", "silence", "internal"], "two": ["bad_request"]}
        outbox = client.outbox("lobby", timeout=0.3, backoff_s=0.01)
        acks = [outbox.submit(text) for text in ("one", "two", "three")]
        results = await asyncio.gather(*acks)
        await client.close()
        return results, outbox.sent

    results, sent = scenario(test)
    # "one": rate_limited, no answer, internal, then stored; "two": refused for good
    assert [f["message"] for f in sent] == ["one"] * 4 + ["two", "three"]
    assert len({f["clientMsgId"] for f in sent[:4]}) == 1
    assert [r["type"] for r in results] == ["message", "error", "message"]
    assert results[0]["message"] == "one" and results[2]["message"] == "three"
    assert results[1]["code"] == "bad_request"


def test_outbox_keeps_one_send_all_in_flight_per_room():
    """The second message goes only when the first one's ack has come back."""

    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        api.fail = {"a": ["silence"]}  # the first try of "a" is not answered
        outbox = client.outbox("lobby", timeout=0.5, backoff_s=0.01)
        first, second = outbox.submit("a"), outbox.submit("b")
        await asyncio.sleep(0.3)
        in_flight = [f["message"] for f in api.received]
        await asyncio.gather(first, second)
        await client.close()
        return in_flight, [f["message"] for f in api.received]

    in_flight, everything = scenario(test)
    assert in_flight == ["a"]
    assert everything == ["a", "a", "b"]


def test_a_closed_connection_fails_the_waits_and_the_outbox():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url)
        api.fail = {"lost": ["silence"]}
        waiting = asyncio.ensure_future(client.expect({"type": "members"}, timeout=5))
        ack = client.outbox("lobby", timeout=5).submit("lost")
        await asyncio.sleep(0.2)
        assert api.connection is not None
        await api.connection.close()
        await client.wait_closed()
        results = await asyncio.gather(waiting, ack, return_exceptions=True)
        with pytest.raises(websockets.ConnectionClosed):
            await client.expect({"type": "pong"})
        await client.close()
        return results

    results = scenario(test)
    assert all(isinstance(r, websockets.ConnectionClosed) for r in results), results


def test_a_frame_the_check_refuses_fails_the_wait():
    def check(raw: str | bytes) -> None:
        assert json.loads(raw)["type"] != "pong", "no pong allowed"

    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url, check=check)
        with pytest.raises(AssertionError, match="no pong allowed"):
            await client.ping()
        await client.close()

    scenario(test)


def test_listeners_see_every_frame_and_an_unbuffered_client_keeps_none():
    async def test(api: FakeApi, url: str) -> Any:
        client = await Client.connect(url, buffer=False)
        seen: list[Any] = []
        client.listen(seen.append)
        await client.join("lobby", "ana")
        await client.members("lobby")
        pending = list(client.pending)
        await client.close()
        return seen, pending

    seen, pending = scenario(test)
    assert [f["type"] for f in seen] == ["presence", "joined", "members"]
    assert pending == []
