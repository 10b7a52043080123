"""Issue 13: the life of a message (delete, edit), typing, read markers, the review hook, and
kick/ban/disconnect-a-user behind ChatService._may, through the real handlers and moto tables."""

from __future__ import annotations

import json
import time

import pytest

from roomchat import handlers, protocol
from roomchat.adapters.review import LambdaReviewer
from roomchat.ports import Ban, Message, Review, ReviewVerdict
from roomchat.ulid import UlidGenerator
from roomchat.usecases import OPERATOR, ChatService, iso_ms


def _service(chat) -> ChatService:
    c = handlers.container()
    return ChatService(
        c.rooms,
        c.history,
        chat.sender,
        c.settings,
        limiter=c.limiter,
        moderation=c.moderation,
        reviewer=c.reviewer,
    )


def _room_pair(chat, room="lobby"):
    chat.join("A", room, "ana")
    chat.join("B", room, "bob")
    chat.sender.take("A")
    chat.sender.take("B")


def _say(chat, cid, text, room="lobby") -> str:
    assert chat.send(cid, action="sendAll", roomId=room, message=text) is None
    frames = [f for f in chat.sender.take(cid) if f["type"] == "message"]
    for other in list(chat.sender.inbox):  # everyone has seen it; tests look at what follows
        chat.sender.take(other)
    return frames[-1]["messageId"]


# ---------------------------------------------------------------------------- delete


def test_deleting_own_message_leaves_a_tombstone_whose_text_is_gone_everywhere(chat):
    # given
    _room_pair(chat)
    mid = _say(chat, "A", "my secret password")
    _say(chat, "B", "after it")
    chat.sender.take("A")
    # when
    reply = chat.send("A", action="delete", roomId="lobby", messageId=mid)
    # then: the room is told, the sender's ack is the same frame
    assert reply is None
    told = chat.sender.take("B")
    assert [f["type"] for f in told] == ["deleted"]
    assert told[0]["messageId"] == mid and told[0]["deletedBy"] == "A" and told[0]["deletedAt"]
    assert chat.sender.take("A") == told
    # the DynamoDB item itself has no text, and keeps who and when
    item = next(i for i in chat.history_items("lobby") if i["messageId"]["S"] == mid)
    assert "message" not in item
    assert item["deletedBy"] == {"S": "A"} and "deletedAt" in item
    # every later read shows the tombstone without the text
    page = chat.send("A", action="history", roomId="lobby")
    tomb = next(m for m in page["messages"] if m["messageId"] == mid)
    assert tomb["message"] is None and tomb["deletedBy"] == "A"
    older = chat.send(
        "B", action="history", roomId="lobby", limit=1, before=page["messages"][-1]["messageId"]
    )
    assert older["messages"][0]["messageId"] == mid and older["messages"][0]["message"] is None
    recent = chat.join("C", "lobby", "cy")["recent"]
    assert any(m["messageId"] == mid and m["message"] is None for m in recent)
    everything = json.dumps([page, older, recent, chat.items()])
    assert "secret password" not in everything


def test_deleting_a_tombstone_again_changes_nothing_and_answers_it(chat):
    _room_pair(chat)
    mid = _say(chat, "A", "oops")
    chat.send("A", action="delete", roomId="lobby", messageId=mid)
    first = chat.sender.take("A")[0]
    before = chat.items()

    again = chat.send("A", action="delete", roomId="lobby", messageId=mid)

    assert again == first
    assert chat.items() == before
    assert chat.sender.take("B") == [first]  # only the first delete was announced


