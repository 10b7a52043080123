"""Replies and threads through the real handlers: a reply lives in its thread (never in the
room's history unless sent also to the room), its parent counts it, a thread pages by cursor,
follow states and unread counts are per user, and a deleted parent leaves its thread."""

from __future__ import annotations

import pytest

from roomchat import handlers, protocol
from roomchat.ports import Review, ReviewVerdict
from tests.engines import both_engines


def _room(chat, room="lobby"):
    chat.join("A", room, "ana")
    chat.join("B", room, "bob")
    chat.sender.inbox.clear()


def _say(chat, cid, text, room="lobby", **extra) -> dict:
    assert chat.send(cid, action="sendAll", roomId=room, message=text, **extra) is None
    [frame] = [f for f in chat.sender.take(cid) if f["type"] == "message"]
    chat.sender.inbox.clear()
    return frame


@both_engines
def test_a_reply_is_in_its_thread_and_never_in_the_rooms_history(chat):
    _room(chat)
    parent = _say(chat, "A", "lunch?")["messageId"]

    assert chat.send("B", action="sendAll", roomId="lobby", message="yes", replyTo=parent) is None

    [to_a] = chat.sender.take("A")
    assert to_a["type"] == "message" and to_a["replyTo"] == parent
    assert to_a["thread"] == {"replyCount": 1, "lastReplyAt": to_a["sentAt"]}
    history = chat.send("A", action="history", roomId="lobby")
    assert [m["message"] for m in history["messages"]] == ["lunch?"]
    [listed] = history["messages"]
    assert listed["replyCount"] == 1 and listed["lastReplyAt"] == to_a["sentAt"]
    thread = chat.send("A", action="thread", roomId="lobby", messageId=parent)
    assert thread["parent"]["message"] == "lunch?"
    assert [r["message"] for r in thread["replies"]] == ["yes"]
    # nor in joined.recent, nor in the room's unread count
    rejoined = chat.join("C", "lobby", "cy")
    assert [m["message"] for m in rejoined["recent"]] == ["lunch?"]
    assert rejoined["unread"] == 1


def test_a_reply_sent_also_to_the_room_is_in_both_and_changes_in_both(chat):
    _room(chat)
    parent = _say(chat, "A", "plan")["messageId"]
    reply = _say(chat, "B", "agreed", replyTo=parent, alsoToRoom=True)
    assert reply["alsoToRoom"] is True

    chat.send(
        "B", action="edit", roomId="lobby", messageId=reply["messageId"], replyTo=parent,
        message="agreed!",
    )  # fmt: skip
    room_copy = chat.send("A", action="history", roomId="lobby")["messages"][-1]
    thread_copy = chat.send("A", action="thread", roomId="lobby", messageId=parent)["replies"][0]
    assert room_copy == thread_copy
    assert room_copy["message"] == "agreed!" and room_copy["replyTo"] == parent

    chat.send("B", action="delete", roomId="lobby", messageId=reply["messageId"], replyTo=parent)
    room_copy = chat.send("A", action="history", roomId="lobby")["messages"][-1]
    thread_copy = chat.send("A", action="thread", roomId="lobby", messageId=parent)["replies"][0]
    assert room_copy["message"] is None and thread_copy["message"] is None
    assert room_copy["deletedBy"] == thread_copy["deletedBy"]


@both_engines
def test_a_thread_pages_back_by_cursor(chat):
    _room(chat)
    parent = _say(chat, "A", "poll")["messageId"]
    for i in range(5):
        chat.send("B", action="sendAll", roomId="lobby", message=f"r{i}", replyTo=parent)

    newest = chat.send("A", action="thread", roomId="lobby", messageId=parent, limit=2)
    middle = chat.send(
        "A", action="thread", roomId="lobby", messageId=parent, limit=2, before=newest["next"]
    )
    oldest = chat.send(
        "A", action="thread", roomId="lobby", messageId=parent, limit=2, before=middle["next"]
    )

    assert [r["message"] for r in newest["replies"]] == ["r3", "r4"]
    assert [r["message"] for r in middle["replies"]] == ["r1", "r2"]
    assert [r["message"] for r in oldest["replies"]] == ["r0"] and oldest["next"] is None
    assert oldest["parent"]["replyCount"] == 5


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"replyTo": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "not_found"),
        ({"replyTo": "not-an-id"}, "bad_request"),
        ({"alsoToRoom": True}, "bad_request"),
        ({"replyTo": None, "alsoToRoom": "yes"}, "bad_request"),
    ],
)
def test_bad_replies_are_refused_and_write_nothing(chat, extra, code):
    _room(chat)
    before = chat.items()

    reply = chat.send("A", action="sendAll", roomId="lobby", message="x", **extra)

    assert reply["type"] == "error" and reply["code"] == code, reply
    assert chat.items() == before


