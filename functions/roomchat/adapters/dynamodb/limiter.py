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

    # ------------------------------------------------------------------ budgets by cost

    def admit(self, key: str, now_ms: int, per_second: int, burst: int) -> bool:
        """Take one unit from ``key``'s budget (a token bucket refilled at ``per_second`` units
        a second, holding at most ``burst``), if it has one; False (nothing changed) when it
        has none or is in debt.

        The bucket is one item (``rate#<key>`` / ``bucket``) holding the time at which it
        would be full again, ``tat`` in microseconds (the generic cell rate algorithm): a unit
        costs ``1e6 / per_second`` µs, and a request is admitted while ``tat`` is no further
        ahead of now than the burst's worth. One conditional UpdateItem while the bucket is in
        use (two when it had filled up, three to refuse), so concurrent Lambdas never overspend
        it; a refusal writes nothing (failed conditions change no item)."""
        unit = 1_000_000 // max(1, per_second)
        now = now_ms * 1000
        limit = now + burst * unit - unit
        key_ = {"roomId": _s("rate#" + key), "messageId": _s("bucket")}
        expires = _n(now_ms // 1000 + 60 + burst * unit // 1_000_000)
        take = {
            "Key": key_,
            "UpdateExpression": "SET tat = tat + :unit, expiresAt = :exp",
            "ConditionExpression": "tat BETWEEN :now AND :limit",
            "ExpressionAttributeValues": {
                ":unit": _n(unit),
                ":now": _n(now),
                ":limit": _n(limit),
                ":exp": expires,
            },
        }
        if limit < now:  # a burst under one unit: nothing is ever admitted
            return False
        if self._write("UpdateItem", **take) is not None:
            return True
        refilled = self._write(  # idle long enough to be full: start from now
            "UpdateItem",
            Key=key_,
            UpdateExpression="SET tat = :next, expiresAt = :exp",
            ConditionExpression="attribute_not_exists(tat) OR tat < :now",
            ExpressionAttributeValues={":next": _n(now + unit), ":now": _n(now), ":exp": expires},
        )
        if refilled is not None:
            return True
        # Both failed: over budget, or a concurrent request refilled it between the two.
        return self._write("UpdateItem", **take) is not None

    def charge(self, key: str, now_ms: int, per_second: int, units: int) -> None:
        """Spend ``units`` more from ``key``'s budget, unconditionally, after the work was done
        (what a request read and posted, known only then): the bucket may go into debt, and
        ``admit`` refuses everything until it has refilled past it."""
        if units <= 0:
            return
        unit = 1_000_000 // max(1, per_second)
        now = now_ms * 1000
        self._request(
            "UpdateItem",
            Key={"roomId": _s("rate#" + key), "messageId": _s("bucket")},
            UpdateExpression="SET tat = if_not_exists(tat, :now) + :cost, expiresAt = :exp",
            ExpressionAttributeValues={
                ":now": _n(now),
                ":cost": _n(units * unit),
                ":exp": _n(now_ms // 1000 + 60 + units * unit // 1_000_000),
            },
        )

    def strikes(self, key: str, now_ms: int, window_s: int) -> int:
        """Count one refusal of ``key`` in the current ``window_s``-second window; the count."""
        window = now_ms // 1000 // window_s
        resp = self._request(
            "UpdateItem",
            Key={"roomId": _s("rate#" + key), "messageId": _s(f"strikes#{window}")},
            UpdateExpression="ADD n :one SET expiresAt = :exp",
            ExpressionAttributeValues={":one": _n(1), ":exp": _n((window + 2) * window_s)},
            ReturnValues="UPDATED_NEW",
        )
        return int(resp.get("Attributes", {}).get("n", {}).get("N", "1"))
