"""Reactions through the real handlers: one per user per emoji, a summary with exact counts and
the first users, frames to the room, bounds on kinds and on who is listed, and reactions that
go with a deleted message."""

from __future__ import annotations

import time

import pytest

from roomchat import handlers, protocol
from roomchat.settings import REACTIONS_PER_SECOND
from roomchat.usecases import ChatService
from tests.engines import both_engines
from tests.unit.test_threads import _room, _say


def _react(chat, cid, mid, emoji="👍", **extra):
    return chat.send(cid, action="react", roomId="lobby", messageId=mid, emoji=emoji, **extra)


@both_engines
def test_a_reaction_reaches_the_room_with_the_messages_summary(chat):
    _room(chat)
    mid = _say(chat, "A", "ship it")["messageId"]

    assert _react(chat, "B", mid) is None  # the room's frame is the acknowledgement

    [to_a] = chat.sender.take("A")
    [to_b] = chat.sender.take("B")
    assert to_a == to_b
    assert to_a["type"] == "reaction" and to_a["added"] is True and to_a["emoji"] == "👍"
    assert to_a["userId"] == "B" and to_a["name"] == "bob" and to_a["version"] == 1
    assert to_a["reactions"] == [{"emoji": "👍", "count": 1, "users": ["B"]}]
    [stored] = chat.send("A", action="history", roomId="lobby")["messages"]
    assert stored["reactions"] == to_a["reactions"]


@both_engines
def test_one_reaction_per_user_per_emoji_and_taking_it_back(chat):
    _room(chat)
    mid = _say(chat, "A", "m")["messageId"]
    handlers.container().limiter = None  # more than a second's budget, at once
    _react(chat, "B", mid)
    chat.sender.inbox.clear()

    again = _react(chat, "B", mid)  # a repeat: to the caller alone, nothing changes
    assert again["type"] == "reaction" and again["reactions"][0]["count"] == 1
    assert chat.sender.take("A") == []
    _react(chat, "A", mid, "❤️")
    _react(chat, "A", mid)
    summary = chat.send("A", action="history", roomId="lobby")["messages"][0]["reactions"]
    assert summary == [
        {"emoji": "👍", "count": 2, "users": ["A", "B"]},
        {"emoji": "❤️", "count": 1, "users": ["A"]},
    ]

    assert _react(chat, "B", mid, remove=True) is None
    assert _react(chat, "A", mid, "❤️", remove=True) is None
    gone_again = _react(chat, "A", mid, "❤️", remove=True)
    assert gone_again["added"] is False
    summary = chat.send("A", action="history", roomId="lobby")["messages"][0]["reactions"]
    assert summary == [{"emoji": "👍", "count": 1, "users": ["A"]}]


@pytest.mark.parametrize("emoji", ["❤", "👍👍", "x", "", None, 7, "👍🏽", "#️⃣"])
def test_an_emoji_outside_the_set_is_refused_and_writes_nothing(chat, emoji):
    _room(chat)
    mid = _say(chat, "A", "m")["messageId"]
    before = chat.items()

    answer = chat.send("B", action="react", roomId="lobby", messageId=mid, emoji=emoji)

    assert answer["code"] == "bad_request" and "❤️" in answer["message"]
    assert chat.items() == before


def test_the_summary_lists_a_few_users_and_counts_them_all(chat):
    chat.join("A", "lobby", "ana")
    mid = _say(chat, "A", "m")["messageId"]
    users = [f"U{i}" for i in range(protocol.REACTION_USERS_LISTED + 3)]
    for cid in users:
        chat.join(cid, "lobby", cid.lower())
        _react(chat, cid, mid)

    [r] = chat.send("A", action="history", roomId="lobby")["messages"][0]["reactions"]
    assert r["count"] == len(users)
    assert len(r["users"]) == protocol.REACTION_USERS_LISTED and set(r["users"]) <= set(users)


def test_a_message_carries_a_bounded_number_of_kinds(chat):
    _room(chat)
    mid = _say(chat, "A", "m")["messageId"]
    handlers.container().limiter = None  # this test is about kinds, not rates
    kinds = protocol.REACTIONS[: protocol.REACTION_KINDS_MAX]
    for emoji in kinds:
        assert _react(chat, "A", mid, emoji) is None
    before = chat.items()

    over = _react(chat, "B", mid, protocol.REACTIONS[protocol.REACTION_KINDS_MAX])

    assert over["code"] == "bad_request" and str(protocol.REACTION_KINDS_MAX) in over["message"]
    assert chat.items() == before
    assert _react(chat, "B", mid, kinds[0]) is None  # a kind already there is fine
    _react(chat, "A", mid, kinds[1], remove=True)  # a kind that leaves frees its place
    assert _react(chat, "B", mid, protocol.REACTIONS[protocol.REACTION_KINDS_MAX]) is None


def test_reactions_go_with_a_deleted_message(chat):
    _room(chat)
    mid = _say(chat, "A", "m")["messageId"]
    _react(chat, "B", mid)
    _react(chat, "A", mid, "🎉")

    chat.send("A", action="delete", roomId="lobby", messageId=mid)

    [tomb] = chat.send("A", action="history", roomId="lobby")["messages"]
    assert "reactions" not in tomb
    leftovers = [i for i in chat.items()["history"] if i["roomId"]["S"].startswith("react#")]
    assert leftovers == []
    assert _react(chat, "B", mid, "🔥")["code"] == "not_found"


def test_reactions_on_a_reply_shown_in_the_room_change_both_copies(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    reply = _say(chat, "B", "r", replyTo=parent, alsoToRoom=True)["messageId"]

    _react(chat, "A", reply, replyTo=parent)

    [frame] = chat.sender.take("B")
    assert frame["replyTo"] == parent
    room_copy = chat.send("A", action="history", roomId="lobby")["messages"][-1]
    thread_copy = chat.send("A", action="thread", roomId="lobby", messageId=parent)["replies"][0]
    assert room_copy["reactions"] == thread_copy["reactions"] == frame["reactions"]
    # The room's copy is the same message: reached without replyTo too.
    assert _react(chat, "A", reply)["reactions"] == frame["reactions"]  # already so
    only_in_thread = _say(chat, "B", "r2", replyTo=parent)["messageId"]
    assert _react(chat, "A", only_in_thread)["code"] == "not_found"  # found with its replyTo


def test_reactions_have_their_own_budget_like_typing(chat):
    _room(chat)
    mid = _say(chat, "A", "m")["messageId"]
    c = handlers.container()
    svc = ChatService(
        c.rooms, c.history, chat.sender, c.settings, limiter=c.limiter, reactions=c.reactions,
        clock=lambda: now,  # one second for all of them
    )  # fmt: skip
    caller = handlers._caller(chat.event("B", "react"))
    now = time.time_ns() // 1_000_000
    emoji = protocol.REACTIONS
    for i in range(REACTIONS_PER_SECOND):
        svc.react(caller, protocol.ReactRequest("lobby", mid, None, emoji[i], False))
    before = chat.items()

    with pytest.raises(Exception, match="react requests a second") as over:
        svc.react(caller, protocol.ReactRequest("lobby", mid, None, emoji[9], False))

    assert over.value.code == "rate_limited"
    assert chat.items() == before
    # sendAll's budget is another one: the connection may still post
    assert chat.send("B", action="sendAll", roomId="lobby", message="still here") is None


def test_reactions_are_for_readers_of_the_room(chat):
    _room(chat)
    mid = _say(chat, "A", "m")["messageId"]
    assert _react(chat, "Z", mid)["code"] == "not_member"
