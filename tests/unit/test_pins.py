"""Pins: the room's owner and moderators pin and unpin (at most PINS_MAX), the room is told,
and joined lists the pins with their messages' excerpts as they are now."""

from __future__ import annotations

from roomchat import handlers, protocol
from roomchat.ports import MODERATOR, Room
from tests.unit.test_threads import _say


def _team(chat):
    chat.users.update({"O": "u-o", "M": "u-m", "B": "u-b"})
    handlers.container().rooms.create_room(Room("team", "u-o", "open", "2026-01-01T00:00:00Z"))
    handlers.container().rooms.put_role("team", "u-m", MODERATOR)
    for cid, name in (("O", "olga"), ("M", "max"), ("B", "bob")):
        chat.join(cid, "team", name)
    chat.sender.inbox.clear()


def _pin(chat, cid, mid, **extra):
    return chat.send(cid, action="pin", roomId="team", messageId=mid, **extra)


def test_the_owner_pins_the_room_is_told_and_joined_lists_it(chat):
    _team(chat)
    mid = _say(chat, "B", "the agenda", room="team")["messageId"]

    assert _pin(chat, "O", mid) is None

    [told] = chat.sender.take("B")
    assert told["type"] == "pinned" and told["pinned"] is True
    assert told["pin"]["messageId"] == mid and told["pin"]["pinnedBy"] == "u-o"
    assert told["pin"]["excerpt"] == "the agenda" and told["pin"]["sender"] == "bob"
    joined = chat.join("C", "team", "cy")
    assert joined["pins"] == [told["pin"]]


def test_members_may_not_pin_and_moderators_may(chat):
    _team(chat)
    mid = _say(chat, "B", "m", room="team")["messageId"]
    before = chat.items()

    refused = _pin(chat, "B", mid)

    assert refused["code"] == "forbidden" and chat.items() == before
    assert _pin(chat, "M", mid) is None
    assert _pin(chat, "B", mid, remove=True)["code"] == "forbidden"


def test_a_room_holds_a_bounded_number_of_pins(chat):
    _team(chat)
    handlers.container().limiter = None
    mids = [
        _say(chat, "B", f"m{i}", room="team")["messageId"] for i in range(protocol.PINS_MAX + 1)
    ]
    for mid in mids[:-1]:
        assert _pin(chat, "O", mid) is None

    over = _pin(chat, "O", mids[-1])

    assert over["code"] == "bad_request" and str(protocol.PINS_MAX) in over["message"]
    assert _pin(chat, "O", mids[0], remove=True) is None
    assert _pin(chat, "O", mids[-1]) is None
    pinned = [p["messageId"] for p in chat.join("C", "team", "cy")["pins"]]
    assert pinned == mids[1:]


def test_unpinning_tells_the_room_and_a_repeat_changes_nothing(chat):
    _team(chat)
    mid = _say(chat, "B", "m", room="team")["messageId"]
    _pin(chat, "O", mid)
    assert _pin(chat, "O", mid)["pinned"] is True  # already pinned: to the caller alone
    chat.sender.inbox.clear()

    assert _pin(chat, "M", mid, remove=True) is None
    [told] = chat.sender.take("B")
    assert told["pinned"] is False and told["pin"]["messageId"] == mid
    assert _pin(chat, "M", mid, remove=True)["pinned"] is False
    assert chat.join("C", "team", "cy")["pins"] == []


def test_a_pinned_message_shows_as_it_is_now(chat):
    _team(chat)
    edited = _say(chat, "B", "draft", room="team")["messageId"]
    deleted = _say(chat, "B", "oops", room="team")["messageId"]
    _pin(chat, "O", edited)
    _pin(chat, "O", deleted)

    chat.send("B", action="edit", roomId="team", messageId=edited, message="final")
    chat.send("B", action="delete", roomId="team", messageId=deleted)

    pins = chat.join("C", "team", "cy")["pins"]
    assert [p["excerpt"] for p in pins] == ["final", None]
    assert _pin(chat, "O", deleted)["code"] == "not_found"  # a deleted message is not pinned


def test_a_reply_can_be_pinned_and_long_messages_show_an_excerpt(chat):
    _team(chat)
    parent = _say(chat, "B", "x" * 500, room="team")["messageId"]
    reply = _say(chat, "B", "in the thread", room="team", replyTo=parent)["messageId"]

    _pin(chat, "O", parent)
    _pin(chat, "O", reply, replyTo=parent)

    pins = chat.join("C", "team", "cy")["pins"]
    assert len(pins[0]["excerpt"]) == protocol.EXCERPT_CHARS and pins[0]["excerpt"][-1] == "…"
    assert pins[1]["replyTo"] == parent and pins[1]["excerpt"] == "in the thread"


def test_rooms_without_a_record_have_no_one_who_may_pin(chat):
    chat.users["A"] = "u-a"
    chat.join("A", "lobby", "ana")
    mid = _say(chat, "A", "m")["messageId"]
    assert chat.send("A", action="pin", roomId="lobby", messageId=mid)["code"] == "forbidden"
