"""`history` (and joined.recent) reads what the reply budget can hold, not `limit + 1` items
of any size: each Query's Limit is sized from the remaining reply budget and the sizes of the
messages read so far (the largest a message may be before any is read). On moto and on
DynamoDB Local."""

from __future__ import annotations

from typing import Any

from roomchat import protocol
from roomchat.adapters.dynamodb import DynamoHistory
from roomchat.adapters.dynamodb.history import LARGEST_ENTRY_BYTES, query_limit
from roomchat.ports import Message
from tests.engines import both_engines

ROOM = "big-messages"


class Counting:
    """Passes calls through, counting the items each Query returned."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.queries: list[tuple[int, int]] = []  # (Limit asked, items returned)

    def query(self, **kwargs: Any) -> dict[str, Any]:
        resp = self.client.query(**kwargs)
        self.queries.append((kwargs.get("Limit", 0), len(resp.get("Items", []))))
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _fill(dynamodb, count: int, size: int) -> None:
    history = DynamoHistory(dynamodb, "history")
    for i in range(count):
        history.append(
            Message(ROOM, f"01J{i:023d}", "2026-01-01T00:00:00.000Z", "ana", "x" * size),
            expires_at=None,
            idem_expires_at=0,
        )


@both_engines
def test_a_page_of_large_messages_reads_about_what_fits_not_a_hundred(dynamodb):
    _fill(dynamodb, 100, 30_000)  # 100 messages of 30 KB: ~3 MB, a reply holds 4
    counting = Counting(dynamodb)
    page = DynamoHistory(counting, "history").page(ROOM, 100, None, protocol.history_budget(ROOM))
    fits = len(page.messages)
    assert 3 <= fits <= 5 and page.next_cursor is not None
    read = sum(items for _, items in counting.queries)
    assert read <= fits + 2, counting.queries  # what fits, one to see past, at most one more
    assert all(limit <= fits + 2 for limit, _ in counting.queries)


@both_engines
def test_a_page_of_small_messages_is_still_the_limit_in_a_query_or_two(dynamodb):
    _fill(dynamodb, 60, 100)
    counting = Counting(dynamodb)
    page = DynamoHistory(counting, "history").page(ROOM, 50, None, protocol.history_budget(ROOM))
    assert len(page.messages) == 50 and page.next_cursor == page.messages[0].message_id
    assert len(counting.queries) <= 2, counting.queries
    assert sum(items for _, items in counting.queries) <= 51 + 4


def test_the_limit_follows_the_remaining_budget_and_the_sizes_seen():
    budget = protocol.history_budget(ROOM)
    assert query_limit(101, None, 0, 0, 0) == 101  # no budget: the count alone
    first = query_limit(101, budget, 0, 0, 0)  # nothing measured: the largest size
    assert first == budget.max_bytes // LARGEST_ENTRY_BYTES + 1
    assert query_limit(101, budget, 1000, 5_000, 10) == 101  # 500 B entries: all fit
    assert query_limit(101, budget, budget.max_bytes - 10, 3000, 3) == 1  # full: one to look
    assert query_limit(3, budget, 0, 100, 1) == 3  # never more than wanted
