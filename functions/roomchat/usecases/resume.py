"""Resume (docs/design.md, "Resume"): after a reconnect, every message stored after the
client's ``after``, in order, within the reply's budget, and the current state of the older
messages edited or deleted since; a cursor to continue; ``recovered: false`` past retention.

No gap and no duplicate where the replay meets live delivery: ``join`` writes the membership
before it reads the history, and ``sendAll`` reads its recipients after it has stored the
message, so a message is either in the read (stored before it) or posted to this connection
(stored after it, so its recipient read comes after the membership write), and sometimes
both: clients drop a messageId they already have. Edits and deletes are the same (the change
is recorded before the message is changed, and broadcast after).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import protocol
from ..errors import ChatError
from ..ports import Message
from ..ulid import successor, timestamp_ms
from . import membership, policy
from .core import Caller, Deps


@dataclass(frozen=True)
class Replay:
    messages: list[Message]  # newer than ``after``, oldest first
    updated: list[Message]  # older ones changed since ``after``, as they are now
    next_cursor: str | None  # the ``after`` of the following page; None: up to now
    recovered: bool = True


def recoverable(deps: Deps, after: str) -> bool:
    """Whether history since ``after`` is all still kept (TTL deletion is eventual, so this
    is decided by time, never by what a read happens to find)."""
    days = deps.settings.history_retention_days
    return not days or timestamp_ms(after) >= deps.clock() - days * 86_400_000


def replay(deps: Deps, room_id: str, after: str, budget: protocol.ByteBudget, limit: int) -> Replay:
    """One page of the room after ``after``: its messages and the changes recorded since,
    merged by time (both are ULIDs), until the budget, ``limit`` or a stream read only in
    part ends it."""
    if not recoverable(deps, after):
        return Replay([], [], None, recovered=False)
    messages, more_messages = deps.history.page_after(room_id, after, limit)
    changes: list[tuple[str, str]] = []
    more_changes = False
    if deps.changes is not None:
        changes, more_changes = deps.changes.since(room_id, after, protocol.RESUME_UPDATED_MAX)
    # Both streams merged by time; past the end of a stream read only in part lies the
    # unknown, so the page stops there (the horizon) and the cursor continues from it.
    events = sorted(
        [(msg.message_id, False, msg.message_id) for msg in messages]
        + [(key, True, ref) for key, ref in changes]
    )
    ends = [messages[-1].message_id] if more_messages else []
    ends += [changes[-1][0]] if more_changes else []
    horizon = min(ends, default=None)
    by_id = {msg.message_id: msg for msg in messages}
    taken: list[Message] = []
    updated: dict[str, Message] = {}
    used, cursor = 0, after
    for key, is_change, ref in events:
        if horizon is not None and key > horizon:
            break
        if not is_change:
            item: Message | None = by_id[ref]
        elif ref > after or ref in updated:
            # A message newer than ``after`` is (or will be) replayed as it is now.
            item = None
        else:
            item = deps.history.get(room_id, ref)
        if item is not None:
            size = budget.size_of(item)
            if used + size - 1 > budget.max_bytes:
                return Replay(taken, list(updated.values()), cursor)
            used += size
            if item.message_id > after:
                taken.append(item)
            else:
                updated[item.message_id] = item
        cursor = key
    return Replay(taken, list(updated.values()), cursor if horizon is not None else None)


def for_join(
    deps: Deps,
    room_id: str,
    name: str,
    members: int,
    after: str,
    budget: int,
    pinned: list[dict[str, Any]] | None = None,
) -> tuple[list[Message], str | None, dict[str, Any]] | None:
    """``joined.recent``, ``joined.next`` and the resume fields for a join with ``after``
    (beside the room's ``pinned``); None when ``after`` is past retention (the join then
    answers the latest page)."""
    within = protocol.joined_after_budget(room_id, name, members, budget, pinned)
    found = replay(deps, room_id, after, within, protocol.RESUME_PAGE_MAX)
    if not found.recovered:
        return None
    older = found.messages[0].message_id if found.messages else successor(after)
    fields = protocol.resume_fields(found.updated, True, found.next_cursor)
    return found.messages, older, fields


def resume(deps: Deps, caller: Caller, req: protocol.ResumeRequest) -> dict[str, Any]:
    """Join each room of the request (with its ``after``) in one reply, sharing its budget:
    each room gets an even share of what is left, so one busy room cannot starve the rest
    (a room whose share ends its replay early continues with ``history`` and ``after``).
    A room refused is an ``error`` frame in its place; the others are joined."""
    left = protocol.resumed_budget()
    frames: list[dict[str, Any]] = []
    for i, room in enumerate(req.rooms):
        share = left // (len(req.rooms) - i)
        try:
            frame = membership.join(deps, caller, room, budget=share)
        except ChatError as e:
            frame = protocol.error_frame(e, "resume")
        left -= protocol.frame_bytes(frame) + 1
        frames.append(frame)
    return protocol.resumed_frame(frames)


def history_after(deps: Deps, caller: Caller, req: protocol.HistoryRequest) -> dict[str, Any]:
    """A continuation page (``history`` with ``after``): up to ``limit`` messages newer than
    ``after``, the changed older ones, and ``next``, the ``after`` of the page after it."""
    assert req.after is not None
    policy.require_reader(deps, req.room_id, caller)
    found = replay(
        deps, req.room_id, req.after, protocol.history_after_budget(req.room_id), req.limit
    )
    if not found.recovered:
        # Past retention: the latest page, as a join without `after` would show.
        page = deps.history.page(req.room_id, req.limit, None, protocol.history_budget(req.room_id))
        return protocol.history_after_frame(req.room_id, page.messages, [], None, False)
    return protocol.history_after_frame(
        req.room_id, found.messages, found.updated, found.next_cursor, True
    )


def record_change(deps: Deps, room_id: str, message_id: str) -> None:
    """Note that a message is about to change (edit, delete), before it does: a change noted
    that then fails costs a resume one needless read, a change made but not noted would be
    missed by every resume. A failure here refuses the change (nothing was changed)."""
    if deps.changes is not None:
        deps.changes.record(room_id, deps.new_id(deps.clock()), message_id, deps.expires_at())
