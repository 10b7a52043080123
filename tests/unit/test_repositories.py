"""The DynamoDB adapters on their own: pagination, Query-only reads, idempotent appends."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from roomchat.adapters.dynamodb import DynamoHistory, DynamoRooms
from roomchat.errors import StorageError
from roomchat.ports import Member, Message
from roomchat.ulid import new_ulid
from tests.engines import both_engines

# The adapters' requests must be valid for the real engine too, not only for moto.
pytestmark = both_engines


class Recording:
    """Wraps a boto3 client: records operation names and can cap Query page sizes."""

    def __init__(self, client, page_size=None):
        self._client, self._page_size, self.calls = client, page_size, []

    def __getattr__(self, name):
        op = getattr(self._client, name)

        def call(**kwargs):
            self.calls.append(name)
            if name == "query" and self._page_size and "Limit" not in kwargs:
                kwargs["Limit"] = self._page_size
            return op(**kwargs)

        return call


def _member(room, cid, expires_at=None):
    return Member(room, cid, f"n-{cid}", "2026-01-01T00:00:00.000Z", expires_at or 2**31)


def test_list_members_follows_pages_and_never_scans(dynamodb):
    client = Recording(dynamodb, page_size=2)
    rooms = DynamoRooms(client, "rooms", "byConnection")
    for i in range(5):
        rooms.put_member(_member("big", f"c{i}"))
    rooms.put_member(_member("other", "x"))

    members = rooms.list_members("big", int(time.time()))

    assert sorted(m.connection_id for m in members) == [f"c{i}" for i in range(5)]
    assert client.calls.count("query") >= 3
    assert "scan" not in client.calls


def test_memberships_of_uses_the_connection_index(dynamodb):
    client = Recording(dynamodb, page_size=1)
    rooms = DynamoRooms(client, "rooms", "byConnection")
    for room in ("a", "b", "c"):
        rooms.put_member(_member(room, "me"))
    rooms.put_member(_member("a", "you"))

    found = rooms.memberships_of("me")

    assert sorted(m.room_id for m in found) == ["a", "b", "c"]
    assert "scan" not in client.calls


def _msg(room="lobby", cid="A", client_msg_id=None, text="hi"):
    now = time.time_ns() // 1_000_000
    return Message(room, new_ulid(now), "2026-11-21T00:00:00.000Z", "ana", text, client_msg_id, cid)


def test_append_without_client_msg_id_always_stores(dynamodb):
    history = DynamoHistory(dynamodb, "history")

    a = history.append(_msg(), None, 0)
    b = history.append(_msg(), None, 0)

    assert not a.duplicate and not b.duplicate
    assert len(history.page("lobby", 10, None).messages) == 2


def test_append_recovers_a_claim_whose_message_was_never_stored(dynamodb):
    # given an attempt that claimed its clientMsgId and then died before writing the message
    history = DynamoHistory(dynamodb, "history")
    first = _msg(client_msg_id="k1")
    history._claim_client_msg_id(first, expires_at=2**31)

    retry = history.append(_msg(client_msg_id="k1"), None, 2**31)

    assert not retry.duplicate
    assert retry.message.message_id == first.message_id  # the claimed id, not a new one
    assert [m.message_id for m in history.page("lobby", 10, None).messages] == [first.message_id]
    again = history.append(_msg(client_msg_id="k1"), None, 2**31)
    assert again.duplicate and again.message.message_id == first.message_id


def test_idempotency_marks_expire_and_stay_out_of_the_room(dynamodb):
    history = DynamoHistory(dynamodb, "history")
    history.append(_msg(client_msg_id="k1"), None, 1234)

    mark = dynamodb.get_item(
        TableName="history",
        Key={"roomId": {"S": "lobby#idem"}, "messageId": {"S": "A#k1"}},
    )["Item"]
    assert mark["expiresAt"] == {"N": "1234"}
    assert len(history.page("lobby", 10, None).messages) == 1


def test_storage_failures_become_storage_errors(dynamodb):
    rooms = DynamoRooms(dynamodb, "no-such-table", "byConnection")

    with pytest.raises(StorageError, match="ResourceNotFoundException"):
        rooms.list_members("lobby", 0)
    with pytest.raises(StorageError):
        DynamoHistory(dynamodb, "no-such-table").append(_msg(), None, 0)


def test_an_expired_message_is_served_no_more_although_ttl_has_not_deleted_it(dynamodb):
    """With HISTORY_RETENTION_DAYS, TTL deletes a message only some time (up to days) after
    its expiresAt, and DynamoDB serves it until then: the adapter must not. A page ends at
    the first expired message (no cursor past it), and get() does not find it."""
    clock = [1_000_000.0]
    history = DynamoHistory(dynamodb, "history", clock=lambda: clock[0])
    old = [
        history.append(replace(_msg(), message_id=f"01A{i}"), 1_000_100 + i, 0).message
        for i in range(3)
    ]
    fresh = history.append(replace(_msg(), message_id="01B0"), 1_000_000 + 86400, 0).message

    clock[0] = 1_000_200.0  # the three old ones have expired; TTL has deleted nothing yet

    page = history.page("lobby", 10, None)
    assert [m.message_id for m in page.messages] == [fresh.message_id]
    assert page.next_cursor is None
    assert history.page("lobby", 10, fresh.message_id).messages == []
    assert history.get("lobby", old[-1].message_id) is None
    assert history.get("lobby", fresh.message_id) == fresh
