"""sendAll and history: room scope, write-before-fan-out, idempotency, paging, pruning."""

from __future__ import annotations

import pytest

from roomchat.ulid import is_ulid
from tests.engines import both_engines


def test_send_reaches_every_member_of_the_room_sender_included(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.sender.take("A")

    reply = chat.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="c1")

    assert reply is None  # the fanned-out frame is the acknowledgement
    [to_a] = chat.sender.take("A")
    [to_b] = chat.sender.take("B")
    assert to_a == to_b
    assert to_a["type"] == "message"
    assert to_a["roomId"] == "lobby" and to_a["message"] == "hi"
    assert to_a["sender"] == "ana" and to_a["clientMsgId"] == "c1"
    assert is_ulid(to_a["messageId"]) and to_a["sentAt"].endswith("Z")


def test_send_is_room_scoped(chat):
    chat.join("A", "room-a", "ana")
    chat.join("B", "room-b", "bob")
    chat.sender.take("A")
    chat.sender.take("B")

    chat.send("A", action="sendAll", roomId="room-a", message="only a")

    assert [f["message"] for f in chat.sender.take("A")] == ["only a"]
    assert chat.sender.take("B") == []


def test_a_connection_in_two_rooms_gets_each_rooms_messages(chat):
    chat.join("A", "one", "ana")
    chat.join("A", "two", "ana")
    chat.join("B", "one", "bob")
    chat.join("C", "two", "cy")
    for cid in "ABC":
        chat.sender.take(cid)

    chat.send("B", action="sendAll", roomId="one", message="to one")
    chat.send("C", action="sendAll", roomId="two", message="to two")

    assert [(f["roomId"], f["message"]) for f in chat.sender.take("A")] == [
        ("one", "to one"),
        ("two", "to two"),
    ]
    assert [f["message"] for f in chat.sender.take("B")] == ["to one"]
    assert [f["message"] for f in chat.sender.take("C")] == ["to two"]


def test_sender_name_comes_from_membership_not_the_body(chat):
    chat.join("A", "lobby", "ana")

    chat.send("A", action="sendAll", roomId="lobby", message="hi", sender="mallory", name="eve")

    [frame] = [f for f in chat.sender.take("A") if f["type"] == "message"]
    assert frame["sender"] == "ana"
    [stored] = chat.history_items("lobby")
    assert stored["sender"] == {"S": "ana"}


def test_message_is_in_history_before_anyone_receives_it(chat, sender):
    chat.join("A", "lobby", "ana")
    seen_in_history_at_delivery = []
    original = sender.send_many

    def checking_send_many(ids, data, deadline=None):
        seen_in_history_at_delivery.append(len(chat.history_items("lobby")))
        return original(ids, data, deadline)

    sender.send_many = checking_send_many
    chat.send("A", action="sendAll", roomId="lobby", message="hi")

    assert seen_in_history_at_delivery == [1]


def test_history_item_has_the_spec_attributes(chat):
    chat.join("A", "lobby", "ana")
    chat.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="c1")

    [item] = chat.history_items("lobby")
    [frame] = [f for f in chat.sender.take("A") if f["type"] == "message"]
    assert item["roomId"] == {"S": "lobby"}
    assert item["messageId"] == {"S": frame["messageId"]}
    assert item["sender"] == {"S": "ana"}
    assert item["message"] == {"S": "hi"}
    assert item["sentAt"] == {"S": frame["sentAt"]}
    assert item["clientMsgId"] == {"S": "c1"}
    assert "expiresAt" not in item  # no retention configured: kept for ever


def test_retried_client_msg_id_stores_once_and_keeps_the_message_id(chat):
    chat.join("A", "lobby", "ana")
    chat.sender.take("A")

    chat.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="retry-1")
    chat.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="retry-1")

    first, second = chat.sender.take("A")
    assert first["messageId"] == second["messageId"]
    assert first["sentAt"] == second["sentAt"]
    history = chat.send("A", action="history", roomId="lobby")
    assert [m["message"] for m in history["messages"]] == ["hi"]


