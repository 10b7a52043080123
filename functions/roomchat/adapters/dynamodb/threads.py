"""Threads, in the history table: the parent's counters (on the parent's own item) and each
reader's follow state. The replies themselves are messages of the thread's partition
(``messages.partition``), stored and paged by ``DynamoHistory``.

A reader's follow states are in their own partition ``follow#<readerId>`` (a user id, or a
connection id without sign-in), one item per thread, sort key ``<roomId>#<parentId>``:
``following`` (1 or 0), ``lastRead`` (a reply's messageId, only ever moved forward) and
``unfollowed`` once they said so themselves (taking part in the thread no longer follows it).
"""

from __future__ import annotations

from typing import Any

from ...conversation_ports import FollowState
from ...ports import Message
from .base import Table, _int, _n, _s, _str
from .messages import message_key, message_of, partition

FOLLOW_PREFIX = "follow#"
# Follow states read per listing at most (unfollowed ones are read and skipped).
FOLLOWED_READ_MAX = 200


class DynamoThreads(Table):
    """conversation_ports.ThreadsRepository."""

    kind = "history"

    def count_reply(self, room_id: str, parent_id: str, reply_id: str, at: str) -> Message | None:
        # ADD is atomic: concurrent replies each count once. lastReplyAt moves only forward
        # (replies are ULIDs, so the later reply has the greater id); a reply that lost that
        # race to a later one is still counted, by the second update.
        key = message_key(room_id, parent_id)
        counted = self._write(
            "UpdateItem",
            Key=key,
            UpdateExpression="ADD replyCount :one SET lastReplyAt = :at, lastReplyId = :id",
            ConditionExpression="attribute_exists(messageId) AND "
            "(attribute_not_exists(lastReplyId) OR lastReplyId < :id)",
            ExpressionAttributeValues={":one": _n(1), ":at": _s(at), ":id": _s(reply_id)},
            ReturnValues="ALL_NEW",
        )
        if counted is None:
            counted = self._write(
                "UpdateItem",
                Key=key,
                UpdateExpression="ADD replyCount :one",
                ConditionExpression="attribute_exists(messageId)",
                ExpressionAttributeValues={":one": _n(1)},
                ReturnValues="ALL_NEW",
            )
        return message_of(counted["Attributes"]) if counted is not None else None

    def _key(self, reader_id: str, room_id: str, parent_id: str) -> dict[str, Any]:
        return {"roomId": _s(FOLLOW_PREFIX + reader_id), "messageId": _s(f"{room_id}#{parent_id}")}

    def follow(self, reader_id: str, room_id: str, parent_id: str, following: bool) -> None:
        update = (
            "SET following = :f REMOVE unfollowed"
            if following
            else "SET following = :f, unfollowed = :one"
        )
        values = {":f": _n(1 if following else 0)}
        if not following:
            values[":one"] = _n(1)
        self._request(
            "UpdateItem",
            Key=self._key(reader_id, room_id, parent_id),
            UpdateExpression=update,
            ExpressionAttributeValues=values,
        )

    def auto_follow(
        self, reader_id: str, room_id: str, parent_id: str, read_up_to: str | None
    ) -> None:
        self._write(
            "UpdateItem",
            Key=self._key(reader_id, room_id, parent_id),
            UpdateExpression="SET following = :one",
            ConditionExpression="attribute_not_exists(unfollowed)",
            ExpressionAttributeValues={":one": _n(1)},
        )
        if read_up_to is not None:
            self.mark_read(reader_id, room_id, parent_id, read_up_to)

    def mark_read(self, reader_id: str, room_id: str, parent_id: str, reply_id: str) -> str:
        key = self._key(reader_id, room_id, parent_id)
        moved = self._write(
            "UpdateItem",
            Key=key,
            # Reading a thread does not follow it; an item made here says "not following".
            UpdateExpression="SET lastRead = :m, following = if_not_exists(following, :zero)",
            # Two devices marking at once: the later reply wins, never the later write.
            ConditionExpression="attribute_not_exists(lastRead) OR lastRead < :m",
            ExpressionAttributeValues={":m": _s(reply_id), ":zero": _n(0)},
        )
        if moved is not None:
            return reply_id
        return _str(self._read(key) or {}, "lastRead") or reply_id

    def state(self, reader_id: str, room_id: str, parent_id: str) -> FollowState:
        item = self._read(self._key(reader_id, room_id, parent_id)) or {}
        return FollowState(
            room_id, parent_id, bool(_int(item, "following")), _str(item, "lastRead")
        )

    def followed(
        self, reader_id: str, room_id: str, limit: int, before: str | None
    ) -> tuple[list[FollowState], str | None]:
        prefix = f"{room_id}#"
        values = {":r": _s(FOLLOW_PREFIX + reader_id), ":p": _s(prefix)}
        if before:
            # BETWEEN is inclusive: the item of ``before`` itself is skipped below.
            condition = "roomId = :r AND messageId BETWEEN :p AND :b"
            values[":b"] = _s(prefix + before)
        else:
            condition = "roomId = :r AND begins_with(messageId, :p)"
        found: list[FollowState] = []
        read = 0
        for item in self._query(
            "history",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=limit + 1,
        ):
            parent_id = (_str(item, "messageId") or "")[len(prefix) :]
            if parent_id == before:
                continue
            if len(found) == limit:
                return found, found[-1].parent_id  # one more exists
            read += 1
            if _int(item, "following"):
                found.append(FollowState(room_id, parent_id, True, _str(item, "lastRead")))
            if read >= FOLLOWED_READ_MAX:
                # Many threads read but not followed: the rest on the next page.
                return found, parent_id
        return found, None

    def count_after(self, room_id: str, parent_id: str, after: str | None, cap: int) -> int:
        return self._count_after(partition(room_id, parent_id), after, cap)
