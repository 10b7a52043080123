"""Races that only eventual consistency shows, replayed step by step over a client whose
eventually consistent reads lag behind its writes (tests/unit/lagging.py), as AWS allows and
moto does not.

- A member who joins while another sends misses nothing, live or in ``joined.recent``: the
  room Query choosing recipients and the history Query behind ``recent`` are strongly
  consistent.
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
- A join that races the connection's $disconnect leaves no ghost member, though $disconnect's
  index read cannot see the join: GSI reads are always eventually consistent.
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Reads
"""

from __future__ import annotations

import pytest

from roomchat import protocol
from roomchat.adapters.dynamodb import DynamoChanges, DynamoHistory, DynamoRateLimiter, DynamoRooms
from roomchat.errors import ConnectionGone
from roomchat.usecases import Caller, ChatService
from tests.unit.conftest import FakeSender
from tests.unit.lagging import LaggingClient


def _key(item: dict) -> tuple[str, str]:
    return item["roomId"]["S"], item["connectionId"]["S"]


@pytest.fixture
def lagging(dynamodb):
    return LaggingClient(dynamodb)


@pytest.fixture
def service(lagging, settings):
    sender = FakeSender()
    svc = ChatService(
        DynamoRooms(lagging, "rooms", "byConnection"),
        DynamoHistory(lagging, "history"),
        sender,
        settings,
        limiter=DynamoRateLimiter(lagging, "history", settings.rate_limit_per_second),
    )
    return svc, sender


def test_the_lagging_client_hides_new_writes_from_eventually_consistent_reads(lagging):
    # the fake itself: without this, the race tests below could not fail
    rooms = DynamoRooms(lagging, "rooms", "byConnection")
    lagging.lag()
    lagging.put_item(
        TableName="rooms",
        Item={"roomId": {"S": "r"}, "connectionId": {"S": "X"}, "name": {"S": "x"}},
    )

    stale = lagging.query(
        TableName="rooms",
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": "r"}},
    )
    assert stale["Items"] == []
    assert rooms.memberships_of("X") == []  # the index never reads strongly
    assert rooms.recipient_ids("r", 0) == ["X"]  # our room read is strongly consistent
    lagging.catch_up()
    assert [m.room_id for m in rooms.memberships_of("X")] == ["r"]


def test_a_member_joining_during_a_send_misses_nothing_live_or_in_recent(service, lagging):
    svc, sender = service
    ana, bob = Caller("A"), Caller("B")
    svc.join(ana, protocol.JoinRequest("lobby", "ana"))
    joined: list[dict] = []

    # given: the message is stored, and before the sender reads the room's members, bob
    # joins completely; neither write has reached eventually consistent reads yet
    lagging.lag()
    lagging.on_write(
        lambda table, key: table == "history" and key["roomId"]["S"] == "lobby",
        lambda: joined.append(svc.join(bob, protocol.JoinRequest("lobby", "bob"))),
    )

    # when
    svc.send(ana, protocol.SendRequest("lobby", "hello bob", None))

    # then bob has it in recent, and live (a client drops the id it already shows)
    [message_id] = [f["messageId"] for f in sender.take("A") if f["type"] == "message"]
    in_recent = [m["messageId"] for m in joined[0]["recent"]]
    live = [f["messageId"] for f in sender.take("B") if f["type"] == "message"]
    assert in_recent == [message_id]
    assert live == [message_id]


def test_a_join_racing_disconnect_leaves_no_ghost_when_disconnect_goes_first(service, lagging):
    svc, sender = service
    svc.join(Caller("W"), protocol.JoinRequest("lobby", "wes"))
    lagging.catch_up()
    lagging.lag()
    # given: X's join has written its membership, and X's $disconnect then runs to the end
    # before the join goes on; the index read of $disconnect cannot see the membership
    lagging.on_write(
        lambda table, item: table == "rooms" and _key(item) == ("lobby", "X"),
        lambda: svc.disconnect(Caller("X")),
    )

    # when the join goes on, it finds the connection closed and undoes its membership
    with pytest.raises(ConnectionGone):
        svc.join(Caller("X"), protocol.JoinRequest("lobby", "xan"))

    # then no member is left behind, and nobody was told X joined
    lagging.catch_up()
    assert svc.rooms.get_member("lobby", "X", 0) is None
    assert [m.connection_id for m in svc.rooms.list_members("lobby", 0)] == ["W"]
    assert [f for f in sender.take("W") if f["type"] == "presence"] == []


def test_a_join_completed_just_before_disconnect_is_undone_by_it(service, lagging):
    svc, sender = service
    svc.join(Caller("W"), protocol.JoinRequest("lobby", "wes"))
    sender.take("W")
    lagging.catch_up()
    lagging.lag()  # the join below is not in the index yet when $disconnect reads it

    svc.join(Caller("X"), protocol.JoinRequest("lobby", "xan"))
    assert svc.rooms.memberships_of("X") == []  # what the index shows $disconnect
    left = svc.disconnect(Caller("X"))

    assert left == 1
    assert svc.rooms.get_member("lobby", "X", 0) is None
    told = [(f["event"], f["name"]) for f in sender.take("W")]
    assert told == [("join", "xan"), ("leave", "xan")]


def test_leave_then_disconnect_tells_the_room_only_once(service):
    svc, sender = service
    svc.join(Caller("W"), protocol.JoinRequest("lobby", "wes"))
    svc.join(Caller("X"), protocol.JoinRequest("lobby", "xan"))
    svc.leave(Caller("X"), protocol.RoomRequest("lobby"))
    sender.take("W")

    assert svc.disconnect(Caller("X")) == 0
    assert sender.take("W") == []


def test_a_resume_reads_what_was_written_just_before_it(lagging):
    """A resume's two forward Queries (messages and the change log after ``after``) are strongly
    consistent: a message stored, or a change recorded, just before them is in the replay."""
    from tests.unit.test_repositories import _msg

    history, changes = DynamoHistory(lagging, "history"), DynamoChanges(lagging, "history")
    first = history.append(_msg(text="before"), None, 0).message
    lagging.lag()
    second = history.append(_msg(text="just now"), None, 0).message
    changes.record("lobby", second.message_id, first.message_id, None)
    assert lagging.hidden  # an eventually consistent read would miss both
    assert history.page_after("lobby", first.message_id, 10) == ([second], False)
    assert changes.since("lobby", "0", 10) == ([(second.message_id, first.message_id)], False)
    assert lagging.stale_reads == 0
