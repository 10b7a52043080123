"""What every DynamoDB repository shares: the item codecs and ``Table``, whose few methods
make each request and turn its failures into the project's: a failed ``ConditionExpression``
into a None, anything else into a ``StorageError`` naming the operation and the table.

Over an injected low-level client (not boto3.resource, which adds to every cold start);
items are marshalled by hand because every attribute here is a string, a number or a set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ... import metering
from ...errors import StorageError

CONDITIONAL_FAILED = "ConditionalCheckFailedException"
# The client's method of each operation (the names StorageError messages use).
METHODS = {
    "GetItem": "get_item",
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "Query": "query",
}


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


def _unexpired(expires_at: int | None, now_s: int) -> bool:
    # DynamoDB deletes TTL-expired items only eventually (typically within days), so readers
    # must skip them themselves.
    return not expires_at or expires_at > now_s


def _storage_error(op: str, e: Exception) -> StorageError:
    code = e.response["Error"]["Code"] if isinstance(e, ClientError) else type(e).__name__
    return StorageError(f"{op} failed: {code}")


class Table:
    """One table (``kind`` names it in errors: "GetItem rooms failed: ...")."""

    kind = "table"

    def __init__(self, client: Any, table: str):
        self._db = client
        self._table = table

    def _request(self, op: str, what: str = "", **kwargs: Any) -> dict[str, Any]:
        """One request of ``op`` on this table; any failure a ``StorageError``."""
        try:
            response: dict[str, Any] = getattr(self._db, METHODS[op])(
                TableName=self._table, **kwargs
            )
        except (ClientError, BotoCoreError) as e:
            raise _storage_error(f"{op} {what or self.kind}", e) from e
        if op == "Query" and response.get("Items"):
            metering.add(metering.size_of(response["Items"]))
        elif op == "GetItem" and response.get("Item"):
            metering.add(metering.size_of(response["Item"]))
        return response

    def _write(self, op: str, **kwargs: Any) -> dict[str, Any] | None:
        """A conditional write: its response, or None when its ConditionExpression failed
        (ConditionalCheckFailedException; nothing was written); any other failure a
        ``StorageError``."""
        try:
            response: dict[str, Any] = getattr(self._db, METHODS[op])(
                TableName=self._table, **kwargs
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == CONDITIONAL_FAILED:
                return None
            raise _storage_error(f"{op} {self.kind}", e) from e
        except BotoCoreError as e:
            raise _storage_error(f"{op} {self.kind}", e) from e
        return response

    def _read(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """One item, read strongly consistently; None when there is none."""
        item: dict[str, Any] | None = self._request("GetItem", Key=key, ConsistentRead=True).get(
            "Item"
        )
        return item or None

    def _query(self, what: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query matches, following LastEvaluatedKey across 1 MB pages."""
        while True:
            resp = self._request("Query", what, **kwargs)
            yield from resp.get("Items", [])
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _count_after(self, partition: str, after: str | None, cap: int) -> int:
        """How many items of a partition sort after ``after`` (all when None), counting at
        most ``cap``: a strongly consistent Query with Select=COUNT, which returns no items
        but costs the same read units as reading them (items read, rounded up to 4 KB, 1 unit
        per 4 KB strongly consistent); ``Limit`` bounds the items read, so the cost is at
        most ``cap`` items' worth, whatever the backlog.
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html
        """
        values = {":r": _s(partition)}
        condition = "roomId = :r"
        if after:
            condition += " AND messageId > :m"
            values[":m"] = _s(after)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        count = 0
        while count < cap:
            kwargs["Limit"] = cap - count
            resp = self._request("Query", **kwargs)
            count += resp.get("Count", 0)
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        return min(count, cap)
