"""Moderation: kick (and ban) a user from a room, and disconnectUser (scoped to the room for
its owner and moderators). Who may is decided in ``policy.may``; deleting others' messages is
in ``messages.delete``."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import Internal
from ..ports import Ban, Delivery, Member
from . import policy
from .broadcast import broadcast, in_parallel, prune, remove_memberships, take_out
from .core import Caller, Deps


def kick(deps: Deps, caller: Caller, req: protocol.KickRequest) -> dict[str, Any]:
    """Remove every membership of a user in a room, optionally banning them (for a time or
    for good) so that no connection of theirs can join again; the room is told."""
    policy.authorize(
        deps,
        "kick" if req.ban_seconds is None and not req.forever else "ban",
        req.room_id,
        caller,
        req.user_id,
    )
    if not caller.operator:
        policy.require_member(deps, req.room_id, caller)
        policy.check_rate(deps, caller, req.room_id, "nobody was kicked")
    now_s = deps.now_s()
    banned = req.forever or req.ban_seconds is not None
    until = now_s + req.ban_seconds if req.ban_seconds is not None else None
    if banned:
        if deps.moderation is None:
            raise Internal("bans are not configured", room_id=req.room_id)
        by = "operator" if caller.operator else caller.identity
        # The ban first: a join racing with the kick is refused once it is in place.
        deps.moderation.put_ban(Ban(req.room_id, req.user_id, until, by))
    targets = [m for m in deps.rooms.list_members(req.room_id, now_s) if m.identity == req.user_id]
    remove_memberships(deps, req.room_id, targets)  # in parallel: thousands are one kick
    names = sorted({m.name for m in targets})
    frame = protocol.kicked_frame(req.room_id, req.user_id, names, until, banned)
    recipients = deps.rooms.recipient_ids(req.room_id, now_s) + [m.connection_id for m in targets]
    broadcast(deps, frame, recipients)
    logs.info("kicked", target=req.user_id, connections=len(targets), banned=banned)
    return frame


def disconnect_user(deps: Deps, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
    """The user's connections in the room are closed (the @connections DELETE; API Gateway
    then runs $disconnect for each) when the room is all they are in; a connection that is in
    other rooms too only leaves this one, as uninvite would take it out: a room's owner and
    moderators act in their room, not in the user's other rooms. The operator closes every
    connection of the user in the room."""
    policy.authorize(deps, "disconnect", req.room_id, caller, req.user_id)
    if not caller.operator:
        policy.require_member(deps, req.room_id, caller)
        policy.check_rate(deps, caller, req.room_id, "nobody was disconnected")
    targets = [
        m for m in deps.rooms.list_members(req.room_id, deps.now_s()) if m.identity == req.user_id
    ]
    elsewhere = [
        m
        for m in targets
        if not caller.operator and deps.rooms.connection_rooms(m.connection_id) - {req.room_id}
    ]
    take_out(deps, req.room_id, elsewhere)
    kept = {m.connection_id for m in elsewhere}
    gone: list[str] = []

    def close(m: Member) -> None:
        if deps.sender.disconnect(m.connection_id) is Delivery.GONE:
            gone.append(m.connection_id)  # list.append is atomic

    in_parallel(close, [m for m in targets if m.connection_id not in kept])
    prune(deps, gone)  # already closed: clean up as a 410 on a post would
    logs.info(
        "disconnected_user",
        target=req.user_id,
        connections=len(targets),
        closed=len(targets) - len(elsewhere),
    )
    return protocol.disconnected_frame(req.user_id, len(targets))
