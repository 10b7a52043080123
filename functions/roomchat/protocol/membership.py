"""join, leave, members and presence: their requests and frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..ulid import is_ulid
from .common import UNREAD_CAP, check_name, check_room_id
from .messages import message_frame


@dataclass(frozen=True)
class JoinRequest:
    room_id: str
    name: str | None
    # Resume (protocol/resume.py): the newest messageId the client has; the reply replays
    # what came after it instead of the latest page.
    after: str | None = None


@dataclass(frozen=True)
class RoomRequest:
    """leave and members (and typing): only a room."""

    room_id: str


def check_after(value: object) -> str | None:
    if value is None:
        return None
    if not is_ulid(value):
        raise BadRequest("'after' must be a messageId (the newest message the client has)")
    return value  # type: ignore[return-value]


def parse_join(frame: dict[str, Any]) -> JoinRequest:
    room_id = check_room_id(frame.get("roomId"))
    name = frame.get("name")
    return JoinRequest(
        room_id, None if name is None else check_name(name), check_after(frame.get("after"))
    )


def parse_room(frame: dict[str, Any]) -> RoomRequest:
    return RoomRequest(check_room_id(frame.get("roomId")))


def joined_frame(
    room_id: str,
    name: str,
    members: int,
    recent: list[Any],
    next_cursor: str | None,
    you: str = "",
    last_read: str | None = None,
    unread: int = 0,
    pins: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``next`` is the ``before`` cursor for the history older than ``recent`` (null when
    ``recent`` reaches the start of the room). ``you`` is the caller's authorId; ``lastRead``
    its read marker (null when none) and ``unread`` the messages after it, counted up to
    UNREAD_CAP (``unreadCapped`` true: "100+"). ``pins``: the room's pinned messages
    (``pins.pin_entry``), oldest message first."""
    return {
        "type": "joined",
        "roomId": room_id,
        "name": name,
        "members": members,
        "recent": [message_frame(m) for m in recent],
        "next": next_cursor,
        "you": you,
        "lastRead": last_read,
        "unread": min(unread, UNREAD_CAP),
        "unreadCapped": unread > UNREAD_CAP,
        "pins": pins or [],
    }


def left_frame(room_id: str) -> dict[str, Any]:
    return {"type": "left", "roomId": room_id}


def presence_frame(event: str, room_id: str, name: str) -> dict[str, Any]:
    return {"type": "presence", "event": event, "roomId": room_id, "name": name}


def members_frame(room_id: str, names: list[str]) -> dict[str, Any]:
    return {"type": "members", "roomId": room_id, "members": names}
