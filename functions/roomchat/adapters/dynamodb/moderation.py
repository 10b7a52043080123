"""Bans and read markers, in the history table."""

from __future__ import annotations

from typing import Any

from ...ports import Ban
from .base import Table, _int, _n, _s, _str


class DynamoModeration(Table):
    """Bans and read markers, in partitions of the history table no room can name ('#' is not
    allowed in room ids):
    - ``ban#<roomId>`` / ``<userId>``: ``until`` (epoch seconds; absent: for good), ``by``, and
      ``expiresAt`` (TTL) a day after ``until``;
    - ``read#<roomId>`` / ``<readerId>``: ``lastRead`` (a messageId), only ever moved forward.
    """

    kind = "history"

    def put_ban(self, ban: Ban) -> None:
        item = {
            "roomId": _s("ban#" + ban.room_id),
            "messageId": _s(ban.user_id),
            "by": _s(ban.by),
        }
        if ban.until is not None:
            item["until"] = _n(ban.until)
            item["expiresAt"] = _n(ban.until + 86400)
        self._request("PutItem", Item=item)

    def get_ban(self, room_id: str, user_id: str, now_s: int) -> Ban | None:
        item = self._read({"roomId": _s("ban#" + room_id), "messageId": _s(user_id)})
        if not item:
            return None
        until = _int(item, "until")
        if until is not None and until <= now_s:
            return None
        return Ban(room_id, user_id, until, _str(item, "by") or "")

    def _marker_key(self, room_id: str, reader_id: str) -> dict[str, Any]:
        return {"roomId": _s("read#" + room_id), "messageId": _s(reader_id)}

    def mark_read(self, room_id: str, reader_id: str, message_id: str) -> str:
        moved = self._write(
            "UpdateItem",
            Key=self._marker_key(room_id, reader_id),
            UpdateExpression="SET lastRead = :m",
            # Two devices marking at once: the later message wins, never the later write.
            ConditionExpression="attribute_not_exists(lastRead) OR lastRead < :m",
            ExpressionAttributeValues={":m": _s(message_id)},
        )
        if moved is not None:
            return message_id
        return self.last_read(room_id, reader_id) or message_id

    def last_read(self, room_id: str, reader_id: str) -> str | None:
        return _str(self._read(self._marker_key(room_id, reader_id)) or {}, "lastRead")

    def count_after(self, room_id: str, message_id: str | None, cap: int) -> int:
        return self._count_after(room_id, message_id, cap)
