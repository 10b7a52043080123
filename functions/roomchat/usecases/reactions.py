"""Reactions: add or take back an emoji on a message, one per user per emoji; the room gets a
``reaction`` frame with the message's summary (exact counts, the first few users). Rate-limited
on a budget of its own (``policy.BUDGETS``), as typing is."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import BadRequest, Internal, NotFound
from . import policy
from .broadcast import broadcast, room_recipients
from .core import Caller, Deps
from .messages import located_message


def react(deps: Deps, caller: Caller, req: protocol.ReactRequest) -> dict[str, Any] | None:
    """Nothing to reply when it changed something: the ``reaction`` frame the room gets is
    the caller's acknowledgement. A repeat (already so) is answered to the caller alone."""
    member, _, _ = policy.require_reader(deps, req.room_id, caller)
    if deps.reactions is None:
        raise Internal("reactions are not configured", room_id=req.room_id)
    msg = located_message(deps, req.room_id, req.message_id, req.reply_to)
    if msg.deleted:
        raise NotFound("that message was deleted", room_id=req.room_id)
    policy.check_budget(deps, caller, req.room_id, "react", "the reaction was not changed")
    if req.remove:
        done = deps.reactions.remove(msg, req.emoji, caller.identity)
    else:
        done = deps.reactions.add(msg, req.emoji, caller.identity, deps.expires_at())
    if done.outcome == "gone":
        raise NotFound("that message was deleted", room_id=req.room_id)
    if done.outcome == "full":
        raise BadRequest(
            f"a message has at most {protocol.REACTION_KINDS_MAX} different reactions",
            room_id=req.room_id,
        )
    added = not req.remove
    if done.outcome == "same" or done.message is None:
        return protocol.reaction_frame(msg, req.emoji, caller.identity, member.name, added, 0)
    frame = protocol.reaction_frame(
        done.message, req.emoji, caller.identity, member.name, added, done.version
    )
    broadcast(deps, frame, room_recipients(deps, req.room_id, caller))
    logs.info("reacted", messageId=req.message_id, added=added)
    return None
