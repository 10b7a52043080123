"""The ports of notifications for away members (usecases/notifications.py): the devices and
room levels a user set, the queue to the `notify` worker and the push services."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Device:
    """A registered device: a Web Push subscription (``kind`` "webpush": endpoint and keys)
    or a mobile token (``kind`` its platform, with the SNS endpoint made for it)."""

    device_id: str
    kind: str
    endpoint: str = ""
    p256dh: str = ""
    auth: str = ""
    token: str = ""
    endpoint_arn: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class Watch:
    """A user's notification state in a room: their name there, the level they chose, and
    the coalescing window's state (when the last push went, how many were held since)."""

    room_id: str
    user_id: str
    name: str
    level: str
    last_push_ms: int = 0
    held: int = 0


@dataclass(frozen=True)
class NotifyJob:
    """One stored message for the `notify` worker to consider (a queue message)."""

    room_id: str
    message_id: str
    reply_to: str | None = None


class PushOutcome(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 404/410 from the push service (or SNS's EndpointDisabled): remove it
    FAILED = "failed"


class NotificationsRepository(Protocol):
    def put_device(self, user_id: str, device: Device, cap: int) -> tuple[str, int]:
        """Register a device (the same id again replaces it): ("added" | "same" | "full",
        the user's number of devices after). At most ``cap``, under concurrent calls too."""
        ...

    def delete_device(self, user_id: str, device_id: str) -> tuple[bool, int]:
        """Remove one: whether it was there, and how many remain."""
        ...

    def devices(self, user_id: str) -> list[Device]: ...

    def watch(self, room_id: str, user_id: str, name: str, expires_at: int) -> None:
        """Remember that the user is in the room under ``name`` (their level is kept)."""
        ...

    def set_level(
        self, room_id: str, user_id: str, name: str, level: str, expires_at: int
    ) -> None: ...

    def watchers(self, room_id: str, now_s: int) -> list[Watch]: ...

    def claim(self, room_id: str, user_id: str, now_ms: int, window_ms: int) -> int | None:
        """The coalescing rule, atomically: when the user's last push for the room is at
        least ``window_ms`` old, take the slot (last push = now) and return how many were
        held since (then zero); otherwise count one more held and return None."""
        ...


class NotifyQueue(Protocol):
    def enqueue(self, job: NotifyJob) -> bool:
        """Queue one job; False when the queue refused it."""
        ...


class PushSender(Protocol):
    def push(self, device: Device, payload: bytes, ttl_s: int) -> PushOutcome: ...


class MobilePush(Protocol):
    def endpoint_for(self, platform: str, token: str, user_id: str) -> str:
        """The SNS platform endpoint's ARN for a device token (CreatePlatformEndpoint is
        idempotent for the same token and attributes)."""
        ...
