"""pin: pinning and unpinning a message (the room's owner and moderators), and the pins as
``joined`` lists them and the ``pinned`` frame tells the room. A room has at most PINS_MAX
pins; each is shown by an excerpt of its message, read when listed (an edit shows, a deleted
message's pin has ``excerpt: null``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .common import check_flag, check_room_id, excerpt
from .messages import check_message_id, check_reply_to

PINS_MAX = 10


@dataclass(frozen=True)
class PinRequest:
    room_id: str
    message_id: str
    reply_to: str | None
    remove: bool


def parse_pin(frame: dict[str, Any]) -> PinRequest:
    return PinRequest(
        check_room_id(frame.get("roomId")),
        check_message_id(frame.get("messageId")),
        check_reply_to(frame.get("replyTo")),
        check_flag(frame, "remove"),
    )


def pin_entry(pin: Any, msg: Any) -> dict[str, Any]:
    """A pin as listed: who pinned what when, and the message's sender and excerpt (null when
    the message was deleted or is gone)."""
    entry = {
        "messageId": pin.message_id,
        "pinnedBy": pin.by,
        "pinnedAt": pin.at,
        "sender": msg.sender if msg is not None else None,
        "excerpt": excerpt(msg.message) if msg is not None and not msg.deleted else None,
    }
    if pin.reply_to:
        entry["replyTo"] = pin.reply_to
    return entry


def pinned_frame(room_id: str, entry: dict[str, Any], pinned: bool) -> dict[str, Any]:
    """To every member: a pin was added (``pinned`` true) or removed."""
    return {"type": "pinned", "roomId": room_id, "pinned": pinned, "pin": entry}
