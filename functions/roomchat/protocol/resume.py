"""Resume: ``join`` with ``after``, ``resume`` (a connection's rooms at once) and ``history``
with ``after`` (the continuation): their requests, frames and byte budgets.

A client that had messages up to ``after`` gets every message stored after it, oldest first,
within the reply's budget, plus ``updated``: the current state of older messages edited or
deleted since (for the client to apply to those it shows). ``resumeNext`` (in ``joined``) or
``next`` (in a forward ``history`` page) is the ``after`` of the following page, null once the
reply reaches the present. ``recovered: false`` says ``after`` is older than the history kept:
the reply is then the latest page, as a plain join's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .budget import _CURSOR_PLACEHOLDER, ByteBudget, _message_entry_bytes, joined_envelope
from .common import REPLY_BYTES_BUDGET, check_name, check_room_id, frame_bytes
from .membership import JoinRequest, check_after
from .messages import history_frame, message_frame

# Rooms one `resume` may name: each is a join (a write, a read of the room, its rate-limit
# slot), so no more than the per-connection rate limit allows in a second by default.
RESUME_ROOMS_MAX = 10
# Messages one replayed page holds at most (and always at most the reply's byte budget).
RESUME_PAGE_MAX = 100
# Edited or deleted older messages one page reports at most (each is one read).
RESUME_UPDATED_MAX = 50


@dataclass(frozen=True)
class ResumeRequest:
    rooms: tuple[JoinRequest, ...]


def parse_resume(frame: dict[str, Any]) -> ResumeRequest:
    rooms = frame.get("rooms")
    if not isinstance(rooms, list) or not 1 <= len(rooms) <= RESUME_ROOMS_MAX:
        raise BadRequest(
            f"'rooms' must be a list of 1-{RESUME_ROOMS_MAX} objects "
            '{"roomId": ..., "after": "<messageId>"} (after is optional)'
        )
    name = frame.get("name")
    default_name = None if name is None else check_name(name)
    parsed: dict[str, JoinRequest] = {}
    for entry in rooms:
        if not isinstance(entry, dict):
            raise BadRequest('each of \'rooms\' must be an object {"roomId": ..., "after": ...}')
        room_id = check_room_id(entry.get("roomId"))
        if room_id in parsed:
            raise BadRequest(f"room {room_id!r} is named twice in 'rooms'")
        parsed[room_id] = JoinRequest(room_id, default_name, check_after(entry.get("after")))
    return ResumeRequest(tuple(parsed.values()))


def resume_fields(updated: list[Any], recovered: bool, resume_next: str | None) -> dict[str, Any]:
    """What a join with ``after`` adds to ``joined`` (its ``recent`` holds the replay)."""
    return {
        "updated": [message_frame(m) for m in updated],
        "recovered": recovered,
        "resumeNext": resume_next,
    }


def resumed_frame(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``joined`` (or ``error``) frame per room of the request, in its order."""
    return {"type": "resumed", "rooms": frames}


def history_after_frame(
    room_id: str, messages: list[Any], updated: list[Any], next_cursor: str | None, recovered: bool
) -> dict[str, Any]:
    frame = history_frame(room_id, messages, next_cursor)
    frame["updated"] = [message_frame(m) for m in updated]
    frame["recovered"] = recovered
    return frame


def joined_after_budget(
    room_id: str,
    name: str,
    members: int,
    budget: int,
    pins: list[dict[str, Any]] | None = None,
) -> ByteBudget:
    """What a resumed ``joined`` frame's ``recent`` and ``updated`` may use together (beside
    the room's ``pins``)."""
    envelope = joined_envelope(room_id, name, members, pins)
    envelope.update(resume_fields([], False, _CURSOR_PLACEHOLDER))
    return ByteBudget(budget - frame_bytes(envelope), _message_entry_bytes)


def history_after_budget(room_id: str, budget: int = REPLY_BYTES_BUDGET) -> ByteBudget:
    envelope = history_after_frame(room_id, [], [], _CURSOR_PLACEHOLDER, False)
    return ByteBudget(budget - frame_bytes(envelope), _message_entry_bytes)


def resumed_budget(budget: int = REPLY_BYTES_BUDGET) -> int:
    """The bytes the room frames of one ``resumed`` reply may take together."""
    return budget - frame_bytes(resumed_frame([]))