def test_a_reply_to_a_reply_is_refused(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    reply = _say(chat, "B", "r", replyTo=parent, alsoToRoom=True)["messageId"]

    answer = chat.send("A", action="sendAll", roomId="lobby", message="x", replyTo=reply)

    assert answer["code"] == "bad_request" and parent in answer["message"]


def test_a_deleted_parent_is_a_tombstone_and_its_thread_remains(chat):
    _room(chat)
    parent = _say(chat, "A", "secret plan")["messageId"]
    _say(chat, "B", "reply one", replyTo=parent)

    chat.send("A", action="delete", roomId="lobby", messageId=parent)
    _say(chat, "B", "reply two", replyTo=parent)

    thread = chat.send("A", action="thread", roomId="lobby", messageId=parent)
    assert thread["parent"]["message"] is None and thread["parent"]["replyCount"] == 2
    assert [r["message"] for r in thread["replies"]] == ["reply one", "reply two"]


def test_a_retried_reply_is_stored_and_counted_once(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    for _ in range(3):
        chat.send(
            "B", action="sendAll", roomId="lobby", message="r", replyTo=parent, clientMsgId="k1"
        )

    thread = chat.send("A", action="thread", roomId="lobby", messageId=parent)
    assert len(thread["replies"]) == 1 and thread["parent"]["replyCount"] == 1


def test_the_review_hook_and_the_edit_window_apply_to_replies(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]

    class Deny:
        def review(self, room_id, author_id, sender, text):
            return (
                Review(ReviewVerdict.DENY, reason="not here")
                if "bad" in text
                else Review(ReviewVerdict.ALLOW)
            )

    handlers.container().reviewer = Deny()
    refused = chat.send("B", action="sendAll", roomId="lobby", message="bad", replyTo=parent)
    assert refused["code"] == "rejected"
    reply = _say(chat, "B", "good", replyTo=parent)["messageId"]
    not_theirs = chat.send(
        "A", action="edit", roomId="lobby", messageId=reply, replyTo=parent, message="mine now"
    )
    assert not_theirs["code"] == "forbidden"
    edited = chat.send(
        "B", action="edit", roomId="lobby", messageId=reply, replyTo=parent, message="bad edit"
    )
    assert edited["code"] == "rejected"
    thread = chat.send("A", action="thread", roomId="lobby", messageId=parent)
    assert [r["message"] for r in thread["replies"]] == ["good"]


def test_replying_follows_the_thread_for_the_replier_and_the_parents_author(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    mine = _say(chat, "B", "r1", replyTo=parent)["messageId"]

    for cid in ("A", "B"):
        listing = chat.send(cid, action="threads", roomId="lobby")
        [entry] = listing["threads"]
        assert entry["messageId"] == parent and entry["replyCount"] == 1
    # the replier has read up to their own reply; the author has not read it
    assert chat.send("B", action="threads", roomId="lobby")["threads"][0]["lastRead"] == mine
    assert chat.send("A", action="threads", roomId="lobby")["threads"][0]["unread"] == 1
    # a member who did neither follows nothing
    chat.join("C", "lobby", "cy")
    assert chat.send("C", action="threads", roomId="lobby")["threads"] == []


def test_unfollowing_holds_against_later_replies_and_following_back_restores(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    _say(chat, "B", "r1", replyTo=parent)

    off = chat.send("A", action="follow", roomId="lobby", messageId=parent, remove=True)
    assert off == {"type": "following", "roomId": "lobby", "messageId": parent, "following": False}
    _say(chat, "B", "r2", replyTo=parent)
    assert chat.send("A", action="threads", roomId="lobby")["threads"] == []
    assert chat.send("A", action="thread", roomId="lobby", messageId=parent)["following"] is False

    chat.send("A", action="follow", roomId="lobby", messageId=parent)
    [entry] = chat.send("A", action="threads", roomId="lobby")["threads"]
    assert entry["unread"] == 2


def test_per_thread_unread_counts_are_shared_by_a_users_devices(chat):
    chat.users.update({"A1": "u-ana", "A2": "u-ana"})
    chat.join("A1", "lobby", "ana")
    chat.join("A2", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    parent = _say(chat, "A1", "p")["messageId"]
    replies = [_say(chat, "B", f"r{i}", replyTo=parent)["messageId"] for i in range(3)]
    chat.send("A1", action="follow", roomId="lobby", messageId=parent)

    read = chat.send("A1", action="markRead", roomId="lobby", messageId=replies[1], replyTo=parent)
    back = chat.send("A2", action="markRead", roomId="lobby", messageId=replies[0], replyTo=parent)

    assert read == {"type": "read", "roomId": "lobby", "lastRead": replies[1], "replyTo": parent}
    assert back["lastRead"] == replies[1]  # never moves back
    on_other_device = chat.send("A2", action="thread", roomId="lobby", messageId=parent)
    assert on_other_device["lastRead"] == replies[1] and on_other_device["unread"] == 1
    [entry] = chat.send("A2", action="threads", roomId="lobby")["threads"]
    assert entry["unread"] == 1 and entry["unreadCapped"] is False


def test_thread_unread_counts_stop_at_the_cap(chat):
    # Select=COUNT with Limit: a count reads at most THREAD_UNREAD_CAP + 1 replies.
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]  # its author follows the thread
    for i in range(protocol.THREAD_UNREAD_CAP + 2):
        _say(chat, "B", f"r{i}", replyTo=parent)

    page = chat.send("A", action="thread", roomId="lobby", messageId=parent)
    [entry] = chat.send("A", action="threads", roomId="lobby")["threads"]

    for counted in (page, entry):
        assert counted["unread"] == protocol.THREAD_UNREAD_CAP and counted["unreadCapped"] is True


def test_the_threads_listing_pages_newest_parent_first(chat):
    _room(chat)
    parents = [_say(chat, "A", f"p{i}")["messageId"] for i in range(3)]
    for p in parents:
        chat.send("A", action="follow", roomId="lobby", messageId=p)

    first = chat.send("A", action="threads", roomId="lobby", limit=2)
    second = chat.send("A", action="threads", roomId="lobby", limit=2, before=first["next"])

    assert [t["messageId"] for t in first["threads"]] == parents[:0:-1]
    assert [t["messageId"] for t in second["threads"]] == parents[:1] and second["next"] is None
    assert first["threads"][0]["excerpt"] == "p2"


def test_thread_actions_are_for_readers_of_the_room(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    for frame in (
        {"action": "thread", "messageId": parent},
        {"action": "threads"},
        {"action": "follow", "messageId": parent},
        {"action": "sendAll", "message": "x", "replyTo": parent},
    ):
        answer = chat.send("Z", roomId="lobby", **frame)
        assert answer["code"] == "not_member", frame


def test_reading_a_replys_room_copy_moves_the_rooms_marker_not_the_threads(chat):
    _room(chat)
    parent = _say(chat, "A", "p")["messageId"]
    copy = _say(chat, "B", "r", replyTo=parent, alsoToRoom=True)["messageId"]

    in_room = chat.send("A", action="markRead", roomId="lobby", messageId=copy)
    in_thread = chat.send("A", action="thread", roomId="lobby", messageId=parent)

    assert in_room == {"type": "read", "roomId": "lobby", "lastRead": copy}
    assert in_thread["lastRead"] is None and in_thread["unread"] == 1
