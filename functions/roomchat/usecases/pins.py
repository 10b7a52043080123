"""Pins: the room's owner and moderators pin and unpin messages (at most PINS_MAX a room, on
the room's record); ``joined`` lists them (``entries``) and the room gets a ``pinned`` frame
for each change."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import BadRequest, Internal, NotFound
from ..ports import Pin, Room
from . import messages, policy
from .broadcast import broadcast, room_recipients
from .core import Caller, Deps, iso_ms


def entries(deps: Deps, room: Room | None) -> list[dict[str, Any]]:
    """The room's pins as ``joined`` lists them, each with its message's excerpt as it is
    now (one strongly consistent read per pin, at most PINS_MAX)."""
    if room is None:
        return []
    return [
        protocol.pin_entry(pin, deps.history.get(room.room_id, pin.message_id, pin.reply_to))
        for pin in room.pins
    ]


def pin(deps: Deps, caller: Caller, req: protocol.PinRequest) -> dict[str, Any] | None:
    """Pin (``remove``: unpin) a message; nothing to reply when it changed something (the
    ``pinned`` frame the room gets is the acknowledgement), a repeat is answered to the caller
    alone."""
    if deps.pins is None:
        raise Internal("pins are not configured", room_id=req.room_id)
    # One refusal for everyone else, whatever the room (as kick's): it tells nothing about it.
    if not policy.may(deps, "pin", req.room_id, caller, req.message_id):
        raise policy.may_not_manage(req.room_id)
    policy.require_reader(deps, req.room_id, caller)
    msg = messages.located_message(deps, req.room_id, req.message_id, req.reply_to)
    policy.check_budget(deps, caller, req.room_id, "pin", "nothing was changed")
    if req.remove:
        removed = deps.pins.unpin(req.room_id, req.message_id)
        entry = protocol.pin_entry(removed or Pin(req.message_id, "", "", req.reply_to), msg)
        frame = protocol.pinned_frame(req.room_id, entry, False)
        if removed is None:
            return frame  # was not pinned
    else:
        if msg.deleted:
            raise NotFound("that message was deleted", room_id=req.room_id)
        made = Pin(req.message_id, caller.identity, iso_ms(deps.clock()), req.reply_to)
        outcome = deps.pins.pin(req.room_id, made, protocol.PINS_MAX)
        if outcome == "gone":
            raise policy.may_not_manage(req.room_id)
        if outcome == "full":
            raise BadRequest(
                f"a room has at most {protocol.PINS_MAX} pins; unpin one first",
                room_id=req.room_id,
            )
        frame = protocol.pinned_frame(req.room_id, protocol.pin_entry(made, msg), True)
        if outcome == "same":
            return frame
    broadcast(deps, frame, room_recipients(deps, req.room_id, caller))
    logs.info("pinned" if not req.remove else "unpinned", messageId=req.message_id)
    return None
