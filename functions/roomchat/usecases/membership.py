"""Membership: connect (the default name), join, leave, disconnect and members."""

from __future__ import annotations

from typing import Any

from .. import protocol
from ..errors import BadRequest, ConnectionGone, Forbidden, TooManyConnections
from ..ports import Member, Message, Room
from ..ulid import successor
from . import pins, policy
from .broadcast import close, ephemeral, others_in, others_of
from .core import Caller, Deps, connection_expiry, iso_ms


def connect(deps: Deps, caller: Caller, name: str | None) -> None:
    expires_at = connection_expiry(caller.connected_at_ms, deps.clock())
    _count_connection(deps, caller, expires_at)
    name = caller.token_name or name
    if name is not None:
        deps.rooms.save_connection_name(caller.connection_id, name, expires_at)


def _count_connection(deps: Deps, caller: Caller, expires_at: int) -> None:
    """A signed-in user holds at most MAX_CONNECTIONS_PER_USER connections: the connection is
    recorded under the user, then counted (write-then-check, so two connects racing for the
    last place cannot both pass); over the cap it is taken back and refused. $disconnect
    removes it; one whose $disconnect was missed stops counting when it would have expired."""
    cap = deps.settings.max_connections_per_user
    if not cap or caller.user_id is None:
        return
    deps.rooms.add_user_connection(caller.user_id, caller.connection_id, expires_at)
    if deps.rooms.user_connections(caller.user_id, deps.now_s()) > cap:
        deps.rooms.remove_user_connection(caller.user_id, caller.connection_id)
        raise TooManyConnections(
            f"you already have {cap} connections open (the most one user may); close one first"
        )


