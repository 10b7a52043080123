"""Rooms created with createRoom and the roles in them, in the rooms table.

A room's access list is its own partition ``acl#<roomId>`` ('#' is not allowed in room ids,
so it is never a room and Queries of the room's members never read it). It holds
- the room record (connectionId = "#room#<roomId>": owner, policy, createdAt, and the room's
  pins, ``pins``), its index key unique to the room;
- one role row per moderator or invited member (connectionId = "#role#<userId>": role); the
  index partition "#role#<userId>" holds that user's roles only.
No TTL on either: a room lives until it is deleted.
"""

from __future__ import annotations

from typing import Any

from ...ports import Pin, Room
from .base import Table, _s, _str

ACL_PREFIX = "acl#"
ROOM_RECORD_PREFIX = "#room#"
ROLE_PREFIX = "#role#"


class DynamoRoomAccess(Table):
    """The room records and role rows of ports.RoomsRepository (``DynamoRooms`` adds the
    memberships of the same table)."""

    kind = "rooms"

    def _room_key(self, room_id: str) -> dict[str, Any]:
        return {
            "roomId": _s(ACL_PREFIX + room_id),
            "connectionId": _s(ROOM_RECORD_PREFIX + room_id),
        }

    def _role_key(self, room_id: str, user_id: str) -> dict[str, Any]:
        return {"roomId": _s(ACL_PREFIX + room_id), "connectionId": _s(ROLE_PREFIX + user_id)}

    def get_room(self, room_id: str) -> Room | None:
        item = self._read(self._room_key(room_id))
        if not item:
            return None
        pins = item.get("pins", {}).get("M", {})
        return Room(
            room_id=room_id,
            owner=_str(item, "owner") or "",
            policy=_str(item, "policy") or "open",
            created_at=_str(item, "createdAt") or "",
            pins=tuple(pin_of(mid, value) for mid, value in sorted(pins.items())),
        )

    def create_room(self, room: Room) -> bool:
        item = {
            **self._room_key(room.room_id),
            "owner": _s(room.owner),
            "policy": _s(room.policy),
            "createdAt": _s(room.created_at),
        }
        written = self._write(
            "PutItem", Item=item, ConditionExpression="attribute_not_exists(connectionId)"
        )
        return written is not None

    def get_role(self, room_id: str, user_id: str) -> str | None:
        return _str(self._read(self._role_key(room_id, user_id)) or {}, "role")

    def put_role(self, room_id: str, user_id: str, role: str) -> None:
        self._request("PutItem", Item={**self._role_key(room_id, user_id), "role": _s(role)})

    def delete_role(self, room_id: str, user_id: str) -> None:
        self._request("DeleteItem", Key=self._role_key(room_id, user_id))


def pin_of(message_id: str, value: dict[str, Any]) -> Pin:
    """A pin of the record's ``pins`` map (see ``pins``)."""
    fields = value.get("M", {})
    return Pin(
        message_id, _str(fields, "by") or "", _str(fields, "at") or "", _str(fields, "replyTo")
    )
