"""The per-connection rate limit, in the history table."""

from __future__ import annotations

from typing import Any

from .base import Table, _n, _s


class DynamoRateLimiter(Table):
    """A fixed one-second window per connection, shared by every Lambda instance.

    One conditional counter item per connection and second, in the history table's
    ``rate#<connectionId>`` partition (never a room: '#' is not allowed in room ids), expiring
    a minute later. A request over the limit fails the condition and changes nothing.
    """

    kind = "history"

    def __init__(self, client: Any, table: str, per_second: int):
        super().__init__(client, table)
        self._per_second = per_second

    def allow(self, connection_id: str, now_ms: int, limit: int | None = None) -> bool:
        second = now_ms // 1000
        counted = self._write(
            "UpdateItem",
            Key={"roomId": _s("rate#" + connection_id), "messageId": _s(str(second))},
            UpdateExpression="ADD n :one SET expiresAt = :exp",
            ConditionExpression="attribute_not_exists(n) OR n < :limit",
            ExpressionAttributeValues={
                ":one": _n(1),
                ":exp": _n(second + 60),
                ":limit": _n(limit if limit is not None else self._per_second),
            },
        )
        return counted is not None
