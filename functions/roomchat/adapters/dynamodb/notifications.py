"""Notifications for away members, in the rooms table (docs/design.md, "Tables"):

- a user's devices: ONE item, ``device#<userId>`` / ``#devices``, whose map ``devices`` holds
  deviceId -> {kind, endpoint, p256dh, auth, token, arn, at}. One item, so the per-user cap
  holds under concurrent registrations (a condition on the map's size, as pins do) and the
  `notify` worker reads a user's devices with one GetItem.
- a user's state in a room: ``notify#<roomId>`` / ``#u#<userId>`` with ``name``, ``level``
  (absent: the default), ``lastPushAt``/``held`` (the coalescing window) and ``expiresAt``
  (refreshed by each join). The room's watchers are one Query of its partition.

Both sort keys start with '#', so no Query of the byConnection index for a connection id ever
sees them (as the rooms' records). No TTL on devices: they go when unregistered or when a
push service says they are gone (404/410).
"""

from __future__ import annotations

from typing import Any

from ...notification_ports import Device, Watch
from ...protocol.notifications import LEVEL_DEFAULT
from .base import Table, _int, _n, _s, _str, _unexpired

DEVICE_PREFIX = "device#"
DEVICES_SORT = "#devices"
WATCH_PREFIX = "notify#"
WATCH_SORT_PREFIX = "#u#"
_FIELDS = {
    "kind": "kind",
    "endpoint": "endpoint",
    "p256dh": "p256dh",
    "auth": "auth",
    "token": "token",
    "endpoint_arn": "arn",
    "created_at": "at",
}


def _device_value(device: Device) -> dict[str, Any]:
    return {
        attr: _s(getattr(device, field))
        for field, attr in _FIELDS.items()
        if getattr(device, field)
    }


def _device_of(device_id: str, value: dict[str, Any]) -> Device:
    m = value.get("M", {})
    return Device(device_id, **{field: _str(m, attr) or "" for field, attr in _FIELDS.items()})


class DynamoNotifications(Table):
    """notification_ports.NotificationsRepository."""

    kind = "rooms"

    def _device_key(self, user_id: str) -> dict[str, Any]:
        return {"roomId": _s(DEVICE_PREFIX + user_id), "connectionId": _s(DEVICES_SORT)}

    def _watch_key(self, room_id: str, user_id: str) -> dict[str, Any]:
        return {
            "roomId": _s(WATCH_PREFIX + room_id),
            "connectionId": _s(WATCH_SORT_PREFIX + user_id),
        }

    # ------------------------------------------------------------------ devices

    def _device_map(self, user_id: str) -> dict[str, Any] | None:
        item = self._read(self._device_key(user_id))
        return None if item is None else item.get("devices", {}).get("M", {})

    def put_device(self, user_id: str, device: Device, cap: int) -> tuple[str, int]:
        key = self._device_key(user_id)
        names = {"#d": "devices", "#id": device.device_id}
        value = {"M": _device_value(device)}
        for _ in range(3):
            existing = self._device_map(user_id)
            if existing is None:
                first = self._write(
                    "PutItem",
                    Item={**key, "devices": {"M": {device.device_id: value}}},
                    ConditionExpression="attribute_not_exists(roomId)",
                )
                if first is not None:
                    return "added", 1
                continue  # another registration made the item meanwhile
            same = device.device_id in existing
            # Replacing a device the user has never grows the map; a new one only below cap.
            condition = "attribute_exists(#d.#id)" if same else "size(#d) < :cap"
            values = {":v": value} | ({} if same else {":cap": _n(cap)})
            done = self._write(
                "UpdateItem",
                Key=key,
                UpdateExpression="SET #d.#id = :v",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
            if done is not None:
                count = len(done["Attributes"]["devices"]["M"])
                return ("same" if same else "added"), count
            if not same and len(existing) >= cap:
                return "full", len(existing)
        return "full", cap

    def delete_device(self, user_id: str, device_id: str) -> tuple[bool, int]:
        removed = self._write(
            "UpdateItem",
            Key=self._device_key(user_id),
            UpdateExpression="REMOVE #d.#id",
            ConditionExpression="attribute_exists(#d.#id)",
            ExpressionAttributeNames={"#d": "devices", "#id": device_id},
            ReturnValues="ALL_NEW",
        )
        if removed is None:
            left = self._device_map(user_id)
            return False, len(left or {})
        return True, len(removed["Attributes"].get("devices", {}).get("M", {}))

    def devices(self, user_id: str) -> list[Device]:
        found = self._device_map(user_id) or {}
        return [_device_of(device_id, value) for device_id, value in sorted(found.items())]

    # ------------------------------------------------------------------ rooms

    def watch(self, room_id: str, user_id: str, name: str, expires_at: int) -> None:
        self._request(
            "UpdateItem",
            Key=self._watch_key(room_id, user_id),
            UpdateExpression="SET #n = :n, expiresAt = :e",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":n": _s(name), ":e": _n(expires_at)},
        )

    def set_level(self, room_id: str, user_id: str, name: str, level: str, expires_at: int) -> None:
        self._request(
            "UpdateItem",
            Key=self._watch_key(room_id, user_id),
            UpdateExpression="SET #n = :n, #l = :l, expiresAt = :e",
            ExpressionAttributeNames={"#n": "name", "#l": "level"},
            ExpressionAttributeValues={":n": _s(name), ":l": _s(level), ":e": _n(expires_at)},
        )

    def watchers(self, room_id: str, now_s: int) -> list[Watch]:
        found = []
        for item in self._query(
            "rooms",
            KeyConditionExpression="roomId = :r AND begins_with(connectionId, :u)",
            ExpressionAttributeValues={
                ":r": _s(WATCH_PREFIX + room_id),
                ":u": _s(WATCH_SORT_PREFIX),
            },
        ):
            if not _unexpired(_int(item, "expiresAt"), now_s):
                continue
            found.append(
                Watch(
                    room_id=room_id,
                    user_id=(_str(item, "connectionId") or "")[len(WATCH_SORT_PREFIX) :],
                    name=_str(item, "name") or "",
                    level=_str(item, "level") or LEVEL_DEFAULT,
                    last_push_ms=_int(item, "lastPushAt") or 0,
                    held=_int(item, "held") or 0,
                )
            )
        return found

    def claim(self, room_id: str, user_id: str, now_ms: int, window_ms: int) -> int | None:
        key = self._watch_key(room_id, user_id)
        taken = self._write(
            "UpdateItem",
            Key=key,
            UpdateExpression="SET lastPushAt = :now, held = :zero",
            ConditionExpression="attribute_not_exists(lastPushAt) OR lastPushAt <= :since",
            ExpressionAttributeValues={
                ":now": _n(now_ms),
                ":zero": _n(0),
                ":since": _n(now_ms - window_ms),
            },
            ReturnValues="UPDATED_OLD",
        )
        if taken is not None:
            return _int(taken.get("Attributes", {}), "held") or 0
        self._request(
            "UpdateItem",
            Key=key,
            UpdateExpression="ADD held :one",
            ExpressionAttributeValues={":one": _n(1)},
        )
        return None
