"""Rooms and roles: createRoom, and invite, uninvite, promote and demote by the room's owner
and moderators (who may: ``policy.role_in``; the table of roles: docs/design.md)."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import BadRequest, Forbidden
from ..ports import MEMBER, MODERATOR, OWNER, PRIVATE, Room
from . import policy
from .broadcast import take_out
from .core import Caller, Deps, iso_ms


def create_room(deps: Deps, caller: Caller, req: protocol.CreateRoomRequest) -> dict[str, Any]:
    """A room with an owner (the caller) and a policy; only an unused room id."""
    if caller.user_id is None:
        raise Forbidden(
            "sign in to create rooms (the stack needs auth_mode jwt or oidc)",
            room_id=req.room_id,
        )
    if policy.granted_by_operator(deps, req.room_id):
        # Granted by tokens' `rooms` claims: the operator's, taken by nobody (else anyone
        # could own a room before the people it was granted to arrive).
        raise Forbidden(
            f"room ids starting with {deps.settings.granted_room_prefix!r} are granted by the "
            "operator, not created; pick another id",
            room_id=req.room_id,
        )
    policy.check_rate(deps, caller, req.room_id, "the room was not created")
    now = deps.clock()
    taken = Forbidden(f"room {req.room_id!r} already exists; pick another id")
    taken.room_id = req.room_id
    # A room someone is in or has written to is theirs as much as the caller's.
    if deps.rooms.room_in_use(req.room_id, now // 1000) or deps.history.has_messages(req.room_id):
        raise taken
    room = Room(req.room_id, caller.user_id, req.policy, iso_ms(now))
    if not deps.rooms.create_room(room):
        raise taken
    logs.info("room_created", policy=room.policy)
    return protocol.room_created_frame(room)


def _manage(deps: Deps, caller: Caller, req: protocol.UserRequest, *roles: str) -> Room:
    """The room, if the caller's role is one of ``roles``; else the one refusal."""
    room = deps.rooms.get_room(req.room_id)
    if room is None or policy.role_in(deps, req.room_id, room, caller) not in roles:
        raise policy.may_not_manage(req.room_id)
    policy.check_rate(deps, caller, req.room_id, "nothing was changed")
    if req.user_id == room.owner:
        raise Forbidden(f"the owner's role in room {req.room_id!r} cannot change")
    return room


def invite(deps: Deps, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
    """Owner or moderator: the user becomes a member (of a private room: may join)."""
    _manage(deps, caller, req, OWNER, MODERATOR)
    role = deps.rooms.get_role(req.room_id, req.user_id)
    if role is None:
        deps.rooms.put_role(req.room_id, req.user_id, MEMBER)
        role = MEMBER
    return protocol.role_frame(req.room_id, req.user_id, role)


def uninvite(deps: Deps, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
    """Owner or moderator (a moderator only of members): the user loses their role, and
    in a private room their connections leave it at once."""
    caller_role = policy.role(deps, req.room_id, caller)
    room = _manage(deps, caller, req, OWNER, MODERATOR)
    role = deps.rooms.get_role(req.room_id, req.user_id)
    if role == MODERATOR and caller_role != OWNER:
        raise Forbidden(
            f"only the owner of room {req.room_id!r} may uninvite a moderator",
            room_id=req.room_id,
        )
    deps.rooms.delete_role(req.room_id, req.user_id)
    if room.policy == PRIVATE:
        members = deps.rooms.list_members(req.room_id, deps.now_s())
        take_out(deps, req.room_id, [m for m in members if m.user_id == req.user_id])
    return protocol.role_frame(req.room_id, req.user_id, None)


def promote(deps: Deps, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
    """Owner only: the user becomes a moderator (may post in announce rooms, invite)."""
    _manage(deps, caller, req, OWNER)
    deps.rooms.put_role(req.room_id, req.user_id, MODERATOR)
    return protocol.role_frame(req.room_id, req.user_id, MODERATOR)


def demote(deps: Deps, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
    """Owner only: a moderator becomes a member again (still invited)."""
    _manage(deps, caller, req, OWNER)
    if deps.rooms.get_role(req.room_id, req.user_id) != MODERATOR:
        raise BadRequest(f"{req.user_id!r} is not a moderator", room_id=req.room_id)
    deps.rooms.put_role(req.room_id, req.user_id, MEMBER)
    return protocol.role_frame(req.room_id, req.user_id, MEMBER)
