"""DynamoDB repositories for rooms and history, over an injected low-level boto3 client.

The low-level client (not boto3.resource) keeps cold-start imports small; items are marshalled by
hand because every attribute here is a string or a number.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import logs
from ..errors import ConnectionGone, StorageError
from ..ports import Appended, Ban, ConnectionRecord, Member, Message, Page, Room
from ..protocol import ByteBudget

CONDITIONAL_FAILED = "ConditionalCheckFailedException"
# A connection's own partition of the rooms table: '#' is not allowed in room ids, so it never
# clashes with a room. It holds two items:
# - the profile (connectionId = <id>): the default name from ?name= or the token; found through
#   the byConnection index like a membership, and deleted when the connection closes;
# - the connection record (connectionId = "#<id>"): the rooms the connection joined (a string
#   set) and `gone` once it closed. Its index key is "#<id>", so Queries of the index for the
#   connection never see it and no index partition holds more than one connection's record.
CONNECTION_PREFIX = "conn#"
RECORD_PREFIX = "#"
RECORD_NAMES = {"#rooms": "rooms", "#gone": "gone", "#exp": "expiresAt"}
# A room's access list: its own partition ``acl#<roomId>`` (never a room, for the same reason),
# so Queries of the room's members never read it. It holds
# - the room record (connectionId = "#room#<roomId>": owner, policy, createdAt), its index key
#   unique to the room;
# - one role row per moderator or invited member (connectionId = "#role#<userId>": role); the
#   index partition "#role#<userId>" holds that user's roles only.
# No TTL on either: a room lives until it is deleted.
ACL_PREFIX = "acl#"
ROOM_RECORD_PREFIX = "#room#"
ROLE_PREFIX = "#role#"


def lives_with_a_connection(key: dict[str, Any]) -> bool:
    """Whether a rooms-table item (its key, as DynamoDB gives it) only means something while its
    connection is open: a membership (in a room's partition: no '#') or the connection's own
    profile and record (``conn#<id>``). Access lists (``acl#``) and the fan-out tier's progress
    (``fanout#``) outlive connections. The local stack clears the first kind when it restores
    its tables, since no connection survives its restart (scripts/roomchat_tools/local/stack.py)."""
    room_id = _str(key, "roomId") or ""
    return room_id.startswith(CONNECTION_PREFIX) or "#" not in room_id


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
        user_id=_str(item, "userId"),
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
        item = {
            "roomId": _s(member.room_id),
            "connectionId": _s(member.connection_id),
            "name": _s(member.name),
            "joinedAt": _s(member.joined_at),
            "expiresAt": _n(member.expires_at),
        }
        if member.user_id:
            item["userId"] = _s(member.user_id)
        self._put(item)

    def delete_member(self, room_id: str, connection_id: str) -> Member | None:
        try:
            resp = self._db.delete_item(
                TableName=self._table,
                Key={"roomId": _s(room_id), "connectionId": _s(connection_id)},
                ReturnValues="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("DeleteItem rooms", e) from e
        old = resp.get("Attributes")
        return _member(old) if old else None

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
        """One room's partition: a Query of one partition key, never a Scan.

        Strongly consistent, so a member whose join completed before a send is among its
        recipients: an eventually consistent read may miss a write of the last second.
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
        """
        return self._query(
            "rooms",
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": _s(room_id)},
            ConsistentRead=True,
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
        # GSI reads are eventually consistent (ConsistentRead is not supported on them):
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Reads
        items = self._query(
            "rooms index",
            IndexName=self._index,
            KeyConditionExpression="connectionId = :c",
            ExpressionAttributeValues={":c": _s(connection_id)},
        )
        members = map(_member, items)
        return [m for m in members if not m.room_id.startswith(CONNECTION_PREFIX)]

    def _profile_key(self, connection_id: str) -> dict[str, Any]:
        return {"roomId": _s(CONNECTION_PREFIX + connection_id), "connectionId": _s(connection_id)}

    def _record_key(self, connection_id: str) -> dict[str, Any]:
        return {
            "roomId": _s(CONNECTION_PREFIX + connection_id),
            "connectionId": _s(RECORD_PREFIX + connection_id),
        }

    def save_connection_name(self, connection_id: str, name: str, expires_at: int) -> None:
        key = self._profile_key(connection_id)
        self._put({**key, "name": _s(name), "expiresAt": _n(expires_at)})

    def connection_name(self, connection_id: str) -> str | None:
        # Profiles never expire before the connection does, so no TTL check is needed.
        key = self._profile_key(connection_id)
        try:
            resp = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem rooms", e) from e
        return _str(resp.get("Item") or {}, "name")

    def _update_record(self, connection_id: str, **kwargs: Any) -> dict[str, Any]:
        # Placeholders, so no attribute name can collide with DynamoDB's reserved words; only
        # those used (DynamoDB refuses unused ones).
        used = kwargs["UpdateExpression"] + kwargs.get("ConditionExpression", "")
        names = {k: v for k, v in RECORD_NAMES.items() if k in used}
        try:
            response: dict[str, Any] = self._db.update_item(
                TableName=self._table,
                Key=self._record_key(connection_id),
                ExpressionAttributeNames=names,
                **kwargs,
            )
        except BotoCoreError as e:
            raise _storage_error("UpdateItem rooms", e) from e
        return response

    def attach_room(self, connection_id: str, room_id: str, expires_at: int) -> None:
        # A single-item conditional write is atomic against close_connection's: either this
        # one comes first (and close sees the room) or it fails (and the caller undoes).
        try:
            self._update_record(
                connection_id,
                UpdateExpression="ADD #rooms :r SET #exp = if_not_exists(#exp, :e)",
                ConditionExpression="attribute_not_exists(#gone)",
                ExpressionAttributeValues={":r": {"SS": [room_id]}, ":e": _n(expires_at)},
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                raise ConnectionGone(
                    "this connection is closing; the room was not joined", room_id=room_id
                ) from e
            raise _storage_error("UpdateItem rooms", e) from e

    def detach_room(self, connection_id: str, room_id: str) -> None:
        try:
            self._update_record(
                connection_id,
                UpdateExpression="DELETE #rooms :r",
                # Never create a record (without a TTL) just to remove a room from it.
                ConditionExpression="attribute_exists(#exp)",
                ExpressionAttributeValues={":r": {"SS": [room_id]}},
            )
        except ClientError as e:
            if e.response["Error"]["Code"] != CONDITIONAL_FAILED:
                raise _storage_error("UpdateItem rooms", e) from e

    def close_connection(self, connection_id: str, expires_at: int) -> ConnectionRecord:
        try:
            resp = self._update_record(
                connection_id,
                # Kept (until its TTL) rather than deleted: a join still running must find it.
                UpdateExpression="SET #gone = :t, #exp = if_not_exists(#exp, :e)",
                ExpressionAttributeValues={":t": {"BOOL": True}, ":e": _n(expires_at)},
                ReturnValues="ALL_NEW",
            )
        except ClientError as e:
            raise _storage_error("UpdateItem rooms", e) from e
        rooms = (resp.get("Attributes") or {}).get("rooms", {}).get("SS", [])
        try:
            self._db.delete_item(TableName=self._table, Key=self._profile_key(connection_id))
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("DeleteItem rooms", e) from e
        return ConnectionRecord(connection_id, frozenset(rooms))

    def _put(self, item: dict[str, Any]) -> None:
        try:
            self._db.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("PutItem rooms", e) from e

    # ------------------------------------------------------------ rooms and roles

    def _room_key(self, room_id: str) -> dict[str, Any]:
        return {
            "roomId": _s(ACL_PREFIX + room_id),
            "connectionId": _s(ROOM_RECORD_PREFIX + room_id),
        }

    def _role_key(self, room_id: str, user_id: str) -> dict[str, Any]:
        return {"roomId": _s(ACL_PREFIX + room_id), "connectionId": _s(ROLE_PREFIX + user_id)}

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            resp = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem rooms", e) from e
        item: dict[str, Any] | None = resp.get("Item")
        return item

    def get_room(self, room_id: str) -> Room | None:
        item = self._get(self._room_key(room_id))
        if not item:
            return None
        return Room(
            room_id=room_id,
            owner=_str(item, "owner") or "",
            policy=_str(item, "policy") or "open",
            created_at=_str(item, "createdAt") or "",
        )

    def create_room(self, room: Room) -> bool:
        item = {
            **self._room_key(room.room_id),
            "owner": _s(room.owner),
            "policy": _s(room.policy),
            "createdAt": _s(room.created_at),
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(connectionId)",
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                return False
            raise _storage_error("PutItem rooms", e) from e
        except BotoCoreError as e:
            raise _storage_error("PutItem rooms", e) from e
        return True

    def room_in_use(self, room_id: str, now_s: int) -> bool:
        items = self._room(room_id, ProjectionExpression="connectionId, expiresAt")
        return any(_unexpired(_int(item, "expiresAt"), now_s) for item in items)

    def get_role(self, room_id: str, user_id: str) -> str | None:
        return _str(self._get(self._role_key(room_id, user_id)) or {}, "role")

    def put_role(self, room_id: str, user_id: str, role: str) -> None:
        self._put({**self._role_key(room_id, user_id), "role": _s(role)})

    def delete_role(self, room_id: str, user_id: str) -> None:
        try:
            self._db.delete_item(TableName=self._table, Key=self._role_key(room_id, user_id))
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("DeleteItem rooms", e) from e


class DynamoFanoutProgress:
    """ports.FanoutProgress in the rooms table: one small item per chunk and attempt,
    ``fanout#<messageId>`` / ``<chunk>#<attempt>`` (room ids cannot contain '#'), holding the
    steps done and the unsettled recipients of those steps, removed by the table's TTL.

    One UpdateItem per step of a chunk (1 WCU while the item stays under 1 KB, which it does
    unless posts fail); read only when SQS redelivers a chunk (docs/design.md, "Big rooms")."""

    def __init__(self, client: Any, table: str):
        self._db = client
        self._table = table

    @staticmethod
    def _key(message_id: str, chunk: int, attempt: int) -> dict[str, Any]:
        return {"roomId": _s(f"fanout#{message_id}"), "connectionId": _s(f"{chunk}#{attempt}")}

    def load(self, message_id: str, chunk: int, attempt: int) -> tuple[int, set[str]]:
        try:
            resp = self._db.get_item(
                TableName=self._table,
                Key=self._key(message_id, chunk, attempt),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem rooms", e) from e
        item = resp.get("Item") or {}
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
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(message_id, chunk, attempt),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("UpdateItem rooms", e) from e


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


MESSAGE_NAMES = {
    "#m": "message",
    "#mid": "messageId",
    "#db": "deletedBy",
    "#da": "deletedAt",
    "#ea": "editedAt",
}


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
        if message.author_id:
            item["authorId"] = _s(message.author_id)
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
            author_id=message.author_id,
        )

    def get(self, room_id: str, message_id: str) -> Message | None:
        return self._get(room_id, message_id)

    def _update_message(
        self, room_id: str, message_id: str, update: str, condition: str, values: dict[str, Any]
    ) -> Message | None:
        used = update + condition
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key={"roomId": _s(room_id), "messageId": _s(message_id)},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={k: v for k, v in MESSAGE_NAMES.items() if k in used},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                return None
            raise _storage_error("UpdateItem history", e) from e
        except BotoCoreError as e:
            raise _storage_error("UpdateItem history", e) from e
        return _message(resp["Attributes"])

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

    def has_messages(self, room_id: str) -> bool:
        try:
            resp = self._db.query(
                TableName=self._table,
                KeyConditionExpression="roomId = :r",
                ExpressionAttributeValues={":r": _s(room_id)},
                ProjectionExpression="messageId",
                Limit=1,
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("Query history", e) from e
        return bool(resp.get("Items"))

    def stored(self, room_id: str, connection_id: str, client_msg_id: str) -> Message | None:
        key = {
            "roomId": _s(room_id + "#idem"),
            "messageId": _s(f"{connection_id}#{client_msg_id}"),
        }
        try:
            resp = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem history", e) from e
        ref = _str(resp.get("Item") or {}, "ref")
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
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        taken: list[Message] = []  # newest first
        oldest_seen: str | None = None  # the cursor: every message newer than it was consumed
        used = 0
        more = False
        while not more:
            # One item past what is still wanted tells whether an older page exists.
            kwargs["Limit"] = limit - len(taken) + 1
            try:
                resp = self._db.query(**kwargs)
            except (ClientError, BotoCoreError) as e:
                raise _storage_error("Query history", e) from e
            for item in resp.get("Items", []):
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

    def allow(self, connection_id: str, now_ms: int, limit: int | None = None) -> bool:
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
                    ":limit": _n(limit if limit is not None else self._per_second),
                },
            )
            return True
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                return False
            raise _storage_error("UpdateItem history", e) from e
        except BotoCoreError as e:
            raise _storage_error("UpdateItem history", e) from e


class DynamoModeration:
    """Bans and read markers, in partitions of the history table no room can name ('#' is not
    allowed in room ids):
    - ``ban#<roomId>`` / ``<userId>``: ``until`` (epoch seconds; absent: for good), ``by``, and
      ``expiresAt`` (TTL) a day after ``until``;
    - ``read#<roomId>`` / ``<readerId>``: ``lastRead`` (a messageId), only ever moved forward.
    """

    def __init__(self, client: Any, table: str):
        self._db = client
        self._table = table

    def put_ban(self, ban: Ban) -> None:
        item = {
            "roomId": _s("ban#" + ban.room_id),
            "messageId": _s(ban.user_id),
            "by": _s(ban.by),
        }
        if ban.until is not None:
            item["until"] = _n(ban.until)
            item["expiresAt"] = _n(ban.until + 86400)
        try:
            self._db.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("PutItem history", e) from e

    def get_ban(self, room_id: str, user_id: str, now_s: int) -> Ban | None:
        try:
            resp = self._db.get_item(
                TableName=self._table,
                Key={"roomId": _s("ban#" + room_id), "messageId": _s(user_id)},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem history", e) from e
        item = resp.get("Item")
        if not item:
            return None
        until = _int(item, "until")
        if until is not None and until <= now_s:
            return None
        return Ban(room_id, user_id, until, _str(item, "by") or "")

    def _marker_key(self, room_id: str, reader_id: str) -> dict[str, Any]:
        return {"roomId": _s("read#" + room_id), "messageId": _s(reader_id)}

    def mark_read(self, room_id: str, reader_id: str, message_id: str) -> str:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._marker_key(room_id, reader_id),
                UpdateExpression="SET lastRead = :m",
                # Two devices marking at once: the later message wins, never the later write.
                ConditionExpression="attribute_not_exists(lastRead) OR lastRead < :m",
                ExpressionAttributeValues={":m": _s(message_id)},
            )
            return message_id
        except ClientError as e:
            if e.response["Error"]["Code"] != CONDITIONAL_FAILED:
                raise _storage_error("UpdateItem history", e) from e
        except BotoCoreError as e:
            raise _storage_error("UpdateItem history", e) from e
        return self.last_read(room_id, reader_id) or message_id

    def last_read(self, room_id: str, reader_id: str) -> str | None:
        try:
            resp = self._db.get_item(
                TableName=self._table, Key=self._marker_key(room_id, reader_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error("GetItem history", e) from e
        return _str(resp.get("Item") or {}, "lastRead")

    def count_after(self, room_id: str, message_id: str | None, cap: int) -> int:
        """Select=COUNT returns no items but costs the same read units as reading them (items
        read, rounded up to 4 KB, 1 unit per 4 KB strongly consistent); ``Limit`` bounds the
        items read, so the cost is at most ``cap`` messages' worth, whatever the backlog.
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html
        """
        values = {":r": _s(room_id)}
        condition = "roomId = :r"
        if message_id:
            condition += " AND messageId > :m"
            values[":m"] = _s(message_id)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        count = 0
        while count < cap:
            kwargs["Limit"] = cap - count
            try:
                resp = self._db.query(**kwargs)
            except (ClientError, BotoCoreError) as e:
                raise _storage_error("Query history", e) from e
            count += resp.get("Count", 0)
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        return min(count, cap)
