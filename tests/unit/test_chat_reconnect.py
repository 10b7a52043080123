"""The terminal client reconnects (scripts/roomchat_tools/reconnect.py, chat.py's
``stay_connected`` and ``Chat.resume``), without a network: in-memory clients answer the resume,
deliver live frames in the middle of it, and close when told."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from roomchat_client import Refused
from roomchat_tools.chat import Chat, stay_connected
from roomchat_tools.reconnect import Backoff, SeenIds, refusal_is_final, stop_reason


def _id(n: int) -> str:
    return f"01J{n:023d}"


def _msg(n: int, sender: str = "bob", **extra: Any) -> dict[str, Any]:
    return {
        "messageId": _id(n),
        "sentAt": "2026-01-01T00:00:00.000Z",
        "sender": sender,
        "message": f"m{n}",
        "authorId": f"c-{sender}",
        **extra,
    }


def _live(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "roomId": "lobby", **_msg(n, **extra)}


class FakeOutbox:
    def __init__(self, sent: list[tuple[str, str]]) -> None:
        self.sent = sent

    def submit(self, text: str, client_msg_id: str | None = None) -> asyncio.Future[Any]:
        self.sent.append((text, str(client_msg_id)))
        return asyncio.get_running_loop().create_future()  # never answered here

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        return None


class FakeClient:
    """Answers ``call`` from ``answers`` (reply_type -> list of frames, in order); ``before``
    (reply_type -> frames) are delivered to the listeners first, as live traffic that arrives
    while a resume is read."""

    def __init__(
        self,
        answers: dict[str, list[dict[str, Any]]] | None = None,
        before: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.ws = None
        self.answers = answers or {}
        self.before = before or {}
        self.calls: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str]] = []
        self.outboxes: dict[str, FakeOutbox] = {}
        self.listeners: list[Any] = []
        self.gone = asyncio.Event()
        self.closed = False

    def listen(self, listener: Any) -> None:
        self.listeners.append(listener)

    async def call(self, frame: dict[str, Any], reply_type: str, timeout: float = 0) -> Any:
        self.calls.append(frame)
        for live in self.before.pop(reply_type, []):
            for listener in self.listeners:
                listener(live)
        reply = self.answers[reply_type].pop(0)
        if isinstance(reply, BaseException):
            raise reply
        for listener in self.listeners:
            listener(reply)
        return reply

    def outbox(self, room: str, **options: Any) -> FakeOutbox:
        return self.outboxes.setdefault(room, FakeOutbox(self.sent))

    async def drain(self) -> None:
        return None

    def keepalive(self, interval: float) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(asyncio.sleep(3600))

    async def wait_closed(self) -> None:
        await self.gone.wait()

    def drop(self) -> None:
        self.closed = True
        self.gone.set()

    def close_reason(self) -> str:
        return "the connection was lost (code 1006)"

    async def close(self) -> None:
        self.drop()


def _chat(first: FakeClient, out: list[str]) -> Chat:
    chat = Chat(first, "ana", out.append)  # type: ignore[arg-type]
    joined = {"type": "joined", "roomId": "lobby", "name": "ana", "members": 2, "you": "c-ana"}
    chat.show({**joined, "recent": [_msg(1), _msg(2)]})
    chat.rooms, chat.current, chat.url = ["lobby"], "lobby", "ws://stack/live"
    return chat


LINE = re.compile(r"^\[lobby\] \d\d:\d\d \w+: (?P<text>.*)$")


def _texts(out: list[str]) -> list[str]:
    return [m["text"] for line in out if (m := LINE.match(line))]


def _at(out: list[str], text: str) -> int:
    """Where the line of the message with that text was shown."""
    return next(i for i, line in enumerate(out) if (m := LINE.match(line)) and m["text"] == text)


# ----- the policy --------------------------------------------------------------------------------


def test_the_backoff_is_jittered_capped_and_bounded() -> None:
    low = Backoff(attempts=9, base_s=0.5, cap_s=30.0, rng=lambda: 0.0)
    high = Backoff(attempts=9, base_s=0.5, cap_s=30.0, rng=lambda: 0.999999)
    ceilings = [min(30.0, 0.5 * 2**a) for a in range(9)]
    for attempt, ceiling in enumerate(ceilings):
        lo, hi = low.delay(attempt), high.delay(attempt)
        assert lo is not None and hi is not None
        assert lo == ceiling / 2 and ceiling / 2 < hi <= ceiling  # jitter: half to all
    assert high.delay(8) is not None and high.delay(8) <= 30.0  # capped
    assert low.delay(9) is None and Backoff(attempts=0).delay(0) is None  # bounded
    with pytest.raises(ValueError):
        Backoff(attempts=-1)


def test_only_a_refusal_a_retry_could_fix_is_retried() -> None:
    assert all(refusal_is_final(s) for s in (400, 401, 403))
    assert not any(refusal_is_final(s) for s in (429, 500, 502, 503))


def test_no_reconnect_after_a_quit_or_a_moderator_removing_you() -> None:
    assert stop_reason(quitting=False, removed_from=[], rooms_left=["lobby"]) is None
    assert stop_reason(quitting=True, removed_from=[], rooms_left=["lobby"]) == "you quit"
    reason = stop_reason(quitting=False, removed_from=["lobby"], rooms_left=[])
    assert reason is not None and "a moderator removed you from lobby" in reason
    # removed from one room of two: the close is not the moderator's, the other room is rejoined
    assert stop_reason(quitting=False, removed_from=["lobby"], rooms_left=["team"]) is None


def test_seen_ids_show_each_message_once_and_remember_the_newest() -> None:
    seen = SeenIds(kept=3)
    assert [seen.add(_id(n)) for n in (2, 1, 2, 3)] == [True, True, False, True]
    assert seen.newest == _id(3)
    for n in range(4, 12):
        assert seen.add(_id(n))
    assert len(seen.ids) <= 6  # bounded
    assert not seen.add(_id(1)) and not seen.add(_id(5))  # forgotten ones count as shown
    assert not seen.add(_id(11)) and seen.add(_id(12))


# ----- the loop ----------------------------------------------------------------------------------


def _run_loop(
    chat: Chat, connect: Any, attempts: int = 3, after: Any = None
) -> tuple[str | None, list[float], list[str]]:
    slept: list[float] = []
    said: list[str] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> str | None:
        loop = asyncio.create_task(
            stay_connected(chat, connect, Backoff(attempts), 60, said.append, sleep)
        )
        await asyncio.sleep(0)
        if after is not None:
            after()
        chat.client.drop()  # type: ignore[attr-defined]
        return await asyncio.wait_for(loop, 5)

    return asyncio.run(main()), slept, said


def test_the_loop_gives_up_after_its_bound_with_a_clear_message() -> None:
    tries: list[int] = []

    async def connect() -> Any:
        tries.append(1)
        raise OSError("Connection refused")

    chat = _chat(FakeClient(), [])
    reason, slept, said = _run_loop(chat, connect, attempts=3)
    assert chat.ended and chat.back.is_set()  # nothing waits for a connection any more
    assert len(tries) == 3 and len(slept) == 3
    assert all(0 < s <= min(30.0, 0.5 * 2**a) for a, s in enumerate(slept))
    assert said == ["* disconnected: the connection was lost (code 1006); reconnecting"]
    assert reason is not None
    assert "gave up reconnecting after 3 tries (last: Connection refused)" in reason


def test_a_refused_token_stops_the_loop_at_once_and_says_so() -> None:
    from websockets.http11 import Response

    tries: list[int] = []

    async def connect() -> Any:
        tries.append(1)
        raise Refused("ws://x/live", Response(403, "Forbidden", [], b""))  # type: ignore[arg-type]

    reason, _, _ = _run_loop(_chat(FakeClient(), []), connect, attempts=5)
    assert len(tries) == 1
    assert reason is not None and "HTTP 403" in reason and "the token was refused" in reason
    assert "expired" in reason


def test_no_reconnect_after_the_user_quit_or_a_kick() -> None:
    async def connect() -> Any:
        raise AssertionError("must not reconnect")

    chat = _chat(FakeClient(), [])
    reason, slept, _ = _run_loop(chat, connect, after=lambda: setattr(chat, "quitting", True))
    assert reason is None and slept == []

    out: list[str] = []
    chat = _chat(FakeClient(), out)
    kick = {"type": "kicked", "roomId": "lobby", "userId": "c-ana", "names": ["ana"]}
    reason, slept, _ = _run_loop(chat, connect, after=lambda: chat.show({**kick, "banned": True}))
    assert slept == [] and reason is not None
    assert "a moderator removed you from lobby; not reconnecting" in reason
    assert "lobby" not in chat.rooms


def test_the_loop_reconnects_and_resumes_after_a_failed_try() -> None:
    fresh = FakeClient({"joined": [{"type": "joined", "roomId": "lobby", "recent": []}]})
    outcomes: list[Any] = [OSError("down"), fresh]

    async def connect() -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    chat = _chat(FakeClient(), [])

    async def main() -> list[str]:
        said: list[str] = []

        async def sleep(seconds: float) -> None:
            return None

        loop = asyncio.create_task(
            stay_connected(chat, connect, Backoff(3), 60, said.append, sleep)
        )
        await asyncio.sleep(0)
        chat.client.drop()  # type: ignore[attr-defined]
        while chat.client is not fresh or not chat.online:
            await asyncio.sleep(0.01)
        chat.quitting = True
        fresh.drop()
        assert await asyncio.wait_for(loop, 5) is None
        return said

    said = asyncio.run(main())
    assert said[-1] == "* reconnected to ws://stack/live"
    assert fresh.calls[0] == {"action": "join", "roomId": "lobby", "name": "ana", "after": _id(2)}


# ----- the resume --------------------------------------------------------------------------------


def test_a_resume_shows_each_missed_message_once_in_order_then_changes_then_live() -> None:
    out: list[str] = []
    first = FakeClient()
    chat = _chat(first, out)
    chat.show(_live(3))
    chat.show(_live(3))  # a retry's echo: shown once

    async def main() -> FakeClient:
        chat.offline()
        await chat.say("typed while away")
        joined = {"type": "joined", "roomId": "lobby", "name": "ana", "members": 2, "you": "c-b"}
        edited = {**_msg(2), "message": "m2 edited", "editedAt": "2026-01-01T00:01:00.000Z"}
        fresh = FakeClient(
            {
                "joined": [
                    {
                        **joined,
                        "recent": [_msg(4), _msg(5)],
                        "updated": [edited],
                        "recovered": True,
                        "resumeNext": _id(5),
                    }
                ],
                "history": [
                    {
                        "type": "history",
                        "roomId": "lobby",
                        "messages": [_msg(6), _msg(7)],
                        "updated": [],
                        "recovered": True,
                        "next": None,
                    }
                ],
            },
            # live while the replay is read: newer ones, and ones the replay brings too
            before={"joined": [_live(8), _live(4)], "history": [_live(6), _live(9)]},
        )
        await chat.resume(fresh)
        chat.show(_live(9))  # live after the resume, once more: dropped
        return fresh

    fresh = asyncio.run(main())
    assert _texts(out) == ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"]
    assert "[lobby] rejoined: 4 missed messages" in out
    assert out.index("[lobby] rejoined: 4 missed messages") < _at(out, "m4")
    edit = '[lobby] * bob\'s message "m2" was edited: m2 edited'
    assert _at(out, "m7") < out.index(edit) < _at(out, "m8")
    assert fresh.calls[0]["after"] == _id(3)
    assert fresh.calls[1] == {"action": "history", "roomId": "lobby", "limit": 100, "after": _id(5)}
    assert [text for text, _ in fresh.sent] == ["typed while away"]  # sent once reconnected
    assert not any("incomplete" in line for line in out)


def test_a_line_stored_before_the_drop_is_not_sent_again_and_others_keep_their_order() -> None:
    out: list[str] = []
    first = FakeClient()
    chat = _chat(first, out)

    async def main() -> FakeClient:
        for text in ("one", "two", "three"):
            await chat.say(text)
        ids = [client_msg_id for _, client_msg_id in first.sent]
        chat.offline()
        await chat.say("four")
        stored = _msg(3, sender="ana", message="one", clientMsgId=ids[0])  # its ack was lost
        joined = {"type": "joined", "roomId": "lobby", "name": "ana", "members": 1}
        fresh = FakeClient(
            {"joined": [{**joined, "recent": [stored], "recovered": True, "resumeNext": None}]}
        )
        await chat.resume(fresh)
        assert [c for _, c in fresh.sent] == [*ids[1:], fresh.sent[-1][1]]  # same clientMsgIds
        return fresh

    fresh = asyncio.run(main())
    assert [text for text, _ in fresh.sent] == ["two", "three", "four"]
    assert _texts(out) == ["m1", "m2", "one"]


def test_a_resume_past_the_retention_says_the_history_is_incomplete() -> None:
    out: list[str] = []
    chat = _chat(FakeClient(), out)
    joined = {"type": "joined", "roomId": "lobby", "name": "ana", "members": 1}
    fresh = FakeClient({"joined": [{**joined, "recent": [_msg(40)], "recovered": False}]})
    asyncio.run(chat.resume(fresh))  # type: ignore[arg-type]
    assert "[lobby] ! history incomplete" in "\n".join(out)
    assert _texts(out)[-1] == "m40"


def test_a_room_that_refuses_the_rejoin_is_left_and_its_error_shown() -> None:
    out: list[str] = []
    chat = _chat(FakeClient(), out)
    refusal = {"type": "error", "code": "forbidden", "action": "join", "roomId": "lobby"}
    fresh = FakeClient({"joined": [{**refusal, "message": "you are banned from lobby"}]})
    asyncio.run(chat.resume(fresh))  # type: ignore[arg-type]
    assert "! forbidden: you are banned from lobby" in out
    assert chat.rooms == [] and chat.current is None and chat.online


def test_a_line_too_long_for_a_frame_is_refused_at_once_and_nothing_is_pending() -> None:
    out: list[str] = []
    first = FakeClient()
    chat = _chat(first, out)

    async def main() -> None:
        await chat.say("x" * 33_000)  # the server would close the connection (1009)
        await chat.say("short")

    asyncio.run(main())
    assert out[-1].startswith("! not sent: too long (")
    assert [text for text, _ in first.sent] == ["short"] and len(chat.pending) == 1


def test_a_refused_reconnect_with_an_expired_token_says_it_expired() -> None:
    import base64
    import json
    import time

    from roomchat_tools.chat import _expired

    def token(exp: float) -> str:
        body = base64.urlsafe_b64encode(json.dumps({"sub": "u", "exp": exp}).encode())
        return f"h.{body.decode().rstrip('=')}.s"

    refused = "disconnected: x; reconnecting was refused: ws://x refused ... HTTP 403: ..."
    assert "your token expired at" in _expired(token(time.time() - 60), refused)
    assert _expired(token(time.time() + 600), refused) == ""  # refused for another reason
    assert _expired(token(time.time() - 60), "disconnected: x; gave up") == ""
    assert _expired(None, refused) == ""


def test_a_resume_that_fails_half_way_shows_nothing_held_and_starts_again_from_the_same_point():
    out: list[str] = []
    chat = _chat(FakeClient(), out)
    joined = {"type": "joined", "roomId": "lobby", "name": "ana", "members": 1}
    closed = ConnectionClosed(None, None)
    broken = FakeClient(
        {
            "joined": [{**joined, "recent": [_msg(3)], "recovered": True, "resumeNext": _id(3)}],
            "history": [closed],
        },
        before={"history": [_live(9)]},  # live, newer than the gap
    )

    async def main() -> None:
        chat.offline()
        with pytest.raises(ConnectionClosed):
            await chat.resume(broken)  # type: ignore[arg-type]

    asyncio.run(main())
    assert _texts(out) == ["m1", "m2"] and chat.seen["lobby"].newest == _id(2)
    assert chat.holding == {} and not chat.online


def test_no_reconnect_attempts_means_the_first_close_ends_it_and_a_negative_count_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def connect() -> Any:
        raise AssertionError("must not reconnect")

    reason, slept, said = _run_loop(_chat(FakeClient(), []), connect, attempts=0)
    assert reason == "disconnected: the connection was lost (code 1006)"
    assert slept == [] and said == []

    from roomchat_tools.chat import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--reconnect-attempts", "-1"])
    assert exit_info.value.code == 2
    assert "--reconnect-attempts: 0 or more" in capsys.readouterr().err


def test_a_token_the_server_says_expired_closes_the_connection_for_good() -> None:
    async def connect() -> Any:
        raise AssertionError("must not reconnect with an expired token")

    out: list[str] = []
    chat = _chat(FakeClient(), out)
    expired = {"type": "error", "code": "token_expired", "action": "sendAll", "roomId": "lobby"}
    reason, slept, _ = _run_loop(
        chat, connect, after=lambda: chat.show({**expired, "message": "token expired"})
    )
    assert slept == [] and reason is not None
    assert "your token has expired: get a new one (make token) and start again" in reason
    assert stop_reason(False, [], ["lobby"], token_expired=True) is not None

    async def closes() -> bool:
        alone = _chat(FakeClient(), [])
        alone.show({**expired, "message": "token expired"})
        await asyncio.sleep(0)
        return bool(alone.client.closed)  # type: ignore[attr-defined]

    assert asyncio.run(closes())  # the chat closed it itself