def test_same_client_msg_id_from_another_connection_is_a_new_message(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")

    chat.send("A", action="sendAll", roomId="lobby", message="a", clientMsgId="same")
    chat.send("B", action="sendAll", roomId="lobby", message="b", clientMsgId="same")

    history = chat.send("A", action="history", roomId="lobby")
    assert [(m["sender"], m["message"]) for m in history["messages"]] == [
        ("ana", "a"),
        ("bob", "b"),
    ]


def test_messages_without_client_msg_id_are_never_merged(chat):
    chat.join("A", "lobby", "ana")

    chat.send("A", action="sendAll", roomId="lobby", message="same text")
    chat.send("A", action="sendAll", roomId="lobby", message="same text")

    assert len(chat.send("A", action="history", roomId="lobby")["messages"]) == 2


@both_engines
def test_history_is_oldest_to_newest_and_pages_back_with_before(chat):
    chat.join("A", "lobby", "ana")
    for i in range(7):
        chat.send("A", action="sendAll", roomId="lobby", message=f"m{i}")

    newest = chat.send("A", action="history", roomId="lobby", limit=3)
    middle = chat.send("A", action="history", roomId="lobby", limit=3, before=newest["next"])
    oldest = chat.send("A", action="history", roomId="lobby", limit=3, before=middle["next"])

    assert [m["message"] for m in newest["messages"]] == ["m4", "m5", "m6"]
    assert [m["message"] for m in middle["messages"]] == ["m1", "m2", "m3"]
    assert [m["message"] for m in oldest["messages"]] == ["m0"]
    assert newest["next"] == newest["messages"][0]["messageId"]
    assert oldest["next"] is None


@both_engines
def test_history_page_that_ends_exactly_has_no_next(chat):
    chat.join("A", "lobby", "ana")
    for i in range(3):
        chat.send("A", action="sendAll", roomId="lobby", message=f"m{i}")

    page = chat.send("A", action="history", roomId="lobby", limit=3)

    assert len(page["messages"]) == 3 and page["next"] is None


@both_engines
def test_history_default_limit_is_50(chat):
    chat.join("A", "lobby", "ana")
    for i in range(55):
        chat.send("A", action="sendAll", roomId="lobby", message=f"m{i}")

    page = chat.send("A", action="history", roomId="lobby")

    assert len(page["messages"]) == 50 and page["next"] is not None


@both_engines
def test_history_is_per_room(chat):
    chat.join("A", "one", "ana")
    chat.join("A", "two", "ana")
    chat.send("A", action="sendAll", roomId="one", message="in one")

    assert chat.send("A", action="history", roomId="two")["messages"] == []


def test_history_requires_membership(chat):
    chat.join("A", "lobby", "ana")
    chat.send("A", action="sendAll", roomId="lobby", message="secret")

    reply = chat.send("B", action="history", roomId="lobby")

    assert reply["code"] == "not_member"


def test_retention_sets_the_ttl_attribute_days_after_sending(chat, settings):
    from dataclasses import replace

    from roomchat import handlers
    from roomchat.ulid import timestamp_ms

    handlers.container().settings = replace(settings, history_retention_days=30)
    chat.join("A", "lobby", "ana")
    chat.send("A", action="sendAll", roomId="lobby", message="hi")

    [item] = chat.history_items("lobby")
    sent_s = timestamp_ms(item["messageId"]["S"]) // 1000
    assert int(item["expiresAt"]["N"]) == sent_s + 30 * 86400


def test_gone_member_is_pruned_exactly_and_the_rest_still_receive(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.join("B", "dev", "bob")
    chat.join("C", "lobby", "cy")
    chat.sender.gone.add("B")

    chat.send("A", action="sendAll", roomId="lobby", message="hi")

    assert any(f.get("message") == "hi" for f in chat.sender.take("C"))
    # every membership of B (both rooms) is gone; the sender's and C's remain
    assert chat.memberships() == {("lobby", "A"), ("lobby", "C")}
    assert chat.connection_item("B")["gone"] == {"BOOL": True}  # a late join of B undoes itself


def test_pruning_announces_the_stale_member_leaving(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.join("C", "lobby", "cy")
    chat.sender.take("C")
    chat.sender.gone.add("B")

    chat.send("A", action="sendAll", roomId="lobby", message="hi")

    frames = chat.sender.take("C")
    assert {"type": "presence", "event": "leave", "roomId": "lobby", "name": "bob"} in frames


def test_every_member_pruned_by_one_fan_out_is_announced_as_leaving(chat):
    for cid, name in (("A", "ana"), ("B", "bob"), ("C", "cy"), ("D", "dee")):
        chat.join(cid, "lobby", name)
    chat.sender.take("B")
    chat.sender.gone |= {"C", "D"}

    chat.send("A", action="sendAll", roomId="lobby", message="hi")

    leaves = [f["name"] for f in chat.sender.take("B") if f.get("event") == "leave"]
    assert sorted(leaves) == ["cy", "dee"]
    assert chat.send("A", action="members", roomId="lobby")["members"] == ["ana", "bob"]


def test_a_failing_member_does_not_stop_the_others_and_is_kept(chat):
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.join("C", "lobby", "cy")
    chat.sender.failing.add("B")

    chat.send("A", action="sendAll", roomId="lobby", message="hi")

    assert any(f.get("message") == "hi" for f in chat.sender.take("C"))
    # a throttled or erroring member is not a gone member: its membership stays
    assert chat.send("A", action="members", roomId="lobby")["members"] == ["ana", "bob", "cy"]


@pytest.mark.parametrize("frame_count", [1, 3])
def test_sender_receives_its_own_message_exactly_once(chat, frame_count):
    chat.join("A", "lobby", "ana")
    chat.sender.take("A")

    for i in range(frame_count):
        chat.send("A", action="sendAll", roomId="lobby", message=f"m{i}")

    assert len(chat.sender.take("A")) == frame_count
