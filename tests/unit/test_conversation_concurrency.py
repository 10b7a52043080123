"""Counters that must stay exact when everyone acts at once, on AWS's DynamoDB Local (its
conditional writes and atomic ADD are DynamoDB's): 50 people replying to one message at the
same moment give replyCount 50, 50 people reacting give a count of 50, and reactions added
and taken back at once leave exactly the difference. Real concurrency: one thread per
person, each through the real use-cases (ChatService) on one shared client, started
together by a barrier."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from roomchat import handlers, protocol
from roomchat.ports import Room
from roomchat.usecases import Caller, ChatService
from tests.engines import local_engine_only
from tests.unit.test_threads import _say

PEOPLE = 50


def _service(chat) -> ChatService:
    c = handlers.container()
    return ChatService(
        c.rooms, c.history, chat.sender, c.settings, limiter=None, moderation=c.moderation,
        threads=c.threads, reactions=c.reactions, mentions=c.mentions, pins=c.pins,
    )  # fmt: skip


def _all_at_once(work, n: int = PEOPLE) -> list:
    """Run work(i) for i in range(n) on n threads released together."""
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _crowd(chat, n: int = PEOPLE) -> list[Caller]:
    chat.join("A", "lobby", "ana")
    for i in range(n):
        chat.join(f"P{i}", "lobby", f"p{i}")
    return [Caller(f"P{i}") for i in range(n)]


@local_engine_only
def test_fifty_concurrent_replies_give_a_reply_count_of_fifty(chat):
    people = _crowd(chat)
    parent = _say(chat, "A", "who's in?")["messageId"]
    svc = _service(chat)

    _all_at_once(
        lambda i: svc.send(people[i], protocol.SendRequest("lobby", f"me {i}", None, parent))
    )

    thread = chat.send("A", action="thread", roomId="lobby", messageId=parent, limit=100)
    assert thread["parent"]["replyCount"] == PEOPLE
    assert len(thread["replies"]) == PEOPLE
    # The last reply is the one with the greatest id (the thread's order). Not always the
    # greatest sentAt: a thread that read the clock, then waited, gets an id after one made
    # meanwhile (ULIDs stay monotonic), with its earlier sentAt.
    assert thread["parent"]["lastReplyAt"] == thread["replies"][-1]["sentAt"]
    history = chat.send("A", action="history", roomId="lobby")
    assert [m["message"] for m in history["messages"]] == ["who's in?"]


@local_engine_only
def test_fifty_concurrent_reactions_give_exact_counts(chat):
    people = _crowd(chat)
    mid = _say(chat, "A", "vote")["messageId"]
    svc = _service(chat)
    # each person: 👍, and 🎉 for the even ones, all at the same moment
    _all_at_once(
        lambda i: [
            svc.react(people[i], protocol.ReactRequest("lobby", mid, None, emoji, False))
            for emoji in (("👍", "🎉") if i % 2 == 0 else ("👍",))
        ]
    )

    summary = {r["emoji"]: r for r in _reactions(chat)}
    assert summary["👍"]["count"] == PEOPLE and summary["🎉"]["count"] == PEOPLE // 2
    assert len(summary["👍"]["users"]) == protocol.REACTION_USERS_LISTED

    # and then everyone takes 👍 back while the odd ones add 🎉, at once
    _all_at_once(
        lambda i: svc.react(
            people[i],
            protocol.ReactRequest("lobby", mid, None, "👍" if i % 2 == 0 else "🎉", i % 2 == 0),
        )
    )

    summary = {r["emoji"]: r for r in _reactions(chat)}
    assert summary["👍"]["count"] == PEOPLE // 2
    assert summary["🎉"]["count"] == PEOPLE


@local_engine_only
def test_concurrent_pins_never_pass_the_rooms_bound(chat):
    chat.users["O"] = "u-o"
    handlers.container().rooms.create_room(Room("lobby", "u-o", "open", "2026-01-01T00:00:00Z"))
    chat.join("O", "lobby", "olga")
    mids = [_say(chat, "O", f"m{i}")["messageId"] for i in range(protocol.PINS_MAX * 2)]
    svc = _service(chat)
    owner = Caller("O", user_id="u-o")

    def pin(i):
        try:
            return svc.pin(owner, protocol.PinRequest("lobby", mids[i], None, False))
        except Exception as e:
            return e.code

    outcomes = _all_at_once(pin, len(mids))

    assert outcomes.count(None) == protocol.PINS_MAX
    assert outcomes.count("bad_request") == protocol.PINS_MAX
    assert len(chat.join("C", "lobby", "cy")["pins"]) == protocol.PINS_MAX


def _reactions(chat) -> list[dict]:
    [msg] = chat.send("A", action="history", roomId="lobby")["messages"]
    return msg["reactions"]
