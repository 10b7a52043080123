"""Users, not connections (with auth), and the room actions end to end through the handlers:
a user on two connections, forged and replayed frames, private-room secrecy, uninvite."""

from __future__ import annotations

import json

import pytest

from roomchat import handlers
from tests.unit.conftest import ROUTES, Context


class Users:
    """Frames from signed-in users: the authorizer's context is the only identity."""

    def __init__(self, chat):
        self.chat = chat

    def event(self, cid, user, route, body=None, rooms=""):
        event = self.chat.event(cid, route, body)
        if user is not None:
            ctx = {"principalId": user, "sub": user, "name": user.removeprefix("u-")}
            if rooms:
                ctx["rooms"] = rooms
            event["requestContext"]["authorizer"] = ctx
        return event

    def connect(self, cid, user, rooms=""):
        assert handlers.on_connect(self.event(cid, user, "$connect", rooms=rooms), Context())[
            "statusCode"
        ] == 200  # fmt: skip

    def send(self, cid, user, rooms="", **frame):
        event = self.event(cid, user, frame["action"], json.dumps(frame), rooms=rooms)
        response = ROUTES[frame["action"]](event, Context())
        return json.loads(response["body"]) if "body" in response else None

    def disconnect(self, cid, user):
        handlers.on_disconnect(self.event(cid, user, "$disconnect"), Context())


@pytest.fixture
def users(chat):
    return Users(chat)


def presence(sender, cid):
    return [(f["event"], f["name"]) for f in sender.take(cid) if f["type"] == "presence"]


def test_a_user_on_two_connections_is_one_member_with_one_join_and_one_leave(users, sender):
    users.send("B1", "u-bo", action="join", roomId="lobby")
    sender.take("B1")

    first = users.send("A1", "u-ana", action="join", roomId="lobby")
    second = users.send("A2", "u-ana", action="join", roomId="lobby")  # her phone

    assert first["members"] == second["members"] == 2
    assert presence(sender, "B1") == [("join", "ana")]  # once, on her first connection
    assert users.send("B1", "u-bo", action="members", roomId="lobby")["members"] == ["bo", "ana"]

    users.disconnect("A1", "u-ana")
    assert presence(sender, "B1") == []  # still there on A2
    users.send("A2", "u-ana", action="leave", roomId="lobby")
    assert presence(sender, "B1") == [("leave", "ana")]  # her last connection left


def test_without_auth_each_connection_is_still_a_member(chat, sender):
    chat.join("B1", "lobby", "bo")
    chat.join("A1", "lobby", "ana")
    chat.join("A2", "lobby", "ana")
    assert chat.send("B1", action="members", roomId="lobby")["members"] == ["bo", "ana", "ana"]


def test_a_frame_naming_another_user_does_nothing(users, sender):
    """Identity comes from the authorizer context only: userId/sub/owner fields in a frame
    are ignored or refused, never believed."""
    assert users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")[
        "owner"
    ] == "u-owner"  # fmt: skip

    forged = [
        users.send("M", "u-mallory", action="join", roomId="team", userId="u-owner"),
        users.send("M", "u-mallory", action="join", roomId="team", sub="u-owner", owner=True),
        users.send("M", "u-mallory", action="invite", roomId="team", userId="u-mallory"),
        users.send("M", "u-mallory", action="promote", roomId="team", userId="u-mallory"),
        users.send("M", None, action="invite", roomId="team", userId="u-mallory"),
    ]

    assert [f["code"] for f in forged] == ["forbidden"] * 5
    assert users.send("M", "u-mallory", action="history", roomId="team")["code"] == "not_member"


def test_a_replayed_frame_from_another_connection_acts_as_that_connection(users, sender):
    """A captured invite replayed on a stranger's connection runs with the stranger's rights."""
    users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")
    frame = {"action": "invite", "roomId": "team", "userId": "u-eve"}
    assert users.send("O", "u-owner", **frame)["role"] == "member"

    replay = users.send("E", "u-eve", **{**frame, "userId": "u-eve-friend"})

    assert replay["code"] == "forbidden"
    assert users.send("E2", "u-eve-friend", action="join", roomId="team")["code"] == "forbidden"


