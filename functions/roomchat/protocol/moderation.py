"""kick (and ban) and disconnectUser: their requests and frames (disconnectUser's request is
``rooms.UserRequest``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .common import check_room_id, check_user_id

# Ten years: longer bans are "forever".
BAN_SECONDS_MAX = 10 * 365 * 86400


@dataclass(frozen=True)
class KickRequest:
    room_id: str
    user_id: str
    ban_seconds: int | None  # None: no ban
    forever: bool  # a ban with no end


def parse_kick(frame: dict[str, Any]) -> KickRequest:
    room_id = check_room_id(frame.get("roomId"))
    user_id = check_user_id(frame.get("userId"))
    ban = frame.get("ban")
    if ban is None or ban is False:
        return KickRequest(room_id, user_id, None, False)
    if ban == "forever" or ban is True:
        return KickRequest(room_id, user_id, None, True)
    if isinstance(ban, int) and not isinstance(ban, bool) and 1 <= ban <= BAN_SECONDS_MAX:
        return KickRequest(room_id, user_id, ban, False)
    raise BadRequest(f"'ban' must be a number of seconds from 1 to {BAN_SECONDS_MAX} or 'forever'")


def kicked_frame(
    room_id: str, user_id: str, names: list[str], until: int | None, banned: bool
) -> dict[str, Any]:
    """To the room (the kicked user's connections included) and the moderator. ``bannedUntil``
    is epoch seconds, null with ``banned`` true for a ban with no end."""
    return {
        "type": "kicked",
        "roomId": room_id,
        "userId": user_id,
        "names": names,
        "banned": banned,
        "bannedUntil": until,
    }


def disconnected_frame(user_id: str, connections: int) -> dict[str, Any]:
    return {"type": "disconnected", "userId": user_id, "connections": connections}
