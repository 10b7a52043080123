"""The fan-out workers' progress records, in the rooms table."""

from __future__ import annotations

from typing import Any

from .base import Table, _int, _n, _s


class DynamoFanoutProgress(Table):
    """ports.FanoutProgress in the rooms table: one small item per chunk and attempt,
    ``fanout#<messageId>`` / ``<chunk>#<attempt>`` (room ids cannot contain '#'), holding the
    steps done and the unsettled recipients of those steps, removed by the table's TTL.

    One UpdateItem per step of a chunk (1 WCU while the item stays under 1 KB, which it does
    unless posts fail); read only when SQS redelivers a chunk (docs/design.md, "Big rooms")."""

    kind = "rooms"

    @staticmethod
    def _key(message_id: str, chunk: int, attempt: int) -> dict[str, Any]:
        return {"roomId": _s(f"fanout#{message_id}"), "connectionId": _s(f"{chunk}#{attempt}")}

    def load(self, message_id: str, chunk: int, attempt: int) -> tuple[int, set[str]]:
        item = self._read(self._key(message_id, chunk, attempt)) or {}
        return _int(item, "steps") or 0, set(item.get("unsettled", {}).get("SS", []))

    def save(
        self,
        message_id: str,
        chunk: int,
        attempt: int,
        steps_done: int,
        unsettled: list[str],
        expires_at: int,
    ) -> None:
        expression = "SET #steps = :k, #exp = :e"
        values: dict[str, Any] = {":k": _n(steps_done), ":e": _n(expires_at)}
        if unsettled:
            expression += " ADD #unsettled :u"
            values[":u"] = {"SS": sorted(set(unsettled))}
        names = {"#steps": "steps", "#exp": "expiresAt"}
        if unsettled:
            names["#unsettled"] = "unsettled"
        self._request(
            "UpdateItem",
            Key=self._key(message_id, chunk, attempt),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
