"""Every message of every room, in the history table: (roomId, messageId) with messageId a
ULID, and the idempotency claims of clientMsgId retries in ``<roomId>#idem`` partitions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ... import logs
from ...errors import StorageError
from ...ports import Appended, Message, Page
from ...protocol import ByteBudget
from .base import CONDITIONAL_FAILED, Table, _int, _n, _s, _str, _unexpired

MESSAGE_NAMES = {
    "#m": "message",
    "#mid": "messageId",
    "#db": "deletedBy",
    "#da": "deletedAt",
    "#ea": "editedAt",
}


def _message(item: dict[str, Any]) -> Message:
    return Message(
        room_id=_str(item, "roomId") or "",
        message_id=_str(item, "messageId") or "",
        sent_at=_str(item, "sentAt") or "",
        sender=_str(item, "sender") or "",
        message=_str(item, "message") or "",
        client_msg_id=_str(item, "clientMsgId"),
        connection_id=_str(item, "connectionId"),
        author_id=_str(item, "authorId"),
        edited_at=_str(item, "editedAt"),
        deleted_by=_str(item, "deletedBy"),
        deleted_at=_str(item, "deletedAt"),
    )


def _item(message: Message, expires_at: int | None) -> dict[str, Any]:
    item = {
        "roomId": _s(message.room_id),
        "messageId": _s(message.message_id),
        "sentAt": _s(message.sent_at),
        "sender": _s(message.sender),
        "message": _s(message.message),
    }
    if message.client_msg_id:
        item["clientMsgId"] = _s(message.client_msg_id)
    if message.connection_id:
        item["connectionId"] = _s(message.connection_id)
    if message.author_id:
        item["authorId"] = _s(message.author_id)
    if expires_at:
        item["expiresAt"] = _n(expires_at)
    return item


def _idem_key(room_id: str, connection_id: str | None, client_msg_id: str | None) -> dict[str, Any]:
    return {"roomId": _s(room_id + "#idem"), "messageId": _s(f"{connection_id}#{client_msg_id}")}


class DynamoHistory(Table):
    """ports.HistoryRepository.

    With a retention (HISTORY_RETENTION_DAYS), a message whose ``expiresAt`` has passed is
    history no more, although TTL deletes it only eventually ("typically within a few days";
    "items that have expired, but haven't yet been deleted by TTL, still appear in reads,
    queries, and scans"):
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
    So ``get`` answers None for it, and ``page``, reading newest first, ends the room's history
    at the first one: every older message expired earlier (or, after a shorter retention was
    set, is older than the retention allows).
    """

    kind = "history"

    def __init__(self, client: Any, table: str, clock: Callable[[], float] = time.time):
        super().__init__(client, table)
        self._clock = clock

    def _expired(self, item: dict[str, Any]) -> bool:
        return not _unexpired(_int(item, "expiresAt"), int(self._clock()))

    def append(self, message: Message, expires_at: int | None, idem_expires_at: int) -> Appended:
        if message.client_msg_id:
            existing = self._claim_client_msg_id(message, idem_expires_at)
            if existing is not None:
                stored = self._get(message.room_id, existing.message_id)
                if stored is not None:
                    return Appended(stored, duplicate=True)
                # The earlier attempt claimed the id but died before storing the message:
                # store it now under the claimed messageId so every retry agrees on it.
                message = existing
        written = self._write(
            "PutItem",
            Item=_item(message, expires_at),
            ConditionExpression="attribute_not_exists(messageId)",
        )
        if written is None:
            # A concurrent retry stored it first; theirs is the one everybody sees.
            stored = self._get(message.room_id, message.message_id)
            if stored is None:
                raise StorageError(f"PutItem history failed: {CONDITIONAL_FAILED}")
            return Appended(stored, duplicate=True)
        return Appended(message, duplicate=False)

    def _claim_client_msg_id(self, message: Message, expires_at: int) -> Message | None:
        """Claim (connection, clientMsgId) for this messageId; return an earlier claim if any."""
        key = _idem_key(message.room_id, message.connection_id, message.client_msg_id)
        claimed = self._write(
            "PutItem",
            Item={
                **key,
                "ref": _s(message.message_id),
                "sentAt": _s(message.sent_at),
                "expiresAt": _n(expires_at),
            },
            ConditionExpression="attribute_not_exists(messageId)",
        )
        if claimed is not None:
            return None
        claim = self._read(key) or {}
        ref, sent_at = _str(claim, "ref"), _str(claim, "sentAt")
        if not ref or not sent_at:
            raise StorageError("idempotency record without a messageId")
        return Message(
            room_id=message.room_id,
            message_id=ref,
            sent_at=sent_at,
            sender=message.sender,
            message=message.message,
            client_msg_id=message.client_msg_id,
            connection_id=message.connection_id,
            author_id=message.author_id,
        )

    def get(self, room_id: str, message_id: str) -> Message | None:
        return self._get(room_id, message_id)

    def _get(self, room_id: str, message_id: str) -> Message | None:
        item = self._read({"roomId": _s(room_id), "messageId": _s(message_id)})
        return _message(item) if item and not self._expired(item) else None

    def _update_message(
        self, room_id: str, message_id: str, update: str, condition: str, values: dict[str, Any]
    ) -> Message | None:
        used = update + condition
        resp = self._write(
            "UpdateItem",
            Key={"roomId": _s(room_id), "messageId": _s(message_id)},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={k: v for k, v in MESSAGE_NAMES.items() if k in used},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return _message(resp["Attributes"]) if resp is not None else None

    def tombstone(self, room_id: str, message_id: str, by: str, at: str) -> Message | None:
        # REMOVE takes the text out of the item itself, so no later read (a page, recent, a
        # backup taken after this) has it. A tombstone is never re-stamped: the first wins.
        done = self._update_message(
            room_id,
            message_id,
            "REMOVE #m SET #db = :by, #da = :at",
            "attribute_exists(#mid) AND attribute_not_exists(#da)",
            {":by": _s(by), ":at": _s(at)},
        )
        return done if done is not None else self._get(room_id, message_id)

    def edit(self, room_id: str, message_id: str, text: str, at: str) -> Message | None:
        return self._update_message(
            room_id,
            message_id,
            "SET #m = :t, #ea = :at",
            "attribute_exists(#mid) AND attribute_not_exists(#da)",
            {":t": _s(text), ":at": _s(at)},
        )

    def has_messages(self, room_id: str) -> bool:
        resp = self._request(
            "Query",
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": _s(room_id)},
            ProjectionExpression="messageId",
            Limit=1,
            ConsistentRead=True,
        )
        return bool(resp.get("Items"))

    def stored(self, room_id: str, connection_id: str, client_msg_id: str) -> Message | None:
        ref = _str(self._read(_idem_key(room_id, connection_id, client_msg_id)) or {}, "ref")
        return self._get(room_id, ref) if ref else None

    def page(
        self, room_id: str, limit: int, before: str | None, budget: ByteBudget | None = None
    ) -> Page:
        """Up to ``limit`` messages older than ``before`` (newest page when None), oldest first,
        whose entries fit ``budget``; ``next_cursor`` whenever older messages exist.

        A Query page ends at 1 MB of items whatever its Limit, so "more" comes from reading
        on (following LastEvaluatedKey) until one more message is seen or the room ends,
        never from the count of one response:
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
        Strongly consistent, so `joined.recent` includes a message stored just before.
        """
        values = {":r": _s(room_id)}
        condition = "roomId = :r"
        if before:
            condition += " AND messageId < :b"
            values[":b"] = _s(before)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        taken: list[Message] = []  # newest first
        oldest_seen: str | None = None  # the cursor: every message newer than it was consumed
        used = 0
        more = False
        ended = False  # an expired message: the room's history ends there
        while not (more or ended):
            # One item past what is still wanted tells whether an older page exists.
            kwargs["Limit"] = limit - len(taken) + 1
            resp = self._request("Query", **kwargs)
            for item in resp.get("Items", []):
                if self._expired(item):
                    ended = True
                    break
                msg = _message(item)
                if len(taken) == limit:
                    more = True
                    break
                if budget is not None:
                    size = budget.size_of(msg)
                    if used + size - 1 > budget.max_bytes:
                        if taken:
                            more = True
                            break
                        # Alone larger than a reply may be (stored before today's limits):
                        # left out, or no page could ever get past it.
                        logs.warning("history_message_skipped", messageId=msg.message_id)
                        oldest_seen = msg.message_id
                        continue
                    used += size
                taken.append(msg)
                oldest_seen = msg.message_id
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        taken.reverse()
        return Page(messages=taken, next_cursor=oldest_seen if more else None)

    def page_after(self, room_id: str, after: str, limit: int) -> tuple[list[Message], bool]:
        """Messages newer than ``after``, oldest first: a forward Query read on across 1 MB
        pages until one more than ``limit`` is seen (that one says more follow). Expired ones
        are skipped, as ``page`` ends at them (they can only be the oldest read)."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "roomId = :r AND messageId > :a",
            "ExpressionAttributeValues": {":r": _s(room_id), ":a": _s(after)},
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        found: list[Message] = []
        while len(found) <= limit:
            kwargs["Limit"] = limit + 1 - len(found)
            resp = self._request("Query", **kwargs)
            found += [_message(i) for i in resp.get("Items", []) if not self._expired(i)]
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        return found[:limit], len(found) > limit
