"""DynamoDB repositories for rooms and history, over an injected low-level boto3 client.

The low-level client (not boto3.resource) keeps cold-start imports small; items are marshalled by
hand because every attribute here is a string or a number.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import StorageError
from ..ports import Appended, Member, Message, Page

CONDITIONAL_FAILED = "ConditionalCheckFailedException"
PROFILE_PREFIX = "conn#"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _str(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value["S"] if value and "S" in value else None


def _int(item: dict[str, Any], key: str) -> int | None:
    value = item.get(key)
    return int(value["N"]) if value and "N" in value else None


def _storage_error(op: str, e: Exception) -> StorageError:
    code = e.response["Error"]["Code"] if isinstance(e, ClientError) else type(e).__name__
    return StorageError(f"{op} failed: {code}")


def _member(item: dict[str, Any]) -> Member:
    return Member(
        room_id=_str(item, "roomId") or "",
        connection_id=_str(item, "connectionId") or "",
        name=_str(item, "name") or "",
        joined_at=_str(item, "joinedAt") or "",
        expires_at=_int(item, "expiresAt") or 0,
    )


def _unexpired(expires_at: int | None, now_s: int) -> bool:
    # DynamoDB deletes TTL-expired items only eventually (typically within days), so readers
    # must skip them themselves.
    return not expires_at or expires_at > now_s


def _live(member: Member, now_s: int) -> bool:
    return _unexpired(member.expires_at, now_s)


class DynamoRooms:
    """Membership items: (roomId, connectionId) with a GSI on connectionId."""

    def __init__(self, client: Any, table: str, by_connection_index: str):
        self._db = client
        self._table = table
        self._index = by_connection_index

    def get_member(self, room_id: str, connection_id: str, now_s: int) -> Member | None:
        try:
            resp = self._db.get_item(
                TableName=self._table,
                Key={"roomId": _s(room_id), "connectionId": _s(connection_id)},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem rooms", e) from e
        item = resp.get("Item")
        if not item:
            return None
        member = _member(item)
        return member if _live(member, now_s) else None

    def put_member(self, member: Member) -> None:
        self._put(
            {
                "roomId": _s(member.room_id),
                "connectionId": _s(member.connection_id),
                "name": _s(member.name),
                "joinedAt": _s(member.joined_at),
                "expiresAt": _n(member.expires_at),
            }
        )

    def delete_member(self, room_id: str, connection_id: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"roomId": _s(room_id), "connectionId": _s(connection_id)},
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("DeleteItem rooms", e) from e

    def _query(self, what: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query matches, following LastEvaluatedKey across 1 MB pages."""
        kwargs["TableName"] = self._table
        while True:
            try:
                resp = self._db.query(**kwargs)
            except (ClientError, BotoCoreError) as e:
                raise _storage_error(f"Query {what}", e) from e
            yield from resp.get("Items", [])
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _room(self, room_id: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """One room's partition: a Query of one partition key, never a Scan."""
        return self._query(
            "rooms",
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": _s(room_id)},
            **kwargs,
        )

    def list_members(self, room_id: str, now_s: int) -> list[Member]:
        """Every live member of one room, with names (for `members` and the joined count)."""
        return [m for m in map(_member, self._room(room_id)) if _live(m, now_s)]

    def recipient_ids(self, room_id: str, now_s: int) -> list[str]:
        """The connection ids of one room's live members, all a fan-out needs.

        Projecting the two attributes used costs the same reads (DynamoDB bills the items read,
        not the attributes returned) but makes responses ~60% smaller and cheaper to parse
        (the bench: 14 -> 5 ms of botocore parsing per 1,000 members on one core).
        """
        items = self._room(room_id, ProjectionExpression="connectionId, expiresAt")
        return [
            cid
            for item in items
            if (cid := _str(item, "connectionId")) and _unexpired(_int(item, "expiresAt"), now_s)
        ]

    def memberships_of(self, connection_id: str) -> list[Member]:
        items = self._query(
            "rooms index",
            IndexName=self._index,
            KeyConditionExpression="connectionId = :c",
            ExpressionAttributeValues={":c": _s(connection_id)},
        )
        return list(map(_member, items))

    def put_profile(self, connection_id: str, name: str, expires_at: int) -> None:
        self._put(
            {
                "roomId": _s(PROFILE_PREFIX + connection_id),
                "connectionId": _s(connection_id),
                "name": _s(name),
                "expiresAt": _n(expires_at),
            }
        )

    def get_profile_name(self, connection_id: str) -> str | None:
        # Profiles never expire before the connection does, so no TTL check is needed.
        key = {"roomId": _s(PROFILE_PREFIX + connection_id), "connectionId": _s(connection_id)}
        try:
            resp = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem rooms", e) from e
        return _str(resp.get("Item") or {}, "name")

    def delete_profile(self, connection_id: str) -> None:
        self.delete_member(PROFILE_PREFIX + connection_id, connection_id)

    def _put(self, item: dict[str, Any]) -> None:
        try:
            self._db.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("PutItem rooms", e) from e


def _message(item: dict[str, Any]) -> Message:
    return Message(
        room_id=_str(item, "roomId") or "",
        message_id=_str(item, "messageId") or "",
        sent_at=_str(item, "sentAt") or "",
        sender=_str(item, "sender") or "",
        message=_str(item, "message") or "",
        client_msg_id=_str(item, "clientMsgId"),
        connection_id=_str(item, "connectionId"),
    )


class DynamoHistory:
    """Every message of every room: (roomId, messageId) with messageId a ULID."""

    def __init__(self, client: Any, table: str):
        self._db = client
        self._table = table

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
        if expires_at:
            item["expiresAt"] = _n(expires_at)
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(messageId)",
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                # A concurrent retry stored it first; theirs is the one everybody sees.
                stored = self._get(message.room_id, message.message_id)
                if stored is not None:
                    return Appended(stored, duplicate=True)
            raise _storage_error("PutItem history", e) from e
        except BotoCoreError as e:
            raise _storage_error("PutItem history", e) from e
        return Appended(message, duplicate=False)

    def _claim_client_msg_id(self, message: Message, expires_at: int) -> Message | None:
        """Claim (connection, clientMsgId) for this messageId; return an earlier claim if any."""
        key = {
            "roomId": _s(message.room_id + "#idem"),
            "messageId": _s(f"{message.connection_id}#{message.client_msg_id}"),
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **key,
                    "ref": _s(message.message_id),
                    "sentAt": _s(message.sent_at),
                    "expiresAt": _n(expires_at),
                },
                ConditionExpression="attribute_not_exists(messageId)",
            )
            return None
        except ClientError as e:
            if e.response["Error"]["Code"] != CONDITIONAL_FAILED:
                raise _storage_error("PutItem history", e) from e
        except BotoCoreError as e:
            raise _storage_error("PutItem history", e) from e
        try:
            resp = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem history", e) from e
        claim = resp.get("Item") or {}
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
        )

    def _get(self, room_id: str, message_id: str) -> Message | None:
        try:
            resp = self._db.get_item(
                TableName=self._table,
                Key={"roomId": _s(room_id), "messageId": _s(message_id)},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem history", e) from e
        item = resp.get("Item")
        return _message(item) if item else None

    def page(self, room_id: str, limit: int, before: str | None) -> Page:
        """Up to ``limit`` messages older than ``before`` (newest page when None), oldest first."""
        values = {":r": _s(room_id)}
        condition = "roomId = :r"
        if before:
            condition += " AND messageId < :b"
            values[":b"] = _s(before)
        try:
            # One extra item tells whether an older page exists, so `next` is never a dead end.
            resp = self._db.query(
                TableName=self._table,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ScanIndexForward=False,
                Limit=limit + 1,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("Query history", e) from e
        items = [_message(i) for i in resp.get("Items", [])]
        more = len(items) > limit
        items = items[:limit]
        items.reverse()
        return Page(messages=items, next_cursor=items[0].message_id if more and items else None)


class DynamoRateLimiter:
    """A fixed one-second window per connection, shared by every Lambda instance.

    One conditional counter item per connection and second, in the history table's
    ``rate#<connectionId>`` partition (never a room: '#' is not allowed in room ids), expiring
    a minute later. A request over the limit fails the condition and changes nothing.
    """

    def __init__(self, client: Any, table: str, per_second: int):
        self._db = client
        self._table = table
        self._per_second = per_second

    def allow(self, connection_id: str, now_ms: int) -> bool:
        second = now_ms // 1000
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"roomId": _s("rate#" + connection_id), "messageId": _s(str(second))},
                UpdateExpression="ADD n :one SET expiresAt = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": _n(1),
                    ":exp": _n(second + 60),
                    ":limit": _n(self._per_second),
                },
            )
            return True
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                return False
            raise _storage_error("UpdateItem history", e) from e
        except BotoCoreError as e:
            raise _storage_error("UpdateItem history", e) from e
