"""react: adding and taking back a reaction, and the ``reaction`` frame.

An emoji is one of ``REACTIONS``, a fixed set of grapheme clusters (some of several code
points: ❤️ is U+2764 U+FE0F), so every client offers and every server accepts the same ones,
and a schema can list them. A message carries at most REACTION_KINDS_MAX different emoji; its
summary counts each exactly and names the first REACTION_USERS_LISTED users of each (a
message frame stays bounded, and so does its item)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .common import check_flag, check_room_id
from .messages import check_message_id, check_reply_to, located

REACTIONS = (
    "👍",
    "👎",
    "❤️",
    "😂",
    "😮",
    "😢",
    "😡",
    "🎉",
    "🙏",
    "👀",
    "🔥",
    "✅",
    "❌",
    "💯",
    "🚀",
    "👏",
    "🤔",
    "😄",
    "😍",
    "🙌",
    "💡",
    "⭐",
    "😅",
    "😎",
    "🤝",
    "💪",
    "🙂",
    "😬",
    "🤯",
    "🥳",
    "🤣",
    "👋",
    "✨",
    "⚠️",
    "❓",
    "🎯",
    "☕",
    "🍕",
    "🏳️‍🌈",
    "❤️‍🔥",
)
_RANK = {emoji: i for i, emoji in enumerate(REACTIONS)}
REACTION_KINDS_MAX = 20
REACTION_USERS_LISTED = 5


@dataclass(frozen=True)
class ReactRequest:
    room_id: str
    message_id: str
    reply_to: str | None
    emoji: str
    remove: bool


def check_emoji(value: object) -> str:
    if not isinstance(value, str) or value not in _RANK:
        raise BadRequest("'emoji' must be one of: " + " ".join(REACTIONS))
    return value


def parse_react(frame: dict[str, Any]) -> ReactRequest:
    return ReactRequest(
        check_room_id(frame.get("roomId")),
        check_message_id(frame.get("messageId")),
        check_reply_to(frame.get("replyTo")),
        check_emoji(frame.get("emoji")),
        check_flag(frame, "remove"),
    )


def summary(reactions: Any) -> list[dict[str, Any]]:
    """A message's reactions as its frame carries them, in the order of REACTIONS."""
    ordered = sorted(reactions, key=lambda r: _RANK.get(r.emoji, len(_RANK)))
    return [{"emoji": r.emoji, "count": r.count, "users": list(r.users)} for r in ordered]


def reaction_frame(
    msg: Any, emoji: str, user_id: str, name: str, added: bool, version: int
) -> dict[str, Any]:
    """To every member: who reacted (or took it back) and the message's whole summary now.
    ``version`` grows with every change of the message's reactions: a client keeps the
    summary of the highest it has seen (frames may arrive out of order)."""
    frame = {
        "type": "reaction",
        "roomId": msg.room_id,
        "messageId": msg.message_id,
        "emoji": emoji,
        "userId": user_id,
        "name": name,
        "added": added,
        "reactions": summary(msg.reactions),
        "version": version,
    }
    return located(frame, msg.reply_to)