def join(
    deps: Deps, caller: Caller, req: protocol.JoinRequest, budget: int = protocol.REPLY_BYTES_BUDGET
) -> dict[str, Any]:
    """Join a room: the latest messages, or with ``after`` everything since (usecases.resume),
    within ``budget`` bytes of reply."""
    now = deps.clock()
    name = caller.token_name or req.name or deps.rooms.connection_name(caller.connection_id)
    if name is None:
        raise BadRequest("'name' is required (or connect with ?name=)", room_id=req.room_id)
    room = _admitted(deps, caller, req.room_id)
    policy.check_rate(deps, caller, req.room_id, "the room was not joined")
    existing = deps.rooms.get_member(req.room_id, caller.connection_id, now // 1000)
    expires_at = connection_expiry(caller.connected_at_ms, now)
    member = Member(
        room_id=req.room_id,
        connection_id=caller.connection_id,
        name=name,
        joined_at=existing.joined_at if existing else iso_ms(now),
        expires_at=expires_at,
        user_id=caller.user_id,
    )
    # The membership first, then the connection's record of it: a $disconnect running
    # meanwhile either sees the room in the record and deletes the membership, or has
    # closed the record first, and then this join undoes itself (no ghost member).
    deps.rooms.put_member(member)
    try:
        deps.rooms.attach_room(caller.connection_id, req.room_id, expires_at)
    except ConnectionGone:
        deps.rooms.delete_member(req.room_id, caller.connection_id)
        raise
    _recheck(deps, caller, req.room_id)
    if deps.notifications is not None and (existing is None or existing.name != name):
        from . import notifications

        notifications.watch(deps, caller, req.room_id, name)
    member_ids, count, first = _joined_view(deps, caller, req.room_id, now // 1000)
    pinned = pins.entries(deps, room)
    recent, older, resumed = _recent(deps, req, name, count, budget, pinned)
    last_read, unread = _unread(deps, req.room_id, caller)
    if first and (existing is None or existing.name != name):
        _announce_join(deps, caller, req.room_id, name, existing, member_ids)
    frame = protocol.joined_frame(
        req.room_id, name, count, recent, older, caller.identity, last_read, unread, pinned
    )
    frame.update(resumed)
    return frame


def _admitted(deps: Deps, caller: Caller, room_id: str) -> Room | None:
    """The room, if the caller may be in it now: their role allows it and they are not
    banned (any of their connections); else ``Forbidden``."""
    room = deps.rooms.get_room(room_id)
    if policy.role_in(deps, room_id, room, caller) is None:
        # Joining cannot look like joining a room that does not exist (that succeeds), so
        # this refusal tells that the id is taken (as createRoom would), nothing more.
        raise Forbidden(
            f"room {room_id!r} is invitation-only; ask its owner for an invite",
            room_id=room_id,
        )
    policy.require_not_banned(deps, caller, room_id)
    return room


def _recheck(deps: Deps, caller: Caller, room_id: str) -> None:
    """Write, then check again: a kick (ban first, then the member listing) or an uninvite
    (role first, then the listing) that ran between the checks and the membership write
    would miss the new membership, so the checks are read again, strongly consistently,
    after it is written. Either this read sees the ban or lost role and the join undoes
    itself, or it ran before them, so the membership was written before them too and the
    kick's or uninvite's listing, which follows them, finds it and takes it out."""
    try:
        _admitted(deps, caller, room_id)
    except Forbidden:
        # A re-join's older membership goes too: the kick or uninvite meant to end it.
        deps.rooms.detach_room(caller.connection_id, room_id)
        deps.rooms.delete_member(room_id, caller.connection_id)
        raise


def _joined_view(
    deps: Deps, caller: Caller, room_id: str, now_s: int
) -> tuple[list[str], int, bool]:
    """After a join: the room's connection ids, its member count, and whether this is the
    caller's first connection in it (signed in: one member per user, whatever their number
    of connections; anonymous: one per connection)."""
    if caller.user_id is None:
        member_ids = deps.rooms.recipient_ids(room_id, now_s)
        if caller.connection_id not in member_ids:
            member_ids.append(caller.connection_id)
        return member_ids, len(member_ids), True
    members = deps.rooms.list_members(room_id, now_s)
    member_ids = [m.connection_id for m in members]
    if caller.connection_id not in member_ids:
        member_ids.append(caller.connection_id)
    users = {m.user_id or m.connection_id for m in members} | {caller.user_id}
    first = not any(
        m.user_id == caller.user_id and m.connection_id != caller.connection_id for m in members
    )
    return member_ids, len(users), first


def _announce_join(
    deps: Deps,
    caller: Caller,
    room_id: str,
    name: str,
    existing: Member | None,
    member_ids: list[str],
) -> None:
    others = [cid for cid in member_ids if cid != caller.connection_id]
    if existing is not None:
        # A re-join under a new name: the old name leaves, so member lists stay right.
        ephemeral(deps, protocol.presence_frame("leave", room_id, existing.name), others)
    ephemeral(deps, protocol.presence_frame("join", room_id, name), others)


def _recent(
    deps: Deps,
    req: protocol.JoinRequest,
    name: str,
    members: int,
    budget: int,
    pinned: list[dict[str, Any]],
) -> tuple[list[Message], str | None, dict[str, Any]]:
    """The last messages for ``joined``, as many as RECENT_ON_JOIN and the reply's byte
    budget (beside the room's pins) allow, and the cursor for older history (None at the start
    of the room); with ``after``, what came since instead (and the resume fields), unless it
    is past retention."""
    room_id, resumed = req.room_id, {}
    if req.after is not None:
        from . import resume

        replayed = resume.for_join(deps, room_id, name, members, req.after, budget, pinned)
        if replayed is not None:
            return replayed
        resumed = protocol.resume_fields([], False, None)
        within = protocol.joined_after_budget(room_id, name, members, budget, pinned)
    else:
        within = protocol.joined_budget(room_id, name, members, budget, pinned)
    if not deps.settings.recent_on_join:
        # No recent messages sent: the cursor, if the room has any, takes in the newest.
        newest = deps.history.page(room_id, 1, None, within).messages
        return [], successor(newest[-1].message_id) if newest else None, resumed
    page = deps.history.page(room_id, deps.settings.recent_on_join, None, within)
    return page.messages, page.next_cursor, resumed


def _unread(deps: Deps, room_id: str, caller: Caller) -> tuple[str | None, int]:
    """The caller's read marker in the room and how many messages follow it (capped)."""
    if deps.moderation is None:
        return None, 0
    last = deps.moderation.last_read(room_id, caller.identity)
    return last, deps.moderation.count_after(room_id, last, protocol.UNREAD_CAP + 1)


def leave(deps: Deps, caller: Caller, req: protocol.RoomRequest) -> dict[str, Any]:
    member = policy.require_member(deps, req.room_id, caller)
    policy.check_rate(deps, caller, req.room_id, "the room was not left")
    # The record first: a join of the same room running concurrently then ends with the
    # room in the record whenever its membership survives (see join).
    deps.rooms.detach_room(caller.connection_id, req.room_id)
    deps.rooms.delete_member(req.room_id, caller.connection_id)
    others = others_in(deps, req.room_id, caller.connection_id)
    if not others_of(deps, req.room_id, caller.user_id, caller.connection_id):
        ephemeral(deps, protocol.presence_frame("leave", req.room_id, member.name), others)
    return protocol.left_frame(req.room_id)


def disconnect(deps: Deps, caller: Caller) -> int:
    """Leave every room the connection was in, telling each room's remaining members."""
    if deps.settings.max_connections_per_user and caller.user_id is not None:
        deps.rooms.remove_user_connection(caller.user_id, caller.connection_id)
    removed = close(deps, caller.connection_id, caller.connected_at_ms)
    now_s = deps.now_s()
    for m in removed:
        if others_of(deps, m.room_id, m.user_id, caller.connection_id):
            continue  # the user is still there on another connection
        others = [
            cid for cid in deps.rooms.recipient_ids(m.room_id, now_s) if cid != caller.connection_id
        ]
        ephemeral(deps, protocol.presence_frame("leave", m.room_id, m.name), others)
    return len(removed)


def members(deps: Deps, caller: Caller, req: protocol.RoomRequest) -> dict[str, Any]:
    policy.require_reader(deps, req.room_id, caller)
    found = deps.rooms.list_members(req.room_id, deps.now_s())
    found.sort(key=lambda m: (m.joined_at, m.connection_id))
    # A signed-in user is listed once, however many connections they have.
    seen: set[str] = set()
    names = []
    for m in found:
        key = m.user_id or "#" + m.connection_id
        if key not in seen:
            seen.add(key)
            names.append(m.name)
    return protocol.members_frame_within(req.room_id, names)
