"""Mentions: ``@name`` in a message resolved against the room's members when it is stored or
edited (``attach``), an entry per mentioned user, and ``listing``, the messages that mention
the caller across rooms (only rooms they may still read, and only while the message still
names them)."""

from __future__ import annotations

from typing import Any

from .. import protocol
from ..errors import Internal
from ..ports import MODERATOR, OWNER, Member, Mention, Message
from . import policy
from .core import Caller, Deps


def attach(
    deps: Deps, caller: Caller, role: str | None, msg: Message
) -> tuple[Message, list[Member] | None]:
    """Resolve the mentions of a message just stored or edited against the room's live
    members (``@room`` only for its owner and moderators), store them on the message and
    record an entry for each newly mentioned member. The message as stored, and the members
    read (None when the text names no one, so nothing was read)."""
    if "@" not in msg.message and not msg.mentions and not msg.mentions_room:
        return msg, None
    members = deps.rooms.list_members(msg.room_id, deps.now_s())
    found, everyone = protocol.resolve_mentions(
        msg.message,
        [(m.identity, m.name) for m in members],
        role in (OWNER, MODERATOR),
        caller.identity,
    )
    mentions = tuple(Mention(identity, name) for identity, name in found)
    if mentions == msg.mentions and everyone == msg.mentions_room:
        return msg, members
    updated = deps.history.set_mentions(msg, mentions, everyone)
    if updated is None:
        return msg, members  # deleted meanwhile
    before = {m.user_id for m in msg.mentions}
    new = [m.user_id for m in mentions if m.user_id not in before]
    if new and deps.mentions is not None:
        deps.mentions.record(updated, new, deps.expires_at())
    return updated, members


def listing(deps: Deps, caller: Caller, req: protocol.MentionsRequest) -> dict[str, Any]:
    if deps.mentions is None:
        raise Internal("mentions are not configured")
    policy.check_budget(deps, caller, None, "mentions", "nothing was read")
    refs, next_cursor = deps.mentions.page(caller.identity, req.limit, req.before)
    budget = protocol.mentions_budget()
    readable: dict[str, bool] = {}
    found: list[Message] = []
    used = 0
    for ref in refs:
        if ref.room_id not in readable:
            readable[ref.room_id] = policy.may_read(deps, ref.room_id, caller)
        if not readable[ref.room_id]:
            continue
        msg = deps.history.get(ref.room_id, ref.message_id, ref.reply_to)
        if msg is None:
            continue
        if caller.identity not in {m.user_id for m in msg.mentions}:
            continue  # edited or deleted since: it no longer names the caller
        size = budget.size_of(msg)
        if found and used + size - 1 > budget.max_bytes:
            next_cursor = found[-1].message_id  # the rest on the next page
            break
        found.append(msg)
        used += size
    return protocol.mentions_frame(found, next_cursor)