@pytest.mark.parametrize(
    ("who", "frame", "code"),
    [
        ("B", {"messageId": "MINE"}, "forbidden"),  # another's message
        ("Z", {"messageId": "MINE"}, "not_member"),
        ("A", {"messageId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "not_found"),
        ("A", {"messageId": "nope"}, "bad_request"),
        ("A", {}, "bad_request"),
    ],
)
def test_refused_deletes_write_nothing(chat, who, frame, code):
    _room_pair(chat)
    mid = _say(chat, "A", "keep me")
    if frame.get("messageId") == "MINE":
        frame = {**frame, "messageId": mid}
    before = chat.items()

    reply = chat.send(who, action="delete", roomId="lobby", **frame)

    assert reply["type"] == "error" and reply["code"] == code, reply
    assert chat.items() == before
    assert chat.sender.take("B") == []


def test_a_user_deletes_from_a_second_device_what_the_first_sent(chat):
    """Own-message checks compare authorId: the token's user id on every device."""
    chat.users.update({"A1": "user-ana", "A2": "user-ana", "B": "user-bob"})
    chat.join("A1", "lobby", "ana")
    chat.join("A2", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    mid = _say(chat, "A1", "from my phone")

    assert chat.send("B", action="delete", roomId="lobby", messageId=mid)["code"] == "forbidden"
    assert chat.send("A2", action="delete", roomId="lobby", messageId=mid) is None

    frames = [f for f in chat.sender.take("B") if f["type"] == "deleted"]
    assert frames[0]["deletedBy"] == "user-ana"
    item = next(i for i in chat.history_items("lobby") if i["messageId"]["S"] == mid)
    assert item["authorId"] == {"S": "user-ana"} and item["connectionId"] == {"S": "A1"}


def test_the_operator_may_delete_any_message(chat):
    _room_pair(chat)
    mid = _say(chat, "A", "spam")

    frame = _service(chat).delete(OPERATOR, protocol.MessageRef("lobby", mid))

    assert frame["type"] == "deleted" and frame["deletedBy"] == "operator"
    assert chat.sender.take("B") == [frame]


# ---------------------------------------------------------------------------- edit


def test_editing_own_message_keeps_its_place_and_tells_the_room(chat):
    _room_pair(chat)
    first = _say(chat, "A", "helo")
    second = _say(chat, "B", "hi ana")
    chat.sender.take("B")

    assert chat.send("A", action="edit", roomId="lobby", messageId=first, message="hello") is None

    told = chat.sender.take("B")
    assert [f["type"] for f in told] == ["edited"]
    assert told[0]["message"] == "hello" and told[0]["editedAt"]
    page = chat.send("A", action="history", roomId="lobby")["messages"]
    assert [m["messageId"] for m in page] == [first, second]
    assert page[0]["message"] == "hello" and page[0]["editedAt"] == told[0]["editedAt"]


def test_edits_after_the_window_are_refused(chat):
    _room_pair(chat)
    old_ms = time.time_ns() // 1_000_000 - 3600_000
    old = Message("lobby", UlidGenerator()(old_ms), iso_ms(old_ms), "ana", "old", author_id="A")
    handlers.container().history.append(old, None, 0)
    before = chat.items()

    reply = chat.send("A", action="edit", roomId="lobby", messageId=old.message_id, message="new")

    assert reply["code"] == "forbidden" and "900 seconds" in reply["message"]
    assert chat.items() == before


@pytest.mark.parametrize(
    ("who", "extra", "code"),
    [
        ("B", {"message": "mine now"}, "forbidden"),
        ("A", {"message": "x" * 40_000}, "too_large"),
        ("A", {"message": ""}, "bad_request"),
        ("A", {}, "bad_request"),
    ],
)
def test_refused_edits_write_nothing(chat, who, extra, code):
    _room_pair(chat)
    mid = _say(chat, "A", "original")
    before = chat.items()

    reply = chat.send(who, action="edit", roomId="lobby", messageId=mid, **extra)

    assert reply["code"] == code, reply
    assert chat.items() == before


def test_a_deleted_message_cannot_be_edited_back(chat):
    _room_pair(chat)
    mid = _say(chat, "A", "gone")
    chat.send("A", action="delete", roomId="lobby", messageId=mid)

    reply = chat.send("A", action="edit", roomId="lobby", messageId=mid, message="back")

    assert reply["code"] == "not_found"
    item = next(i for i in chat.history_items("lobby") if i["messageId"]["S"] == mid)
    assert "message" not in item


# ---------------------------------------------------------------------------- typing


def test_typing_reaches_the_other_members_only_and_is_not_stored(chat):
    _room_pair(chat)
    chat.join("X", "elsewhere", "xi")
    chat.sender.take("X")
    stored = chat.history_items("lobby")

    assert chat.send("A", action="typing", roomId="lobby") is None

    assert chat.sender.take("B") == [
        {"type": "typing", "roomId": "lobby", "name": "ana", "userId": "A"}
    ]
    assert chat.sender.take("A") == [] and chat.sender.take("X") == []
    assert chat.history_items("lobby") == stored


def test_typing_is_rate_limited_apart_from_messages(chat):
    _room_pair(chat)
    replies = [chat.send("A", action="typing", roomId="lobby") for _ in range(6)]

    assert any(r and r["code"] == "rate_limited" for r in replies)
    assert chat.send("A", action="sendAll", roomId="lobby", message="still fine") is None


def test_typing_needs_membership(chat):
    assert chat.send("Z", action="typing", roomId="lobby")["code"] == "not_member"


# ---------------------------------------------------------------------------- read markers


def test_read_markers_agree_across_two_connections_of_one_user(chat):
    chat.users.update({"A1": "user-ana", "A2": "user-ana"})
    chat.join("A1", "lobby", "ana")
    ids = [_say(chat, "A1", f"m{i}") for i in range(5)]

    reply = chat.send("A1", action="markRead", roomId="lobby", messageId=ids[1])

    assert reply == {"type": "read", "roomId": "lobby", "lastRead": ids[1]}
    joined = chat.join("A2", "lobby", "ana")
    assert joined["lastRead"] == ids[1] and joined["unread"] == 3
    assert joined["unreadCapped"] is False and joined["you"] == "user-ana"
    again = chat.join("A1", "lobby", "ana")
    assert (again["lastRead"], again["unread"]) == (ids[1], 3)


def test_a_read_marker_never_moves_back(chat):
    chat.join("A", "lobby", "ana")
    ids = [_say(chat, "A", f"m{i}") for i in range(3)]
    chat.send("A", action="markRead", roomId="lobby", messageId=ids[2])

    reply = chat.send("A", action="markRead", roomId="lobby", messageId=ids[0])

    assert reply["lastRead"] == ids[2]
    assert chat.join("A", "lobby", "ana")["unread"] == 0


def test_unread_counts_stop_at_the_cap(chat):
    chat.join("A", "lobby", "ana")
    for i in range(protocol.UNREAD_CAP + 5):
        chat.send("A", action="sendAll", roomId="lobby", message=f"m{i}")

    joined = chat.join("B", "lobby", "bob")

    assert joined["lastRead"] is None
    assert joined["unread"] == protocol.UNREAD_CAP and joined["unreadCapped"] is True


def test_marking_an_unknown_message_is_refused(chat):
    chat.join("A", "lobby", "ana")
    before = chat.items()

    reply = chat.send("A", action="markRead", roomId="lobby", messageId=UlidGenerator()(1))

    assert reply["code"] == "not_found"
    assert chat.items() == before


# ---------------------------------------------------------------------------- review hook


class FixedReviewer:
    def __init__(self, review: Review):
        self.answer = review
        self.seen: list[str] = []

    def review(self, room_id, author_id, sender, text):
        self.seen.append(text)
        return self.answer


def test_a_denied_message_is_refused_with_the_hooks_reason_and_not_stored(chat):
    _room_pair(chat)
    handlers.container().reviewer = FixedReviewer(Review(ReviewVerdict.DENY, "no shouting"))

    reply = chat.send("A", action="sendAll", roomId="lobby", message="HEY")

    assert reply["code"] == "rejected" and reply["message"] == "no shouting"
    # reviewed after the rate limit (a flood must not reach the hook), so only the
    # connection's rate counter moved: no history item, no delivery
    assert chat.history_items("lobby") == [] and chat.sender.take("B") == []


def test_a_replaced_message_is_stored_and_delivered_as_replaced(chat):
    _room_pair(chat)
    handlers.container().reviewer = FixedReviewer(Review(ReviewVerdict.REPLACE, text="h*ck"))

    chat.send("A", action="sendAll", roomId="lobby", message="heck")

    assert chat.sender.take("B")[0]["message"] == "h*ck"
    assert [i["message"]["S"] for i in chat.history_items("lobby")] == ["h*ck"]


def test_edits_are_reviewed_too(chat):
    _room_pair(chat)
    mid = _say(chat, "A", "fine")
    handlers.container().reviewer = FixedReviewer(Review(ReviewVerdict.DENY, "nope"))

    assert (
        chat.send("A", action="edit", roomId="lobby", messageId=mid, message="bad")["code"]
        == "rejected"
    )


class FakeLambda:
    def __init__(self, answer=None, error: Exception | None = None, function_error=None):
        self.answer, self.error, self.function_error = answer, error, function_error
        self.calls = []

    def invoke(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error

        class Body:
            def read(_self):
                return json.dumps(self.answer).encode()

        resp = {"StatusCode": 200, "Payload": Body()}
        if self.function_error:
            resp["FunctionError"] = self.function_error
        return resp


@pytest.mark.parametrize("fallback", ["allow", "deny"])
@pytest.mark.parametrize(
    "client",
    [
        FakeLambda(error=TimeoutError("read timeout")),
        FakeLambda(answer={"errorMessage": "boom"}, function_error="Unhandled"),
        FakeLambda(answer={"verdict": "maybe"}),
    ],
    ids=["timeout", "function_error", "bad_answer"],
)
def test_a_failing_hook_decides_the_configured_fallback(client, fallback):
    review = LambdaReviewer(client, "arn:aws:lambda:us-east-1:1:function:hook", fallback).review(
        "lobby", "A", "ana", "hi"
    )

    assert review.verdict is (ReviewVerdict.ALLOW if fallback == "allow" else ReviewVerdict.DENY)
    assert client.calls[0]["InvocationType"] == "RequestResponse"
    assert json.loads(client.calls[0]["Payload"]) == {
        "roomId": "lobby",
        "authorId": "A",
        "sender": "ana",
        "message": "hi",
    }


# ---------------------------------------------------------------------------- kick, ban, disconnect


def test_members_may_not_kick_ban_or_disconnect_until_roles_exist(chat):
    _room_pair(chat)
    before = chat.items()

    for frame in (
        {"action": "kick", "roomId": "lobby", "userId": "B"},
        {"action": "kick", "roomId": "lobby", "userId": "B", "ban": "forever"},
        {"action": "disconnectUser", "roomId": "lobby", "userId": "B"},
    ):
        assert chat.send("A", **frame)["code"] == "forbidden"

    assert chat.items() == before and chat.sender.closed == []


def test_a_banned_users_second_device_cannot_rejoin(chat):
    chat.users.update({"M1": "user-mal", "M2": "user-mal", "M3": "user-mal"})
    chat.join("B", "lobby", "bob")
    chat.join("M1", "lobby", "mal")
    chat.join("M2", "lobby", "mal")
    chat.sender.take("B")

    frame = _service(chat).kick(OPERATOR, protocol.KickRequest("lobby", "user-mal", 3600, False))

    assert frame["banned"] is True and frame["names"] == ["mal"] and frame["bannedUntil"]
    assert chat.memberships() == {("lobby", "B")}
    assert chat.sender.take("B") == [frame] and chat.sender.take("M2") == [frame]
    for device in ("M1", "M3"):
        reply = chat.send(device, action="join", roomId="lobby", name="mal")
        assert reply["code"] == "forbidden" and "banned" in reply["message"]
    assert chat.memberships() == {("lobby", "B")}
    assert chat.join("M3", "other", "mal")["type"] == "joined"  # one room only


def test_a_ban_ends_when_its_time_is_up(chat):
    chat.users["M"] = "user-mal"
    past = time.time_ns() // 1_000_000_000 - 1
    handlers.container().moderation.put_ban(Ban("lobby", "user-mal", past, "operator"))

    assert chat.join("M", "lobby", "mal")["type"] == "joined"


def test_a_kick_without_ban_lets_the_user_rejoin(chat):
    _room_pair(chat)

    _service(chat).kick(OPERATOR, protocol.KickRequest("lobby", "B", None, False))

    assert chat.memberships() == {("lobby", "A")}
    assert chat.join("B", "lobby", "bob")["type"] == "joined"


def test_disconnecting_a_user_closes_every_connection_of_theirs(chat):
    chat.users.update({"M1": "user-mal", "M2": "user-mal"})
    chat.join("B", "lobby", "bob")
    chat.join("M1", "lobby", "mal")
    chat.join("M2", "lobby", "mal")

    frame = _service(chat).disconnect_user(OPERATOR, protocol.UserRequest("lobby", "user-mal"))

    assert frame == {"type": "disconnected", "userId": "user-mal", "connections": 2}
    assert sorted(chat.sender.closed) == ["M1", "M2"]


@pytest.mark.parametrize(
    "frame",
    [
        {"userId": ""},
        {"userId": "B", "ban": -5},
        {"userId": "B", "ban": "tomorrow"},
        {},
    ],
)
def test_malformed_kicks_are_bad_requests(chat, frame):
    _room_pair(chat)
    assert chat.send("A", action="kick", roomId="lobby", **frame)["code"] == "bad_request"
