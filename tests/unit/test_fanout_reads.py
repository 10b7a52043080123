"""The fan-out's read of a room (DynamoRooms.recipient_ids), tuned from `make bench`: it must
return exactly the live members list_members returns, page after page, while reading only the
two attributes it uses."""

from __future__ import annotations

import time
from typing import Any

from roomchat.adapters.dynamodb import DynamoRooms
from roomchat.ports import Member
from tests.engines import both_engines
from tests.tables import ROOMS_BY_CONNECTION_INDEX

# The adapters' requests must be valid for the real engine too, not only for moto.
pytestmark = both_engines


class Recording:
    """Passes calls through to the client, keeping each Query's arguments; small pages."""

    def __init__(self, client: Any, page_size: int) -> None:
        self.client = client
        self.page_size = page_size
        self.queries: list[dict[str, Any]] = []
        self.scans = 0

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        return self.client.query(Limit=self.page_size, **kwargs)

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        self.scans += 1
        return self.client.scan(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_recipients_are_the_live_members_read_page_by_page_with_two_attributes(dynamodb):
    # given: five live members, one whose TTL has passed, and a member of another room
    now = int(time.time())
    rooms = DynamoRooms(dynamodb, "rooms", ROOMS_BY_CONNECTION_INDEX)
    for i in range(5):
        rooms.put_member(Member("big", f"c{i}", f"n{i}", "2026-01-01T00:00:00.000Z", now + 600))
    rooms.put_member(Member("big", "stale", "old", "2026-01-01T00:00:00.000Z", now - 1))
    rooms.put_member(Member("other", "x", "x", "2026-01-01T00:00:00.000Z", now + 600))
    recording = Recording(dynamodb, page_size=2)

    # when
    ids = DynamoRooms(recording, "rooms", ROOMS_BY_CONNECTION_INDEX).recipient_ids("big", now)

    # then
    assert sorted(ids) == sorted(m.connection_id for m in rooms.list_members("big", now))
    assert sorted(ids) == [f"c{i}" for i in range(5)]
    assert len(recording.queries) >= 3 and recording.scans == 0
    assert all(q["ProjectionExpression"] == "connectionId, expiresAt" for q in recording.queries)