def test_private_room_flow_invite_join_and_a_third_user_sees_nothing(users, sender):
    users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")
    users.send("O", "u-owner", action="join", roomId="team")
    users.send("O", "u-owner", action="sendAll", roomId="team", message="secret plan")
    users.send("O", "u-owner", action="invite", roomId="team", userId="u-bo")

    joined = users.send("B", "u-bo", action="join", roomId="team")
    refused = users.send("C", "u-cy", action="join", roomId="team")

    assert [m["message"] for m in joined["recent"]] == ["secret plan"]
    assert refused["code"] == "forbidden" and "secret" not in json.dumps(refused)
    for action in ("history", "members", "leave"):
        answer = users.send("C", "u-cy", action=action, roomId="team")
        ghost = users.send("C", "u-cy", action=action, roomId="no-such-room")
        assert answer["code"] == ghost["code"] == "not_member"
        assert answer["message"] == ghost["message"].replace("no-such-room", "team")
    assert sender.take("C") == []


def test_a_token_grant_opens_a_private_room(users):
    users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")
    assert users.send("G", "u-gil", rooms="x,team", action="join", roomId="team")["type"] == (
        "joined"
    )
    assert users.send("H", "u-hal", rooms="x", action="join", roomId="team")["code"] == (
        "forbidden"
    )


def test_uninvite_removes_the_users_connections_from_a_private_room(users, sender):
    users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")
    users.send("O", "u-owner", action="join", roomId="team")
    users.send("O", "u-owner", action="invite", roomId="team", userId="u-bo")
    users.send("B1", "u-bo", action="join", roomId="team")
    users.send("B2", "u-bo", action="join", roomId="team")
    sender.take("O")

    answer = users.send("O", "u-owner", action="uninvite", roomId="team", userId="u-bo")
    users.send("O", "u-owner", action="sendAll", roomId="team", message="after")

    assert answer == {"type": "role", "roomId": "team", "userId": "u-bo", "role": None}
    assert {"type": "left", "roomId": "team"} in sender.take("B1")
    assert all(f.get("message") != "after" for f in sender.take("B2"))
    assert presence(sender, "O") == [("leave", "bo")]
    assert users.send("B1", "u-bo", action="join", roomId="team")["code"] == "forbidden"


def test_announce_room_only_owner_and_moderators_post(users, sender):
    users.send("O", "u-owner", action="createRoom", roomId="news", policy="announce")
    for cid, user in (("O", "u-owner"), ("M", "u-mod"), ("R", "u-reader")):
        users.send(cid, user, action="join", roomId="news")
    users.send("O", "u-owner", action="promote", roomId="news", userId="u-mod")

    assert users.send("M", "u-mod", action="sendAll", roomId="news", message="hi") is None
    assert users.send("R", "u-reader", action="sendAll", roomId="news", message="x")["code"] == (
        "forbidden"
    )
    users.send("O", "u-owner", action="demote", roomId="news", userId="u-mod")
    assert users.send("M", "u-mod", action="sendAll", roomId="news", message="y")["code"] == (
        "forbidden"
    )


def test_create_room_takes_only_an_unused_id(users, chat):
    chat.join("X", "busy", "xavier")
    created = users.send("O", "u-owner", action="createRoom", roomId="fresh", policy="announce")

    assert created["type"] == "roomCreated" and created["policy"] == "announce"
    assert users.send("P", "u-pat", action="createRoom", roomId="fresh")["code"] == "forbidden"
    assert users.send("P", "u-pat", action="createRoom", roomId="busy")["code"] == "forbidden"
    bad = users.send("P", "u-pat", action="createRoom", roomId="new", policy="secret")
    assert bad["code"] == "bad_request"


