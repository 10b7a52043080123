"""What the use-cases need from the outside world (small interfaces) and the records they pass."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Member:
    """One connection's membership of one room."""

    room_id: str
    connection_id: str
    name: str
    joined_at: str
    expires_at: int  # epoch seconds; the table's TTL attribute


@dataclass(frozen=True)
class Message:
    room_id: str
    message_id: str
    sent_at: str
    sender: str
    message: str
    client_msg_id: str | None = None
    connection_id: str | None = None


@dataclass(frozen=True)
class Page:
    messages: list[Message]  # oldest .. newest
    next_cursor: str | None  # pass as ``before`` for the page before this one


@dataclass(frozen=True)
class Appended:
    message: Message
    duplicate: bool  # True when a retried clientMsgId found the message already stored


class Delivery(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the connection no longer exists
    FAILED = "failed"  # anything else, after the client's retries


class RoomsRepository(Protocol):
    def get_member(self, room_id: str, connection_id: str, now_s: int) -> Member | None: ...

    def put_member(self, member: Member) -> None: ...

    def delete_member(self, room_id: str, connection_id: str) -> None: ...

    def list_members(self, room_id: str, now_s: int) -> list[Member]: ...

    def recipient_ids(self, room_id: str, now_s: int) -> list[str]:
        """The connection ids of a room's live members: all a fan-out needs."""
        ...

    def memberships_of(self, connection_id: str) -> list[Member]:
        """Every membership of one connection, through the connectionId index."""
        ...

    def put_profile(self, connection_id: str, name: str, expires_at: int) -> None: ...

    def get_profile_name(self, connection_id: str) -> str | None: ...

    def delete_profile(self, connection_id: str) -> None: ...


class HistoryRepository(Protocol):
    def append(self, message: Message, expires_at: int | None, idem_expires_at: int) -> Appended:
        """Store a message; a repeat of (room, connection, clientMsgId) returns the stored one."""
        ...

    def page(self, room_id: str, limit: int, before: str | None) -> Page: ...


class RateLimiter(Protocol):
    def allow(self, connection_id: str, now_ms: int) -> bool:
        """Count one message for this connection; False when it is over its limit this second."""
        ...


class ConnectionSender(Protocol):
    def send_many(self, connection_ids: Iterable[str], data: bytes) -> Mapping[str, Delivery]:
        """Post one frame to many connections; never raises for a single connection's failure."""
        ...
