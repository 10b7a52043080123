"""The ports of the conversation capabilities (threads, reactions, mentions and pins): what
their use-cases need from storage, apart from ``ports`` so each capability's interface is
found in one short place. Their records (``Reaction``, ``Mention``, ``Pin``) are in ``ports``,
on the ``Message`` and ``Room`` they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .ports import Message, Pin


@dataclass(frozen=True)
class FollowState:
    """A reader's state in one thread: following it or not, and the last reply read."""

    room_id: str
    parent_id: str
    following: bool
    last_read: str | None


class ThreadsRepository(Protocol):
    """The thread side of messages: the parent's counters and each reader's follow state
    (the replies themselves are stored by ``HistoryRepository`` with ``reply_to``)."""

    def count_reply(self, room_id: str, parent_id: str, reply_id: str, at: str) -> Message | None:
        """Count one reply on its parent (``replyCount`` + 1, atomically; ``lastReplyAt``
        only moves forward); the parent as counted, None when it does not exist."""
        ...

    def follow(self, reader_id: str, room_id: str, parent_id: str, following: bool) -> None:
        """Follow or unfollow a thread on the reader's explicit word."""
        ...

    def auto_follow(
        self, reader_id: str, room_id: str, parent_id: str, read_up_to: str | None
    ) -> None:
        """Follow a thread because the reader took part (replied, or wrote the parent),
        unless they unfollowed it explicitly; ``read_up_to`` moves their marker forward."""
        ...

    def mark_read(self, reader_id: str, room_id: str, parent_id: str, reply_id: str) -> str:
        """Move the reader's marker in the thread forward (never back); the marker now."""
        ...

    def state(self, reader_id: str, room_id: str, parent_id: str) -> FollowState: ...

    def followed(
        self, reader_id: str, room_id: str, limit: int, before: str | None
    ) -> tuple[list[FollowState], str | None]:
        """The threads of a room the reader follows, newest parent first, up to ``limit``;
        the cursor (a parent id) for the next page, None at the end."""
        ...

    def count_after(self, room_id: str, parent_id: str, after: str | None, cap: int) -> int:
        """Replies of the thread newer than ``after`` (all when None), counting at most ``cap``."""
        ...


@dataclass(frozen=True)
class Reacted:
    """What a reaction did: ``done`` (added or removed; ``message`` carries the summary and
    ``version`` orders the summaries of one message), ``same`` (already so: nothing
    changed), ``gone`` (no such message, or deleted) or ``full`` (too many kinds of emoji)."""

    outcome: str
    message: Message | None = None
    version: int = 0


class ReactionsRepository(Protocol):
    def add(
        self, message: Message, emoji: str, user_id: str, expires_at: int | None
    ) -> Reacted: ...

    def remove(self, message: Message, emoji: str, user_id: str) -> Reacted: ...

    def clear(self, message: Message) -> int:
        """Forget every reaction of a (deleted) message; how many there were."""
        ...


@dataclass(frozen=True)
class MentionRef:
    """An entry of a user's mentions: where the message is (its text is read from there, so
    an edit or a delete shows, and nothing is kept twice)."""

    room_id: str
    message_id: str
    reply_to: str | None


class MentionsRepository(Protocol):
    def record(self, message: Message, user_ids: list[str], expires_at: int | None) -> None:
        """One entry per mentioned user."""
        ...

    def page(
        self, user_id: str, limit: int, before: str | None
    ) -> tuple[list[MentionRef], str | None]:
        """The user's mentions, newest first, up to ``limit`` older than ``before``; the cursor
        (a messageId) for the next page, None at the end."""
        ...


class PinsRepository(Protocol):
    def pin(self, room_id: str, pin: Pin, cap: int) -> str:
        """Pin on the room's record: ``pinned``, ``same`` (already pinned), ``full`` (``cap``
        pins already) or ``gone`` (the room has no record)."""
        ...

    def unpin(self, room_id: str, message_id: str) -> Pin | None:
        """Unpin; the pin removed, None when the message was not pinned."""
        ...
