"""Mentions: @names resolved by the server against the room's live members (a name no member
has is plain text), @room for the owner and moderators only, and each user's listing across
rooms, which shows only what they may still read and what still names them."""

from __future__ import annotations

import pytest

from roomchat import handlers, protocol
from roomchat.ports import Room
from tests.unit.test_threads import _say

MEMBERS = [("u-ana", "ana"), ("u-ana2", "Ana"), ("u-bo", "bo"), ("u-bob", "bob smith")]


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("hi @bo", ["u-bo"]),
        ("hi @bob smith!", ["u-bob"]),  # the longest name that matches
        ("hi @bob", []),  # "bob" is nobody's name; "bo" is not followed by a word's end
        ("@BO, @bo and @bo", ["u-bo"]),
        ("@ana", ["u-ana", "u-ana2"]),  # names are not unique: each member of that name
        ("mail bo@example.com", []),  # not after a letter
        ("@@bo", []),
        ("(@bo)", ["u-bo"]),
        ("@carol", []),  # not a member: plain text
        ("", []),
    ],
)
def test_names_resolve_against_the_members_given(text, mentioned):
    found, everyone = protocol.resolve_mentions(text, MEMBERS, allow_room=False)
    assert [identity for identity, _ in found] == mentioned and everyone is False


def test_room_is_the_whole_room_only_when_allowed_and_the_author_is_never_mentioned():
    assert protocol.resolve_mentions("@room look", MEMBERS, allow_room=True)[1] is True
    assert protocol.resolve_mentions("@room look", MEMBERS, allow_room=False)[1] is False
    assert protocol.resolve_mentions("@roomy", MEMBERS, allow_room=True)[1] is False
    assert protocol.resolve_mentions("@bo", MEMBERS, False, author="u-bo")[0] == []


def test_a_message_mentions_at_most_a_bounded_number_of_members():
    many = [(f"u{i}", f"m{i}") for i in range(protocol.MENTIONS_MAX + 5)]
    text = " ".join(f"@m{i}" for i in range(protocol.MENTIONS_MAX + 5))
    found, _ = protocol.resolve_mentions(text, many, allow_room=False)
    assert len(found) == protocol.MENTIONS_MAX


def _signed_in(chat, *cids):
    for cid in cids:
        chat.users[cid] = f"u-{cid.lower()}"


def test_a_mention_of_a_member_is_on_the_message_and_in_their_listing(chat):
    _signed_in(chat, "A", "B")
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")

    frame = _say(chat, "A", "@bob look")

    assert frame["mentions"] == [{"userId": "u-b", "name": "bob"}]
    listing = chat.send("B", action="mentions")
    assert [m["messageId"] for m in listing["messages"]] == [frame["messageId"]]
    assert listing["messages"][0]["roomId"] == "lobby" and listing["next"] is None
    assert chat.send("A", action="mentions")["messages"] == []


def test_a_mention_of_a_non_member_creates_no_mention(chat):
    _signed_in(chat, "A", "C")
    chat.join("A", "lobby", "ana")
    chat.join("C", "elsewhere", "carol")  # a user, but not in this room
    before = [i for i in chat.items()["history"] if i["roomId"]["S"].startswith("mention#")]

    frame = _say(chat, "A", "hey @carol")

    assert "mentions" not in frame
    after = [i for i in chat.items()["history"] if i["roomId"]["S"].startswith("mention#")]
    assert after == before == []
    assert chat.send("C", action="mentions")["messages"] == []


def test_room_mentions_are_for_the_owner_and_moderators(chat):
    _signed_in(chat, "O", "M")
    handlers.container().rooms.create_room(Room("team", "u-o", "open", "2026-01-01T00:00:00Z"))
    chat.join("O", "team", "olga")
    chat.join("M", "team", "max")

    by_owner = _say(chat, "O", "@room standup", room="team")
    by_member = _say(chat, "M", "@room lunch", room="team")

    assert by_owner["mentionsRoom"] is True
    assert "mentionsRoom" not in by_member


def test_mentions_list_across_rooms_newest_first_and_page(chat):
    _signed_in(chat, "A", "B")
    for room in ("r1", "r2"):
        chat.join("A", room, "ana")
        chat.join("B", room, "bob")
    sent = [_say(chat, "A", f"@bob {i}", room=("r1", "r2")[i % 2])["messageId"] for i in range(5)]

    first = chat.send("B", action="mentions", limit=3)
    second = chat.send("B", action="mentions", limit=3, before=first["next"])

    assert [m["messageId"] for m in first["messages"]] == sent[:1:-1]
    assert [m["messageId"] for m in second["messages"]] == sent[1::-1]
    assert second["next"] is None
    assert {m["roomId"] for m in first["messages"]} == {"r1", "r2"}


def test_the_listing_follows_edits_deletes_and_who_may_read_the_room(chat):
    _signed_in(chat, "O", "B")
    handlers.container().rooms.create_room(Room("team", "u-o", "private", "2026-01-01T00:00:00Z"))
    chat.send("O", action="invite", roomId="team", userId="u-b")
    chat.join("O", "team", "olga")
    chat.join("B", "team", "bob")
    chat.join("O", "lobby", "olga")
    chat.join("B", "lobby", "bob")
    private = _say(chat, "O", "@bob secret", room="team")["messageId"]
    edited = _say(chat, "O", "@bob one", room="lobby")["messageId"]
    deleted = _say(chat, "O", "@bob two", room="lobby")["messageId"]
    later = _say(chat, "O", "no one", room="lobby")["messageId"]

    chat.send("O", action="edit", roomId="lobby", messageId=edited, message="nobody now")
    chat.send("O", action="delete", roomId="lobby", messageId=deleted)
    chat.send("O", action="edit", roomId="lobby", messageId=later, message="@bob after all")
    chat.send("O", action="uninvite", roomId="team", userId="u-b")

    listing = chat.send("B", action="mentions")
    assert [m["messageId"] for m in listing["messages"]] == [later]
    assert private not in str(listing)


def test_mentions_in_a_reply_are_listed_with_their_thread(chat):
    _signed_in(chat, "A", "B")
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    parent = _say(chat, "B", "p")["messageId"]

    reply = _say(chat, "A", "@bob see", replyTo=parent)

    [listed] = chat.send("B", action="mentions")["messages"]
    assert listed["replyTo"] == parent and listed["messageId"] == reply["messageId"]
