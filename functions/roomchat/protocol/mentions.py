"""mentions: resolving ``@name`` in a message against the room's members, and listing the
messages that mention the caller, across rooms.

A mention is ``@`` (not right after a letter, digit or ``_``) followed by a member's name
(compared case-insensitively, the longest name that matches, ending the text or followed by
anything but a letter, digit or ``_``). Names are not unique: every member of that name is
mentioned. ``@room`` mentions the whole room when its sender is the room's owner or a
moderator, and is plain text otherwise; so is a name no member has."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .common import NAME_MAX
from .messages import check_before, check_limit, message_frame

MENTIONS_MAX = 20  # members one message may mention
_MENTION_SCAN_MAX = 100  # '@' signs looked at per message
MENTIONS_LIMIT_MAX = 50
MENTIONS_LIMIT_DEFAULT = 20
_AT = re.compile(r"(?<![\w@])@")
ROOM = "room"


@dataclass(frozen=True)
class MentionsRequest:
    limit: int
    before: str | None


def parse_mentions(frame: dict[str, Any]) -> MentionsRequest:
    return MentionsRequest(
        check_limit(frame.get("limit"), MENTIONS_LIMIT_DEFAULT, MENTIONS_LIMIT_MAX),
        check_before(frame.get("before"), "mentions page"),
    )


def _ends_word(text: str, end: int) -> bool:
    return end >= len(text) or not (text[end].isalnum() or text[end] == "_")


def resolve(
    text: str, members: Iterable[tuple[str, str]], allow_room: bool, author: str | None = None
) -> tuple[list[tuple[str, str]], bool]:
    """The members ``text`` mentions, as (identity, name) in the order first mentioned (at
    most MENTIONS_MAX, never ``author``), and whether it mentions the whole room."""
    by_name: dict[str, dict[str, str]] = {}
    for identity, name in members:
        by_name.setdefault(name.casefold(), {}).setdefault(identity, name)
    found: dict[str, str] = {}
    everyone = False
    for scanned, at in enumerate(_AT.finditer(text)):
        if scanned == _MENTION_SCAN_MAX or len(found) >= MENTIONS_MAX:
            break
        start = at.end()
        word_end = start + len(ROOM)
        if allow_room and text[start:word_end].casefold() == ROOM and _ends_word(text, word_end):
            everyone = True
            continue
        for length in range(min(NAME_MAX, len(text) - start), 0, -1):
            named = by_name.get(text[start : start + length].casefold())
            if named and _ends_word(text, start + length):
                for identity, name in named.items():
                    if identity != author:
                        found.setdefault(identity, name)
                break
    return list(found.items())[:MENTIONS_MAX], everyone


def mentions_frame(messages: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """The caller's mentions, newest first: each the message as it is now (a tombstone once
    deleted), with its room and, for a reply, its ``replyTo``."""
    return {
        "type": "mentions",
        "messages": [message_frame(m) for m in messages],
        "next": next_cursor,
    }
