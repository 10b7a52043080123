"""Fitting replies that carry many messages or names (history, joined.recent, members, a
thread's replies, mentions) into API Gateway's frame: REPLY_BYTES_BUDGET bytes of encoded
frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .common import REPLY_BYTES_BUDGET, UNREAD_CAP, frame_bytes, json_bytes
from .membership import joined_frame, members_frame
from .mentions import mentions_frame
from .messages import history_frame, message_frame
from .threads import THREAD_UNREAD_CAP, thread_frame

# A cursor is a messageId (a 26-character ULID); sizing an envelope with one in place of null
# makes the measure an upper bound whether or not the page ends up having a ``next``.
_CURSOR_PLACEHOLDER = "0" * 26


@dataclass(frozen=True)
class ByteBudget:
    """What the messages of one reply may use: a list of n messages takes the sum of their
    ``size_of`` (each message frame's bytes plus one comma) minus one, at most ``max_bytes``."""

    max_bytes: int
    size_of: Callable[[Any], int]


def _message_entry_bytes(msg: Any) -> int:
    return frame_bytes(message_frame(msg)) + 1


def history_budget(room_id: str, budget: int = REPLY_BYTES_BUDGET) -> ByteBudget:
    """The bytes a history page's messages may use for its frame to stay within ``budget``."""
    envelope = frame_bytes(history_frame(room_id, [], _CURSOR_PLACEHOLDER))
    return ByteBudget(budget - envelope, _message_entry_bytes)


def joined_envelope(
    room_id: str, name: str, members: int, pins: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A joined frame without messages, each field at its largest (a cursor in place of null,
    the longest ``you``, the capped unread count): what ``recent`` is fitted beside."""
    return joined_frame(
        room_id,
        name,
        members,
        [],
        _CURSOR_PLACEHOLDER,
        "u" * 128,
        _CURSOR_PLACEHOLDER,
        UNREAD_CAP,
        pins,
    )


def joined_budget(
    room_id: str,
    name: str,
    members: int,
    budget: int = REPLY_BYTES_BUDGET,
    pins: list[dict[str, Any]] | None = None,
) -> ByteBudget:
    """The bytes ``joined.recent`` may use for the joined frame (with its ``pins``) to stay
    within ``budget``."""
    envelope = frame_bytes(joined_envelope(room_id, name, members, pins))
    return ByteBudget(budget - envelope, _message_entry_bytes)


def thread_budget(room_id: str, parent: Any, budget: int = REPLY_BYTES_BUDGET) -> ByteBudget:
    """The bytes a thread page's replies may use beside its parent."""
    envelope = frame_bytes(
        thread_frame(
            room_id,
            parent,
            [],
            _CURSOR_PLACEHOLDER,
            False,
            _CURSOR_PLACEHOLDER,
            THREAD_UNREAD_CAP + 1,
        )
    )
    return ByteBudget(budget - envelope, _message_entry_bytes)


def mentions_budget(budget: int = REPLY_BYTES_BUDGET) -> ByteBudget:
    """The bytes a page of mentions may use."""
    envelope = frame_bytes(mentions_frame([], _CURSOR_PLACEHOLDER))
    return ByteBudget(budget - envelope, _message_entry_bytes)


def members_frame_within(
    room_id: str, names: list[str], budget: int = REPLY_BYTES_BUDGET
) -> dict[str, Any]:
    """The members frame of the longest prefix of ``names`` that fits ``budget`` bytes; when
    names had to be left out it says how many in ``omitted`` (a room of thousands of members
    with long non-Latin names would not fit 128 KB)."""
    omitted_field = len(',"omitted":') + len(str(len(names)))
    used = frame_bytes(members_frame(room_id, [])) + omitted_field
    kept: list[str] = []
    for name in names:
        used += json_bytes(name) + (1 if kept else 0)
        if used > budget:
            break
        kept.append(name)
    frame = members_frame(room_id, kept)
    if len(kept) < len(names):
        frame["omitted"] = len(names) - len(kept)
    return frame
