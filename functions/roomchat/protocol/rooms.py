"""createRoom, invite, uninvite, promote and demote: their requests and frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .common import check_room_id, check_user_id

POLICIES = ("open", "private", "announce")


@dataclass(frozen=True)
class CreateRoomRequest:
    room_id: str
    policy: str


@dataclass(frozen=True)
class UserRequest:
    """invite, uninvite, promote, demote, disconnectUser: a room and the user (a token's sub,
    or a connection id without sign-in) it is about."""

    room_id: str
    user_id: str


def parse_create_room(frame: dict[str, Any]) -> CreateRoomRequest:
    room_id = check_room_id(frame.get("roomId"))
    policy = frame.get("policy", "open")
    if policy not in POLICIES:
        raise BadRequest("'policy' must be one of: " + ", ".join(POLICIES))
    return CreateRoomRequest(room_id, policy)


def parse_user(frame: dict[str, Any]) -> UserRequest:
    return UserRequest(check_room_id(frame.get("roomId")), check_user_id(frame.get("userId")))


def room_created_frame(room: Any) -> dict[str, Any]:
    return {
        "type": "roomCreated",
        "roomId": room.room_id,
        "policy": room.policy,
        "owner": room.owner,
        "createdAt": room.created_at,
    }


def role_frame(room_id: str, user_id: str, role: str | None) -> dict[str, Any]:
    """The answer to invite/uninvite/promote/demote: the user's role now (null: none)."""
    return {"type": "role", "roomId": room_id, "userId": user_id, "role": role}
