"""Pins, on the room's record in the rooms table (``roles``: ``acl#<roomId>`` /
``#room#<roomId>``): a map ``pins`` of messageId -> {by, at, replyTo}. One item, so the bound
on the number of pins holds under concurrent pins (a condition on the map's size), and every
action that reads the room record (``get_room``) has the pins with it."""

from __future__ import annotations

from typing import Any

from ...ports import Pin
from .base import _s
from .roles import DynamoRoomAccess, pin_of


class DynamoPins(DynamoRoomAccess):
    """conversation_ports.PinsRepository."""

    def pin(self, room_id: str, pin: Pin, cap: int) -> str:
        value: dict[str, Any] = {"by": _s(pin.by), "at": _s(pin.at)}
        if pin.reply_to:
            value["replyTo"] = _s(pin.reply_to)
        key = self._room_key(room_id)
        names = {"#p": "pins", "#id": pin.message_id}
        added = self._write(
            "UpdateItem",
            Key=key,
            UpdateExpression="SET #p.#id = :pin",
            ConditionExpression="attribute_exists(#p) AND attribute_not_exists(#p.#id) "
            "AND size(#p) < :cap",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":pin": {"M": value}, ":cap": {"N": str(cap)}},
        )
        if added is not None:
            return "pinned"
        record = self._read(key)
        if record is None:
            return "gone"
        pins = record.get("pins", {}).get("M")
        if pins is None:
            # The room's first pin: the map itself (or, if another pin made it meanwhile, again).
            first = self._write(
                "UpdateItem",
                Key=key,
                UpdateExpression="SET #p = :pins",
                ConditionExpression="attribute_not_exists(#p)",
                ExpressionAttributeNames={"#p": "pins"},
                ExpressionAttributeValues={":pins": {"M": {pin.message_id: {"M": value}}}},
            )
            return "pinned" if first is not None else self.pin(room_id, pin, cap)
        return "same" if pin.message_id in pins else "full"

    def unpin(self, room_id: str, message_id: str) -> Pin | None:
        removed = self._write(
            "UpdateItem",
            Key=self._room_key(room_id),
            UpdateExpression="REMOVE #p.#id",
            ConditionExpression="attribute_exists(#p.#id)",
            ExpressionAttributeNames={"#p": "pins", "#id": message_id},
            ReturnValues="UPDATED_OLD",
        )
        if removed is None:
            return None
        return pin_of(message_id, removed["Attributes"]["pins"]["M"][message_id])
