"""Who was mentioned where, in the history table: one item per mentioned user and message in
the user's partition ``mention#<userId>``, sort key ``<messageId>#<roomId>`` (newest last,
across every room), with ``room`` and, for a reply, ``replyTo``. No text: a listing reads the
message itself, so an edit or a delete shows there too."""

from __future__ import annotations

from typing import Any

from ...conversation_ports import MentionRef
from ...ports import Message
from .base import Table, _n, _s, _str

MENTION_PREFIX = "mention#"


class DynamoMentions(Table):
    """conversation_ports.MentionsRepository."""

    kind = "history"

    def record(self, message: Message, user_ids: list[str], expires_at: int | None) -> None:
        for user_id in user_ids:
            item: dict[str, Any] = {
                "roomId": _s(MENTION_PREFIX + user_id),
                "messageId": _s(f"{message.message_id}#{message.room_id}"),
                "room": _s(message.room_id),
            }
            if message.reply_to:
                item["replyTo"] = _s(message.reply_to)
            if expires_at:
                item["expiresAt"] = _n(expires_at)
            self._request("PutItem", Item=item)  # a retry writes the same item again

    def page(
        self, user_id: str, limit: int, before: str | None
    ) -> tuple[list[MentionRef], str | None]:
        values = {":r": _s(MENTION_PREFIX + user_id)}
        condition = "roomId = :r"
        if before:
            # Sort keys are "<messageId>#<roomId>": every entry of ``before`` sorts after it.
            condition += " AND messageId < :b"
            values[":b"] = _s(before)
        resp = self._request(
            "Query",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=limit + 1,  # one more tells whether an older page exists
        )
        refs = [
            MentionRef(
                _str(item, "room") or "",
                (_str(item, "messageId") or "").split("#", 1)[0],
                _str(item, "replyTo"),
            )
            for item in resp.get("Items", [])
        ]
        more = len(refs) > limit
        refs = refs[:limit]
        return refs, (refs[-1].message_id if more and refs else None)
