"""Every message of every room, in the history table: (roomId, messageId) with messageId a
ULID (a thread's replies in the thread's own partition, ``messages.partition``), and the
idempotency claims of clientMsgId retries in ``<roomId>#idem`` partitions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from ... import logs
from ...errors import StorageError
from ...ports import Appended, Mention, Message, Page
from ...protocol import MESSAGE_BYTES_DEFAULT, ByteBudget
from .base import CONDITIONAL_FAILED, Table, _int, _n, _s, _str, _unexpired
from .messages import (
    item_of,
    key_of,
    mentions_attribute,
    message_key,
    message_of,
    partition,
    room_copy_key,
)

MESSAGE_NAMES = {
    "#m": "message",
    "#mid": "messageId",
    "#db": "deletedBy",
    "#da": "deletedAt",
    "#ea": "editedAt",
    "#mn": "mentions",
    "#mr": "mentionsRoom",
    "#at": "attachments",
}


def _idem_key(room_id: str, connection_id: str | None, client_msg_id: str | None) -> dict[str, Any]:
    return {"roomId": _s(room_id + "#idem"), "messageId": _s(f"{connection_id}#{client_msg_id}")}


# A message entry's bytes before any is measured: a message at the largest size a frame may
# carry (MESSAGE_BYTES_DEFAULT) with its fields, so the first Query of a page never reads
# more than its budget could hold however large the room's messages are.
LARGEST_ENTRY_BYTES = MESSAGE_BYTES_DEFAULT + 1024


def query_limit(wanted: int, budget: ByteBudget | None, used: int, seen: int, count: int) -> int:
    """The Limit of a page's next Query: ``wanted`` items (the messages still wanted and the
    one that tells whether more exist), but with a budget no more than its remaining bytes
    hold at the entries' size so far (the largest possible before any is read), plus one to
    see past them. The remaining reply budget, not the page's count, bounds what is read:
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.html#Query.Limit"""
    if budget is None:
        return wanted
    per_entry = max(1, seen // count) if count else LARGEST_ENTRY_BYTES
    room_for = max(0, budget.max_bytes - used) // per_entry
    return max(1, min(wanted, room_for + 1))


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
                stored = self._get(message.room_id, existing.message_id, existing.reply_to)
                if stored is not None:
                    self._copy_to_room(stored, expires_at)  # in case the first attempt died
                    return Appended(stored, duplicate=True)
                # The earlier attempt claimed the id but died before storing the message:
                # store it now under the claimed messageId so every retry agrees on it.
                message = existing
        written = self._write(
            "PutItem",
            Item=item_of(message, expires_at),
            ConditionExpression="attribute_not_exists(messageId)",
        )
        if written is None:
            # A concurrent retry stored it first; theirs is the one everybody sees.
            stored = self._get(message.room_id, message.message_id, message.reply_to)
            if stored is None:
                raise StorageError(f"PutItem history failed: {CONDITIONAL_FAILED}")
            return Appended(stored, duplicate=True)
        self._copy_to_room(message, expires_at)
        return Appended(message, duplicate=False)

    def _copy_to_room(self, message: Message, expires_at: int | None) -> None:
        """A reply sent also to the room: its copy in the room's partition (the thread's item
        is written first, so a retry after a failure here writes the copy then)."""
        room_key = room_copy_key(message)
        if room_key is not None:
            self._write(
                "PutItem",
                Item={**item_of(message, expires_at), **room_key},
                ConditionExpression="attribute_not_exists(messageId)",
            )

    def _claim_client_msg_id(self, message: Message, expires_at: int) -> Message | None:
        """Claim (connection, clientMsgId) for this messageId; return an earlier claim if any."""
        key = _idem_key(message.room_id, message.connection_id, message.client_msg_id)
        claim = {
            **key,
            "ref": _s(message.message_id),
            "sentAt": _s(message.sent_at),
            "expiresAt": _n(expires_at),
        }
        if message.reply_to:
            claim["replyTo"] = _s(message.reply_to)
        claimed = self._write(
            "PutItem", Item=claim, ConditionExpression="attribute_not_exists(messageId)"
        )
        if claimed is not None:
            return None
        earlier = self._read(key) or {}
        ref, sent_at = _str(earlier, "ref"), _str(earlier, "sentAt")
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
            # Where the first attempt put it, whatever this one asks.
            reply_to=_str(earlier, "replyTo"),
            also_to_room=message.also_to_room,
            mentions=message.mentions,
            mentions_room=message.mentions_room,
            attachments=message.attachments,
        )

    def get(self, room_id: str, message_id: str, reply_to: str | None = None) -> Message | None:
        return self._get(room_id, message_id, reply_to)

    def _get(self, room_id: str, message_id: str, reply_to: str | None = None) -> Message | None:
        item = self._read(message_key(room_id, message_id, reply_to))
        return message_of(item) if item and not self._expired(item) else None

    def _update_message(
        self,
        key: dict[str, Any],
        update: str,
        condition: str,
        values: dict[str, Any],
    ) -> Message | None:
        """One conditional update of a message; a reply shown in the room too gets the same
        update on its room copy, so both always read the same."""
        used = set(re.findall(r"#\w+", f"{update} {condition}"))
        request: dict[str, Any] = {
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {k: v for k, v in MESSAGE_NAMES.items() if k in used},
        }
        if values:  # DynamoDB refuses an empty map
            request["ExpressionAttributeValues"] = values
        resp = self._write("UpdateItem", Key=key, ReturnValues="ALL_NEW", **request)
        if resp is None:
            return None
        done = message_of(resp["Attributes"])
        room_key = room_copy_key(done)
        if room_key is not None:
            self._write("UpdateItem", Key=room_key, **request)
        return done

    def tombstone(
        self, room_id: str, message_id: str, by: str, at: str, reply_to: str | None = None
    ) -> Message | None:
        # REMOVE takes the text (and whom it named) out of the item itself, so no later read
        # (a page, recent, a backup taken after this) has it. A tombstone is never re-stamped:
        # the first wins.
        done = self._update_message(
            message_key(room_id, message_id, reply_to),
            "REMOVE #m, #mn, #mr, #at SET #db = :by, #da = :at",
            "attribute_exists(#mid) AND attribute_not_exists(#da)",
            {":by": _s(by), ":at": _s(at)},
        )
        return done if done is not None else self._get(room_id, message_id, reply_to)

    def edit(
        self, room_id: str, message_id: str, text: str, at: str, reply_to: str | None = None
    ) -> Message | None:
        return self._update_message(
            message_key(room_id, message_id, reply_to),
            "SET #m = :t, #ea = :at",
            "attribute_exists(#mid) AND attribute_not_exists(#da)",
            {":t": _s(text), ":at": _s(at)},
        )

    def set_mentions(
        self, message: Message, mentions: tuple[Mention, ...], everyone: bool
    ) -> Message | None:
        parts = []
        values: dict[str, Any] = {}
        removed = []
        if mentions:
            parts.append("#mn = :mn")
            values[":mn"] = mentions_attribute(mentions)
        else:
            removed.append("#mn")
        if everyone:
            parts.append("#mr = :one")
            values[":one"] = _n(1)
        else:
            removed.append("#mr")
        update = ("SET " + ", ".join(parts) if parts else "") + (
            " REMOVE " + ", ".join(removed) if removed else ""
        )
        return self._update_message(
            key_of(message),
            update.strip(),
            "attribute_exists(#mid) AND attribute_not_exists(#da)",
            values,
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
        claim = self._read(_idem_key(room_id, connection_id, client_msg_id)) or {}
        ref = _str(claim, "ref")
        return self._get(room_id, ref, _str(claim, "replyTo")) if ref else None

    def page(
        self,
        room_id: str,
        limit: int,
        before: str | None,
        budget: ByteBudget | None = None,
        reply_to: str | None = None,
    ) -> Page:
        """Up to ``limit`` messages older than ``before`` (newest page when None), oldest first,
        whose entries fit ``budget``; ``next_cursor`` whenever older messages exist. With
        ``reply_to``, the replies of that thread instead of the room's messages.

        A Query page ends at 1 MB of items whatever its Limit, so "more" comes from reading
        on (following LastEvaluatedKey) until one more message is seen or the room ends,
        never from the count of one response:
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
        Strongly consistent, so `joined.recent` includes a message stored just before.
        """
        values = {":r": _s(partition(room_id, reply_to))}
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
        sized = [0, 0]  # bytes and count of the entries measured so far
        more = False
        ended = False  # an expired message: the room's history ends there
        while not (more or ended):
            # One item past what is still wanted tells whether an older page exists; with a
            # budget, no more than it can still hold (so 100 large messages are not read, at
            # up to 1 MB a page, to return 3).
            kwargs["Limit"] = query_limit(limit - len(taken) + 1, budget, used, *sized)
            resp = self._request("Query", **kwargs)
            for item in resp.get("Items", []):
                if self._expired(item):
                    ended = True
                    break
                msg = message_of(item)
                if len(taken) == limit:
                    more = True
                    break
                if budget is not None:
                    size = budget.size_of(msg)
                    sized[0] += size
                    sized[1] += 1
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
            found += [message_of(i) for i in resp.get("Items", []) if not self._expired(i)]
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        return found[:limit], len(found) > limit
