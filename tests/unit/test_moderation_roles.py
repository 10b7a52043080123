"""Room roles in ChatService._may (issue 13 on issue 12's roles): the owner and moderators
delete others' messages, kick, ban and disconnect users; never the owner, a moderator never
another moderator, nobody themselves; edit stays the author's. Through the real handlers and
moto tables, with signed-in users (the authorizer context's sub)."""

from __future__ import annotations

import pytest

USERS = {"O": "u-owner", "M": "u-mod", "M2": "u-mod2", "A": "u-ana", "B": "u-bo"}


@pytest.fixture
def room(chat):
    """Room "club" (open) owned by u-owner, moderators u-mod and u-mod2, everyone joined."""
    chat.users.update(USERS)
    assert chat.send("O", action="createRoom", roomId="club", policy="open")["type"] == (
        "roomCreated"
    )
    for user in ("u-mod", "u-mod2"):
        assert chat.send("O", action="promote", roomId="club", userId=user)["role"] == "moderator"
    for cid in USERS:
        chat.join(cid, "club", cid.lower())
    for cid in USERS:
        chat.sender.take(cid)
    return chat


def _say(chat, cid: str, text: str) -> str:
    assert chat.send(cid, action="sendAll", roomId="club", message=text) is None
    mid = [f for f in chat.sender.take(cid) if f["type"] == "message"][-1]["messageId"]
    for other in USERS:
        chat.sender.take(other)
    return mid


def _delete(chat, cid: str, mid: str):
    return chat.send(cid, action="delete", roomId="club", messageId=mid)


def _code(reply) -> str:
    return "ok" if reply is None or reply.get("type") != "error" else reply["code"]


@pytest.mark.parametrize(
    ("actor", "author", "expected"),
    [
        ("M", "A", "ok"),  # a moderator deletes a member's message
        ("O", "A", "ok"),
        ("O", "M", "ok"),  # the owner deletes a moderator's
        ("M", "M2", "forbidden"),  # never another moderator's
        ("M", "O", "forbidden"),  # never the owner's
        ("B", "A", "forbidden"),  # a member deletes only their own
        ("A", "A", "ok"),
    ],
)
def test_who_may_delete_whose_message(room, actor, author, expected):
    mid = _say(room, author, "words")

    assert _code(_delete(room, actor, mid)) == expected

    page = room.send(actor, action="history", roomId="club")
    text = next(m["message"] for m in page["messages"] if m["messageId"] == mid)
    assert (text is None) == (expected == "ok")


def test_a_deletion_by_a_moderator_names_the_moderator(room):
    mid = _say(room, "A", "spam")
    _delete(room, "M", mid)
    told = [f for f in room.sender.take("A") if f["type"] == "deleted"]
    assert told and told[0]["deletedBy"] == "u-mod"


@pytest.mark.parametrize("actor", ["O", "M"])
def test_edit_stays_the_authors_even_for_owner_and_moderators(room, actor):
    mid = _say(room, "A", "mine")
    reply = room.send(actor, action="edit", roomId="club", messageId=mid, message="theirs now")
    assert _code(reply) == "forbidden"


@pytest.mark.parametrize(
    ("actor", "target", "expected"),
    [
        ("M", "u-ana", "ok"),
        ("O", "u-ana", "ok"),
        ("O", "u-mod", "ok"),
        ("M", "u-mod2", "forbidden"),
        ("M", "u-owner", "forbidden"),
        ("O", "u-owner", "forbidden"),  # not oneself
        ("M", "u-mod", "forbidden"),
        ("B", "u-ana", "forbidden"),
    ],
)
@pytest.mark.parametrize("action", ["kick", "ban", "disconnectUser"])
def test_who_may_kick_ban_and_disconnect_whom(room, action, actor, target, expected):
    frame = {"action": "kick" if action == "ban" else action, "roomId": "club", "userId": target}
    if action == "ban":
        frame["ban"] = "forever"
    target_cid = next(cid for cid, user in USERS.items() if user == target)

    reply = room.send(actor, **frame)

    assert _code(reply) == expected
    members = room.send(actor, action="members", roomId="club")
    gone = target_cid.lower() not in members["members"]
    if action == "disconnectUser":
        assert (target_cid in room.sender.closed) == (expected == "ok")
    else:
        assert gone == (expected == "ok")
    if action == "ban" and expected == "ok":
        again = room.send(target_cid, action="join", roomId="club", name="back")
        assert again["code"] == "forbidden" and "banned" in again["message"]


def test_without_a_room_record_nobody_but_the_operator_moderates(chat):
    chat.users.update({"A": "u-ana", "B": "u-bo"})
    chat.join("A", "plain", "ana")
    chat.join("B", "plain", "bo")
    reply = chat.send("A", action="kick", roomId="plain", userId="u-bo")
    assert reply["code"] == "forbidden"