def test_the_owners_role_cannot_change(users):
    users.send("O", "u-owner", action="createRoom", roomId="team", policy="private")
    users.send("O", "u-owner", action="promote", roomId="team", userId="u-mod")
    for action in ("uninvite", "demote"):
        answer = users.send("M", "u-mod", action=action, roomId="team", userId="u-owner")
        assert answer["code"] == "forbidden"
    answer = users.send("M", "u-mod", action="uninvite", roomId="team", userId="u-mod2")
    assert answer["role"] is None


# ----- rooms the operator grants (GRANTED_ROOM_PREFIX, "org:" by default) ------------------------


def test_nobody_takes_a_room_the_operator_grants_before_its_people_arrive(users):
    """Anyone signed in could createRoom an unused id, including one the operator's tokens
    grant: the squatter became its owner (moderating, reading, banning the people it was
    for). Ids in the operator's namespace are refused, with or without a claim."""
    for cid, user, rooms in (("E", "u-eve", ""), ("G", "u-gil", "org:eng")):
        answer = users.send(cid, user, rooms=rooms, action="createRoom", roomId="org:eng")
        assert answer["code"] == "forbidden" and "granted by the operator" in answer["message"]
    assert users.send("E", "u-eve", action="createRoom", roomId="eng")["type"] == "roomCreated"


def test_a_granted_room_without_a_record_is_private_to_the_users_granted_it(users, sender):
    joined = users.send("G", "u-gil", rooms="org:eng", action="join", roomId="org:eng")
    assert joined["type"] == "joined"
    users.send("G", "u-gil", rooms="org:eng", action="sendAll", roomId="org:eng", message="plan")
    refused = users.send("E", "u-eve", action="join", roomId="org:eng")
    assert refused["code"] == "forbidden"  # as a private room answers a stranger
    assert users.send("E", "u-eve", action="history", roomId="org:eng")["code"] == "not_member"
    assert all(f.get("message") != "plan" for f in sender.take("E"))


def test_without_a_namespace_granted_ids_are_ordinary_room_ids(users, chat):
    from dataclasses import replace

    container = handlers.container()
    container.settings = replace(container.settings, granted_room_prefix="")
    created = users.send("E", "u-eve", action="createRoom", roomId="org:eng")
    assert created["type"] == "roomCreated"


# ----- disconnectUser acts in the room, not in the user's other rooms -----------------------------


@pytest.fixture
def club(users, sender):
    """Room "club" owned by u-owner; u-bo is in it on B1 (club only) and B2 (club and
    "elsewhere", a room the owner has nothing to do with)."""
    users.send("O", "u-owner", action="createRoom", roomId="club", policy="open")
    users.send("O", "u-owner", action="join", roomId="club")
    for cid in ("B1", "B2"):
        users.send(cid, "u-bo", action="join", roomId="club")
    users.send("B2", "u-bo", action="join", roomId="elsewhere")
    users.send("W", "u-wen", action="join", roomId="elsewhere")
    for cid in ("O", "B1", "B2", "W"):
        sender.take(cid)
    return users


def test_an_owners_disconnect_user_leaves_the_users_other_rooms_alone(club, sender):
    """Before, it closed every connection of the user found in the room, so B2 left
    "elsewhere" too, and again each time the user came back to the room."""
    answer = club.send("O", "u-owner", action="disconnectUser", roomId="club", userId="u-bo")

    assert answer["type"] == "disconnected" and answer["connections"] == 2
    assert sender.closed == ["B1"]  # in the club alone: closed
    assert {"type": "left", "roomId": "club"} in sender.take("B2")  # only out of the club
    said = club.send("B2", "u-bo", action="sendAll", roomId="elsewhere", message="still here")
    assert said is None
    assert [f["message"] for f in sender.take("W") if f["type"] == "message"] == ["still here"]
    assert club.send("B2", "u-bo", action="members", roomId="club")["code"] == "not_member"
