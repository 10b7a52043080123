"""thread, follow and threads: a thread's replies, following it, and the threads one follows.

A reply is a message sent with ``replyTo`` (its parent, a message of the room); its thread is
paged like history, newest page first, with ``before``. ``unread`` counts the replies after the
reader's marker in the thread, up to THREAD_UNREAD_CAP (``unreadCapped``: more)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .common import check_flag, check_room_id, excerpt
from .messages import check_before, check_limit, check_message_id, message_frame

THREAD_UNREAD_CAP = 20
THREADS_LIMIT_MAX = 20
THREADS_LIMIT_DEFAULT = 10


@dataclass(frozen=True)
class ThreadRequest:
    room_id: str
    message_id: str  # the parent
    limit: int
    before: str | None


@dataclass(frozen=True)
class FollowRequest:
    room_id: str
    message_id: str  # the parent
    remove: bool


@dataclass(frozen=True)
class ThreadsRequest:
    room_id: str
    limit: int
    before: str | None


def parse_thread(frame: dict[str, Any]) -> ThreadRequest:
    return ThreadRequest(
        check_room_id(frame.get("roomId")),
        check_message_id(frame.get("messageId")),
        check_limit(frame.get("limit")),
        check_before(frame.get("before"), "thread page"),
    )


def parse_follow(frame: dict[str, Any]) -> FollowRequest:
    return FollowRequest(
        check_room_id(frame.get("roomId")),
        check_message_id(frame.get("messageId")),
        check_flag(frame, "remove"),
    )


def parse_threads(frame: dict[str, Any]) -> ThreadsRequest:
    return ThreadsRequest(
        check_room_id(frame.get("roomId")),
        check_limit(frame.get("limit"), THREADS_LIMIT_DEFAULT, THREADS_LIMIT_MAX),
        check_before(frame.get("before"), "threads page"),
    )


def _unread(unread: int) -> dict[str, Any]:
    return {"unread": min(unread, THREAD_UNREAD_CAP), "unreadCapped": unread > THREAD_UNREAD_CAP}


def thread_frame(
    room_id: str,
    parent: Any,
    replies: list[Any],
    next_cursor: str | None,
    following: bool,
    last_read: str | None,
    unread: int,
) -> dict[str, Any]:
    """The parent (a tombstone once deleted: its thread remains), one page of its replies
    (oldest first), and the caller's state in the thread."""
    return {
        "type": "thread",
        "roomId": room_id,
        "messageId": parent.message_id,
        "parent": message_frame(parent),
        "replies": [message_frame(m) for m in replies],
        "next": next_cursor,
        "following": following,
        "lastRead": last_read,
        **_unread(unread),
    }


def following_frame(room_id: str, message_id: str, following: bool) -> dict[str, Any]:
    return {"type": "following", "roomId": room_id, "messageId": message_id, "following": following}


def followed_entry(parent: Any, last_read: str | None, unread: int) -> dict[str, Any]:
    """One followed thread: its parent in short, its counters and the reader's unread."""
    return {
        "messageId": parent.message_id,
        "sender": parent.sender,
        "excerpt": excerpt(None if parent.deleted else parent.message),
        "replyCount": parent.reply_count,
        "lastReplyAt": parent.last_reply_at,
        "lastRead": last_read,
        **_unread(unread),
    }


def threads_frame(
    room_id: str, threads: list[dict[str, Any]], next_cursor: str | None
) -> dict[str, Any]:
    return {"type": "threads", "roomId": room_id, "threads": threads, "next": next_cursor}
