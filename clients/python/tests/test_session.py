"""``Session`` against a small in-process server: after the server drops the connection it comes
back after a back-off with jitter, joins its rooms again and passes on exactly the messages it
missed, oldest first, once; a refused token is not retried."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from roomchat_client import Refused, Session
from roomchat_client.protocol import backoff_delay, describe_close, describe_refusal


def _msg(n: int) -> dict[str, Any]:
    return {
        "type": "message",
        "roomId": "lobby",
        "messageId": f"01J{n:023d}",
        "sentAt": "2026-01-01T00:00:00.000Z",
        "sender": "bob",
        "message": f"m{n}",
        "clientMsgId": None,
        "authorId": "c-bob",
    }


class Server:
    """Stores messages 1..n; `recent` is the newest two, `history` pages of two."""

    def __init__(self) -> None:
        self.stored = [_msg(1), _msg(2)]
        self.connections: list[ServerConnection] = []

    async def handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        async for raw in ws:
            frame = json.loads(raw)
            if frame["action"] == "join":
                recent = [dict(m) for m in self.stored[-2:]]
                older = self.stored[:-2]
                joined = {"type": "joined", "roomId": "lobby", "name": "bot", "members": 1}
                next_ = recent[0]["messageId"] if older else None
                await ws.send(json.dumps({**joined, "recent": recent, "next": next_}))
            elif frame["action"] == "history":
                ids = [m["messageId"] for m in self.stored]
                end = ids.index(frame["before"])
                page = self.stored[max(0, end - 2) : end]
                next_ = page[0]["messageId"] if end - 2 > 0 else None
                reply = {"type": "history", "roomId": "lobby", "messages": page, "next": next_}
                await ws.send(json.dumps(reply))


def test_a_session_reconnects_rejoins_and_passes_on_each_missed_message_once() -> None:
    async def scenario() -> tuple[list[str], Session]:
        server = Server()
        seen: list[str] = []
        async with serve(server.handle, "127.0.0.1", 0) as running:
            port = running.sockets[0].getsockname()[1]
            session = Session(
                f"ws://127.0.0.1:{port}/live", name="bot", rooms=["lobby"], backoff=(0.05, 0.2)
            )
            session.listen(lambda f: f.get("type") == "message" and seen.append(f["message"]))
            await session.start()
            await server.connections[0].send(json.dumps(_msg(3)))  # live
            await asyncio.sleep(0.1)
            server.stored.append(_msg(3))
            await server.connections[0].close(1001, "Going away")
            server.stored += [_msg(4), _msg(5), _msg(6)]  # while it is away
            await asyncio.wait_for(_until(lambda: session.connections == 2), 10)
            await asyncio.wait_for(_until(lambda: len(seen) >= 4), 10)
            await session.close()
        return seen, session

    seen, session = asyncio.run(scenario())
    # recent on the first join is history, not news; then live m3; then m4-m6 from the gap
    assert seen == ["m3", "m4", "m5", "m6"]
    assert session.last_close and "the server went away" in session.last_close


async def _until(done: Any) -> None:
    while not done():
        await asyncio.sleep(0.02)


def test_a_refused_token_raises_at_once_with_what_the_status_means() -> None:
    async def scenario() -> Refused:
        async def refuse(connection: Any, request: Any) -> Any:
            return connection.respond(403, "Forbidden\n")

        async with serve(lambda ws: None, "127.0.0.1", 0, process_request=refuse) as running:
            port = running.sockets[0].getsockname()[1]
            with pytest.raises(Refused) as info:
                await Session(f"ws://127.0.0.1:{port}/live", token="x.y.z").start()
            return info.value

    refused = asyncio.run(scenario())
    assert refused.status == 403 and "the token was refused" in str(refused)


def test_words_for_statuses_close_codes_and_the_back_off() -> None:
    assert "no token was given" in describe_refusal(401)
    assert "the token was refused" in describe_refusal(403)
    assert describe_close(1001) == "the server went away (stopped or restarted)"
    assert (
        describe_close(1001, connected_s=7300)
        == "closed by the server at the 2-hour connection limit"
    )
    assert (
        describe_close(1001, connected_s=700, idle_s=650)
        == "closed by the server after 10 idle minutes"
    )
    delays = [backoff_delay(a, random=lambda: 0.0) for a in range(8)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert backoff_delay(10, random=lambda: 1.0) == 30.0


def test_a_message_stored_before_a_drop_is_not_sent_again_on_the_next_connection() -> None:
    """A clientMsgId is idempotent per connection only: re-sent on a new connection it would be
    stored twice, so the gap fill decides."""

    class Dropping(Server):
        def __init__(self) -> None:
            super().__init__()
            self.sends: list[dict[str, Any]] = []

        async def handle(self, ws: ServerConnection) -> None:
            original = ws.recv

            async def recv(*args: Any, **kwargs: Any) -> Any:
                raw = await original(*args, **kwargs)
                frame = json.loads(raw)
                if frame["action"] == "sendAll":  # stored, then the server goes before answering
                    self.sends.append(frame)
                    stored = {**_msg(3), "message": frame["message"]}
                    self.stored.append({**stored, "clientMsgId": frame["clientMsgId"]})
                    await ws.close(1001, "Going away")
                return raw

            ws.recv = recv  # type: ignore[method-assign]
            await super().handle(ws)

    async def scenario() -> tuple[Any, Dropping]:
        server = Dropping()
        async with serve(server.handle, "127.0.0.1", 0) as running:
            port = running.sockets[0].getsockname()[1]
            session = Session(
                f"ws://127.0.0.1:{port}/live", name="bot", rooms=["lobby"], backoff=(0.05, 0.2)
            )
            await session.start()
            stored = await asyncio.wait_for(session.say("lobby", "once only"), 10)
            await session.close()
        return stored, server

    stored, server = asyncio.run(scenario())
    assert stored["message"] == "once only" and stored["messageId"] == _msg(3)["messageId"]
    assert len(server.sends) == 1


class ResumingServer(Server):
    """A server with resume: ``join`` with ``after`` replays two messages after it at most
    (``resumeNext`` continues), ``history`` with ``after`` pages of two; ``changed`` messages are
    in ``updated``. Each join answers only after a live message sent right after the membership
    (as a real room's traffic can arrive before ``joined``)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.live_on_join: dict[str, Any] | None = None

    def _after(self, after: str) -> tuple[list[dict[str, Any]], str | None]:
        newer = [m for m in self.stored if m["messageId"] > after]
        page = newer[:2]
        return page, page[-1]["messageId"] if len(newer) > 2 else None

    async def handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        async for raw in ws:
            frame = json.loads(raw)
            self.requests.append(frame)
            after = frame.get("after")
            if frame["action"] == "join" and after:
                if self.live_on_join is not None:
                    self.stored.append(self.live_on_join)
                    await ws.send(json.dumps(self.live_on_join))
                page, more = self._after(after)
                joined = {"type": "joined", "roomId": "lobby", "name": "bot", "members": 1}
                extra = {"updated": self.changed, "recovered": True, "resumeNext": more}
                await ws.send(json.dumps({**joined, "recent": page, "next": None, **extra}))
            elif frame["action"] == "history" and after:
                page, more = self._after(after)
                reply = {"type": "history", "roomId": "lobby", "messages": page, "next": more}
                await ws.send(json.dumps({**reply, "updated": [], "recovered": True}))
            elif frame["action"] == "join":
                recent = self.stored[-2:]
                joined = {"type": "joined", "roomId": "lobby", "name": "bot", "members": 1}
                await ws.send(json.dumps({**joined, "recent": recent, "next": None}))


def test_a_session_resumes_after_its_newest_message_each_missed_message_once_then_the_changes() -> (
    None
):
    async def scenario() -> tuple[list[str], ResumingServer]:
        server = ResumingServer()
        seen: list[str] = []

        def record(f: dict[str, Any]) -> None:
            if f.get("type") == "message":
                seen.append(f["message"])
            elif f.get("type") in ("edited", "deleted"):
                seen.append(f"{f['type']} {f['messageId'][-1]}: {f.get('message')}")

        async with serve(server.handle, "127.0.0.1", 0) as running:
            port = running.sockets[0].getsockname()[1]
            session = Session(
                f"ws://127.0.0.1:{port}/live", name="bot", rooms=["lobby"], backoff=(0.05, 0.2)
            )
            session.listen(record)
            await session.start()
            server.stored.append(_msg(3))
            await server.connections[0].send(json.dumps(_msg(3)))  # live
            await asyncio.wait_for(_until(lambda: len(seen) == 1), 10)
            await server.connections[0].close(1001, "Going away")
            server.stored += [_msg(4), _msg(5), _msg(6), _msg(7)]  # while it is away
            server.changed = [
                {**_msg(1), "message": "m1, edited", "editedAt": "2026-01-01T00:01:00.000Z"},
                {
                    **_msg(2),
                    "message": None,
                    "deletedBy": "bob",
                    "deletedAt": "2026-01-01T00:02:00Z",
                },
            ]
            server.live_on_join = _msg(8)
            await asyncio.wait_for(_until(lambda: len(seen) >= 8), 10)
            await asyncio.sleep(0.1)  # nothing more arrives
            await session.close()
        return seen, server

    seen, server = asyncio.run(scenario())
    # m8 arrived live before `joined` and is in the replay too: held, passed on once, in order
    assert seen == ["m3", "m4", "m5", "m6", "m7", "m8", "edited 1: m1, edited", "deleted 2: None"]
    joins = [r for r in server.requests if r["action"] == "join"]
    assert joins[0].get("after") is None and joins[1]["after"] == _msg(3)["messageId"]
    pages = [r for r in server.requests if r["action"] == "history"]
    assert [p["after"] for p in pages] == [_msg(n)["messageId"] for n in (5, 7)]
    assert all("before" not in p for p in pages)


def test_token_expired_reconnects_with_a_fresh_token_and_the_say_goes_out_there() -> None:
    """The server refuses the first connection's sendAll as `token_expired`: the session takes
    a fresh token, reconnects with it in `?token=`, and sends the same message there."""

    class Expiring(Server):
        def __init__(self) -> None:
            super().__init__()
            self.paths: list[str] = []
            self.sends: list[tuple[int, str]] = []

        async def handle(self, ws: ServerConnection) -> None:
            self.paths.append(ws.request.path)
            number = len(self.paths)
            self.connections.append(ws)
            async for raw in ws:
                frame = json.loads(raw)
                if frame["action"] == "join":
                    joined = {"type": "joined", "roomId": "lobby", "name": "bot", "members": 1}
                    await ws.send(json.dumps({**joined, "recent": [], "next": None}))
                elif frame["action"] == "sendAll":
                    self.sends.append((number, frame["clientMsgId"]))
                    if number == 1:
                        refusal = {
                            "type": "error",
                            "code": "token_expired",
                            "action": "sendAll",
                            "roomId": "lobby",
                            "clientMsgId": frame["clientMsgId"],
                            "message": "your sign-in token has expired; reconnect with a fresh one",
                        }
                        await ws.send(json.dumps(refusal))
                    else:
                        echo = {**_msg(7), "message": frame["message"]}
                        echo["clientMsgId"] = frame["clientMsgId"]
                        await ws.send(json.dumps(echo))

    async def scenario() -> tuple[Expiring, Any]:
        server = Expiring()
        async with serve(server.handle, "127.0.0.1", 0) as running:
            port = running.sockets[0].getsockname()[1]
            session = Session(
                f"ws://127.0.0.1:{port}/live",
                name="bot",
                token="old",
                rooms=["lobby"],
                backoff=(0.05, 0.2),
                fresh_token=lambda: "fresh",
            )
            await session.start()
            reply = await asyncio.wait_for(session.say("lobby", "hello"), 10)
            await session.close()
        return server, reply

    server, reply = asyncio.run(scenario())
    assert reply["type"] == "message" and reply["message"] == "hello"
    assert "token=old" in server.paths[0] and "token=fresh" in server.paths[1]
    [(first, cid1), (second, cid2)] = server.sends
    assert (first, second) == (1, 2) and cid1 == cid2  # the same message, once stored
