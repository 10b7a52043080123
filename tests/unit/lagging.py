"""A DynamoDB client whose eventually consistent reads lag behind its writes, as AWS allows.

moto (like DynamoDB Local) answers every read from the latest state, so code that forgets
``ConsistentRead=True`` passes there and loses data on AWS. This wrapper keeps the items
written while a lag window is open invisible to reads that are not strongly consistent:
GetItem/Query without ``ConsistentRead=True``, and every Query of an index (GSI reads are
always eventually consistent). Strongly consistent reads see everything, as on AWS:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html

``on_write`` hooks run right after a matching write is applied, so a test can interleave two
requests at the exact step where the race happens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEYS = {"rooms": ("roomId", "connectionId"), "history": ("roomId", "messageId")}


def _key(table: str, item: dict[str, Any]) -> tuple[str, str, str]:
    hash_key, range_key = KEYS[table]
    return table, item[hash_key]["S"], item[range_key]["S"]


class LaggingClient:
    def __init__(self, client: Any) -> None:
        self._client = client
        self.lagging = False
        self.hidden: set[tuple[str, str, str]] = set()
        self.stale_reads = 0  # eventually consistent reads answered while something was hidden
        self._hooks: list[tuple[Callable[[str, dict[str, Any]], bool], Callable[[], None]]] = []

    # ---------------------------------------------------------------- test controls

    def lag(self) -> None:
        """From now on, writes stay invisible to eventually consistent reads until catch_up."""
        self.lagging = True

    def catch_up(self) -> None:
        self.lagging = False
        self.hidden.clear()

    def on_write(
        self, matches: Callable[[str, dict[str, Any]], bool], then: Callable[[], None]
    ) -> None:
        """Run ``then`` once, right after the first write whose (table, key) ``matches``."""
        self._hooks.append((matches, then))

    # ---------------------------------------------------------------- the client

    def _written(self, table: str, key: dict[str, Any]) -> None:
        if self.lagging:
            self.hidden.add(_key(table, key))
        for hook in list(self._hooks):
            matches, then = hook
            if matches(table, key):
                self._hooks.remove(hook)
                then()

    def put_item(self, **kwargs: Any) -> Any:
        result = self._client.put_item(**kwargs)
        self._written(kwargs["TableName"], kwargs["Item"])
        return result

    def update_item(self, **kwargs: Any) -> Any:
        result = self._client.update_item(**kwargs)
        self._written(kwargs["TableName"], kwargs["Key"])
        return result

    def delete_item(self, **kwargs: Any) -> Any:
        # Deletions are not delayed here: the races under test are about new items.
        return self._client.delete_item(**kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        result = self._client.get_item(**kwargs)
        item = result.get("Item")
        if item and not kwargs.get("ConsistentRead") and self._is_hidden(kwargs["TableName"], item):
            self.stale_reads += 1
            return {k: v for k, v in result.items() if k != "Item"}
        return result

    def query(self, **kwargs: Any) -> Any:
        result = self._client.query(**kwargs)
        if kwargs.get("ConsistentRead") and not kwargs.get("IndexName"):
            return result
        table = kwargs["TableName"]
        # A projection may leave out the partition key: it is the one the Query asked for.
        asked = kwargs.get("ExpressionAttributeValues", {})
        partition = {"roomId": asked[":r"]} if ":r" in asked else {}
        visible = [
            i for i in result.get("Items", []) if not self._is_hidden(table, {**partition, **i})
        ]
        if len(visible) != len(result.get("Items", [])):
            self.stale_reads += 1
        return {**result, "Items": visible, "Count": len(visible)}

    def _is_hidden(self, table: str, item: dict[str, Any]) -> bool:
        return bool(self.hidden) and _key(table, item) in self.hidden

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
