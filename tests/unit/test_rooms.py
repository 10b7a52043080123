"""Join, leave, members, presence and disconnect, through the real handlers and moto tables."""

from __future__ import annotations

import json

from roomchat import handlers
from roomchat.settings import CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS
from tests.unit.conftest import Context


def test_join_replies_joined_with_member_count_and_recent(chat):
    chat.join("A", "lobby", "ana")
    chat.send("A", action="sendAll", roomId="lobby", message="first")

    reply = chat.join("B", "lobby", "bob")

    assert reply["roomId"] == "lobby"
    assert reply["name"] == "bob"
    assert reply["members"] == 2
    assert [m["message"] for m in reply["recent"]] == ["first"]


def test_join_announces_presence_to_the_others_only(chat):
    chat.join("A", "lobby", "ana")
    chat.sender.take("A")

    chat.join("B", "lobby", "bob")

    assert chat.sender.take("A") == [
        {"type": "presence", "event": "join", "roomId": "lobby", "name": "bob"}
    ]
    assert chat.sender.take("B") == []


def test_join_writes_membership_with_ttl_past_the_connection_limit(chat):
    chat.join("A", "lobby", "ana")

    item = chat.db.get_item(
        TableName="rooms", Key={"roomId": {"S": "lobby"}, "connectionId": {"S": "A"}}
    )["Item"]
    assert item["name"] == {"S": "ana"}
    assert item["joinedAt"]["S"].endswith("Z")
    expected = chat.connected_at // 1000 + CONNECTION_MAX_SECONDS + TTL_MARGIN_SECONDS
    assert int(item["expiresAt"]["N"]) == expected


def test_rejoin_does_not_announce_again(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.sender.take("A")

    reply = chat.join("B", "lobby", "bob")

    assert reply["members"] == 2
    assert chat.sender.take("A") == []


def test_rejoin_under_a_new_name_announces_old_leaving_and_new_joining(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.sender.take("A")

    chat.join("B", "lobby", "robert")

    assert chat.sender.take("A") == [
        {"type": "presence", "event": "leave", "roomId": "lobby", "name": "bob"},
        {"type": "presence", "event": "join", "roomId": "lobby", "name": "robert"},
    ]
    assert chat.send("A", action="members", roomId="lobby")["members"] == ["ana", "robert"]


def test_name_from_connect_query_is_the_default_for_join(chat):
    assert chat.connect("A", name="ana")["statusCode"] == 200

    reply = chat.send("A", action="join", roomId="lobby")

    assert reply["type"] == "joined" and reply["name"] == "ana"


def test_join_without_any_name_is_a_bad_request_and_writes_nothing(chat):
    before = chat.items()

    reply = chat.send("A", action="join", roomId="lobby")

    assert reply["code"] == "bad_request" and "name" in reply["message"]
    assert chat.items() == before


def test_connect_with_an_invalid_name_rejects_the_handshake(chat):
    response = chat.connect("A", name="x" * 33)

    assert response["statusCode"] == 400
    assert chat.items()["rooms"] == []


def test_connect_without_name_accepts_and_writes_nothing(chat):
    assert chat.connect("A")["statusCode"] == 200
    assert chat.items() == {"rooms": [], "history": []}


def test_leave_replies_left_and_tells_the_others(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.sender.take("A")

    reply = chat.send("B", action="leave", roomId="lobby")

    assert reply == {"type": "left", "roomId": "lobby"}
    assert chat.sender.take("A") == [
        {"type": "presence", "event": "leave", "roomId": "lobby", "name": "bob"}
    ]
    assert chat.send("A", action="members", roomId="lobby")["members"] == ["ana"]


def test_leave_when_not_a_member_is_refused(chat):
    reply = chat.send("A", action="leave", roomId="lobby")

    assert reply["code"] == "not_member"
    assert reply["action"] == "leave" and reply["roomId"] == "lobby"


def test_members_lists_names_in_join_order(chat):
    chat.join("Z", "lobby", "zed")
    chat.join("A", "lobby", "ana")

    reply = chat.send("A", action="members", roomId="lobby")

    assert reply == {"type": "members", "roomId": "lobby", "members": ["zed", "ana"]}


def test_members_skips_memberships_past_their_ttl(chat):
    # given a ghost whose $disconnect was missed and whose TTL has passed (DynamoDB deletes
    # expired items only eventually)
    chat.join("A", "lobby", "ana")
    chat.db.put_item(
        TableName="rooms",
        Item={
            "roomId": {"S": "lobby"},
            "connectionId": {"S": "ghost"},
            "name": {"S": "ghost"},
            "joinedAt": {"S": "2020-01-01T00:00:00.000Z"},
            "expiresAt": {"N": "1577840000"},
        },
    )

    assert chat.send("A", action="members", roomId="lobby")["members"] == ["ana"]
    # and the ghost is not a member either
    assert chat.send("ghost", action="members", roomId="lobby")["code"] == "not_member"


def test_members_of_a_room_you_are_not_in_is_refused(chat):
    chat.join("A", "lobby", "ana")

    assert chat.send("B", action="members", roomId="lobby")["code"] == "not_member"


def test_disconnect_leaves_every_room_and_tells_each(chat):
    chat.connect("A", name="ana")
    chat.join("A", "lobby", "ana")
    chat.join("A", "dev", "ana")
    chat.join("B", "lobby", "bob")
    chat.join("C", "dev", "cy")
    chat.sender.take("B")
    chat.sender.take("C")

    assert chat.disconnect("A")["statusCode"] == 200

    assert chat.sender.take("B") == [
        {"type": "presence", "event": "leave", "roomId": "lobby", "name": "ana"}
    ]
    assert chat.sender.take("C") == [
        {"type": "presence", "event": "leave", "roomId": "dev", "name": "ana"}
    ]
    assert chat.memberships() == {("lobby", "B"), ("dev", "C")}
    assert chat.connection_item("A", record=False) is None  # the profile (name) is gone
    record = chat.connection_item("A")  # the record stays, closed, until its TTL
    assert record["gone"] == {"BOOL": True} and int(record["expiresAt"]["N"]) > 0


def test_disconnect_of_a_connection_in_no_room_is_harmless(chat):
    assert chat.disconnect("nobody")["statusCode"] == 200


def test_ping_answers_pong(chat):
    assert chat.send("A", action="ping") == {"type": "pong"}


def test_binary_frame_is_decoded_like_text(chat):
    import base64

    body = base64.b64encode(json.dumps({"action": "ping"}).encode()).decode()
    event = chat.event("A", "ping", body, isBase64Encoded=True)

    assert json.loads(handlers.on_ping(event, Context())["body"]) == {"type": "pong"}
