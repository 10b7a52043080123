"""The change log of a room's messages, in the history table: partition ``changes#<roomId>``,
sort key a ULID of the moment of the change, attribute ``ref`` (the messageId changed) and the
history's retention TTL. No text: a resume reads the message itself, so a delete's removal of
the text holds here too (docs/design.md, "Resume")."""

from __future__ import annotations

from typing import Any

from .base import Table, _n, _s, _str

CHANGES_PREFIX = "changes#"


class DynamoChanges(Table):
    """ports.ChangeLog."""

    kind = "history"

    def record(self, room_id: str, change_id: str, message_id: str, expires_at: int | None) -> None:
        item: dict[str, Any] = {
            "roomId": _s(CHANGES_PREFIX + room_id),
            "messageId": _s(change_id),
            "ref": _s(message_id),
        }
        if expires_at:
            item["expiresAt"] = _n(expires_at)
        self._request("PutItem", Item=item)

    def since(self, room_id: str, after: str, limit: int) -> tuple[list[tuple[str, str]], bool]:
        resp = self._request(
            "Query",
            KeyConditionExpression="roomId = :r AND messageId > :a",
            ExpressionAttributeValues={":r": _s(CHANGES_PREFIX + room_id), ":a": _s(after)},
            ScanIndexForward=True,
            ConsistentRead=True,
            Limit=limit + 1,  # items of ~80 bytes: never near a 1 MB page
        )
        found = [
            (_str(item, "messageId") or "", _str(item, "ref") or "")
            for item in resp.get("Items", [])
        ]
        return found[:limit], len(found) > limit
