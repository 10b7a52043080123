"""What the use-cases need from the outside world (small interfaces) and the records they pass."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .protocol import ByteBudget


@dataclass(frozen=True)
class Member:
    """One connection's membership of one room."""

    room_id: str
    connection_id: str
    name: str
    joined_at: str
    expires_at: int  # epoch seconds; the table's TTL attribute
    # The signed-in user (the token's sub) the connection belongs to; None without auth.
    user_id: str | None = None

    @property
    def identity(self) -> str:
        """The member's stable identity: the user id when signed in, else the connection id.
        Kick and ban act on it, so every device of a user is covered."""
        return self.user_id or self.connection_id


# A room's policy: who may join and who may post.
OPEN, PRIVATE, ANNOUNCE = "open", "private", "announce"
POLICIES = (OPEN, PRIVATE, ANNOUNCE)
# A user's role in a room. The owner is on the room record; moderators and (invited) members
# have a role row.
OWNER, MODERATOR, MEMBER = "owner", "moderator", "member"


@dataclass(frozen=True)
class Pin:
    """A message pinned in a room by its owner or a moderator (on the room's record)."""

    message_id: str
    by: str  # the pinner's user id
    at: str
    reply_to: str | None = None  # the thread's parent when the pinned message is a reply


@dataclass(frozen=True)
class Room:
    """A room created with ``createRoom``. Rooms without one are open and have no owner (every
    room before this record existed, and any room id joined without being created)."""

    room_id: str
    owner: str  # user id
    policy: str  # OPEN, PRIVATE or ANNOUNCE
    created_at: str
    pins: tuple[Pin, ...] = ()  # oldest message first


@dataclass(frozen=True)
class ConnectionRecord:
    """What the store knew of one connection when it was closed: the rooms it had joined."""

    connection_id: str
    rooms: frozenset[str]


@dataclass(frozen=True)
class Reaction:
    """One emoji's reactions on a message: how many, and who (the first few identities)."""

    emoji: str
    count: int
    users: tuple[str, ...]


@dataclass(frozen=True)
class Mention:
    """A member named in a message (``@name``), resolved by the server when it was sent."""

    user_id: str  # the member's identity: user id when signed in, else connection id
    name: str


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message (issue 24): its upload and what the sender declared,
    checked against the object when it was sent."""

    upload_id: str
    name: str
    type: str
    size: int


@dataclass(frozen=True)
class Message:
    room_id: str
    message_id: str
    sent_at: str
    sender: str
    message: str
    client_msg_id: str | None = None
    connection_id: str | None = None
    # Who wrote it, stably: the user id when authenticated, else the sending connection id.
    # "Own message" checks compare it (older items without it fall back to connection_id).
    author_id: str | None = None
    edited_at: str | None = None
    # A tombstone: the text is gone, who deleted it and when are kept.
    deleted_by: str | None = None
    deleted_at: str | None = None
    # A reply: the messageId of its thread's parent; ``also_to_room``: shown in the room too.
    reply_to: str | None = None
    also_to_room: bool = False
    # A thread's parent: how many replies it has had and when the last one came.
    reply_count: int = 0
    last_reply_at: str | None = None
    reactions: tuple[Reaction, ...] = ()
    mentions: tuple[Mention, ...] = ()
    mentions_room: bool = False  # @room, by the room's owner or a moderator
    attachments: tuple[Attachment, ...] = ()

    @property
    def author(self) -> str | None:
        return self.author_id or self.connection_id

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Ban:
    """A user barred from one room until ``until`` (epoch seconds), or for good (None)."""

    room_id: str
    user_id: str
    until: int | None
    by: str


@dataclass(frozen=True)
class Page:
    messages: list[Message]  # oldest .. newest
    next_cursor: str | None  # pass as ``before`` for the page before this one


@dataclass(frozen=True)
class Appended:
    message: Message
    duplicate: bool  # True when a retried clientMsgId found the message already stored


class Delivery(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the connection no longer exists
    FAILED = "failed"  # anything else, after the client's retries
    TIMED_OUT = "timed_out"  # not started (or not finished) before the invocation's deadline


@dataclass(frozen=True)
class Deadline:
    """The invocation's remaining time (Lambda's ``context.get_remaining_time_in_millis``): a
    fan-out starts posts only while more than ``start_margin_ms`` remain and waits for them
    only while more than ``wait_margin_ms`` remain, so it can log its counts and return
    before the function's timeout."""

    remaining_ms: Callable[[], int]
    # One post's worst case is ~3 s (read_timeout) before its retries; starting later risks it.
    start_margin_ms: int = 3000
    # Enough to write the log line and the reply.
    wait_margin_ms: int = 1000

    @classmethod
    def of_invocation(cls, remaining_ms: Callable[[], int]) -> Deadline:
        """Margins for an invocation that has ``remaining_ms()`` left now: the defaults, or a
        quarter and a tenth of that time for functions with a short timeout (a 3 s function
        must not refuse every post)."""
        left = max(0, remaining_ms())
        return cls(remaining_ms, min(3000, left // 4), min(1000, left // 10))


class RoomsRepository(Protocol):
    """Memberships, and the record of each connection (its name and the rooms it joined).

    Reads of one room and of one membership are strongly consistent; ``memberships_of`` goes
    through an index and may miss a membership written a moment ago, which is why a
    connection also records its rooms itself (``attach_room``/``close_connection``).
    """

    def get_member(self, room_id: str, connection_id: str, now_s: int) -> Member | None: ...

    def put_member(self, member: Member) -> None: ...

    def delete_member(self, room_id: str, connection_id: str) -> Member | None:
        """Delete one membership; the membership that was deleted, if there was one."""
        ...

    def list_members(self, room_id: str, now_s: int) -> list[Member]: ...

    def recipient_ids(self, room_id: str, now_s: int) -> list[str]:
        """The connection ids of a room's live members: all a fan-out needs."""
        ...

    def memberships_of(self, connection_id: str) -> list[Member]:
        """The room memberships of one connection found through the connectionId index
        (eventually consistent: a membership written just now may be missing)."""
        ...

    def connection_rooms(self, connection_id: str) -> frozenset[str]:
        """The rooms the connection's record lists (strongly consistent; empty without one)."""
        ...

    def add_user_connection(self, user_id: str, connection_id: str, expires_at: int) -> None:
        """Record one open connection of a signed-in user (until ``expires_at``)."""
        ...

    def remove_user_connection(self, user_id: str, connection_id: str) -> None: ...

    def user_connections(self, user_id: str, now_s: int) -> int:
        """How many open connections the user holds (strongly consistent)."""
        ...

    def save_connection_name(self, connection_id: str, name: str, expires_at: int) -> None:
        """The connection's default name (from ``?name=`` or its token)."""
        ...

    def connection_name(self, connection_id: str) -> str | None: ...

    def attach_room(self, connection_id: str, room_id: str, expires_at: int) -> None:
        """Record that the connection joined a room; ``ConnectionGone`` when it is closed."""
        ...

    def detach_room(self, connection_id: str, room_id: str) -> None: ...

    def close_connection(self, connection_id: str, expires_at: int) -> ConnectionRecord:
        """Mark the connection closed (later ``attach_room`` calls fail) and forget its name;
        the rooms it had attached, as of closing."""
        ...

    # Rooms and roles (read strongly consistently)

    def get_room(self, room_id: str) -> Room | None: ...

    def create_room(self, room: Room) -> bool:
        """Store the record unless the room has one already; False if it had."""
        ...

    def room_in_use(self, room_id: str, now_s: int) -> bool:
        """Whether the room has any live member."""
        ...

    def get_role(self, room_id: str, user_id: str) -> str | None:
        """MODERATOR or MEMBER from the user's role row, None without one."""
        ...

    def put_role(self, room_id: str, user_id: str, role: str) -> None: ...

    def delete_role(self, room_id: str, user_id: str) -> None: ...


class HistoryRepository(Protocol):
    def append(self, message: Message, expires_at: int | None, idem_expires_at: int) -> Appended:
        """Store a message; a repeat of (room, connection, clientMsgId) returns the stored one."""
        ...

    def stored(self, room_id: str, connection_id: str, client_msg_id: str) -> Message | None:
        """The message this connection already stored with this clientMsgId, if any."""
        ...

    def has_messages(self, room_id: str) -> bool:
        """Whether the room has any message stored."""
        ...

    def get(self, room_id: str, message_id: str, reply_to: str | None = None) -> Message | None:
        """One message (or tombstone) of the room, or with ``reply_to`` of that thread, read
        strongly consistently."""
        ...

    def tombstone(
        self, room_id: str, message_id: str, by: str, at: str, reply_to: str | None = None
    ) -> Message | None:
        """Remove the message's text (and mentions) for good, keeping who deleted it and
        when; a message already deleted keeps its first tombstone. None when there is no
        such message."""
        ...

    def edit(
        self, room_id: str, message_id: str, text: str, at: str, reply_to: str | None = None
    ) -> Message | None:
        """Replace the text and set ``edited_at``; None when the message is gone or deleted."""
        ...

    def set_mentions(
        self, message: Message, mentions: tuple[Mention, ...], everyone: bool
    ) -> Message | None:
        """Store whom the message mentions; None when it is gone or deleted."""
        ...

    def page(
        self,
        room_id: str,
        limit: int,
        before: str | None,
        budget: ByteBudget | None = None,
        reply_to: str | None = None,
    ) -> Page:
        """Up to ``limit`` messages older than ``before`` (with ``reply_to``: replies of that
        thread) whose frame entries fit ``budget``, read strongly consistently;
        ``next_cursor`` whenever older messages exist."""
        ...

    def page_after(self, room_id: str, after: str, limit: int) -> tuple[list[Message], bool]:
        """Up to ``limit`` messages newer than ``after``, oldest first, read strongly
        consistently, and whether newer ones follow."""
        ...


class ChangeLog(Protocol):
    """Which messages of a room were edited or deleted when (no text): what a resume needs
    to bring the messages a client already has up to date."""

    def record(self, room_id: str, change_id: str, message_id: str, expires_at: int | None) -> None:
        """Note a change of ``message_id`` made now (``change_id`` a ULID of this moment)."""
        ...

    def since(self, room_id: str, after: str, limit: int) -> tuple[list[tuple[str, str]], bool]:
        """Up to ``limit`` (change id, message id) pairs with change ids after ``after``, oldest
        first (strongly consistent), and whether more follow."""
        ...


class RateLimiter(Protocol):
    def allow(self, connection_id: str, now_ms: int, limit: int | None = None) -> bool:
        """Count one message for this key (a connection id, or one with a suffix for a separate
        budget such as typing); False when it is over ``limit`` (default: the configured
        one) this second."""
        ...

    def admit(self, key: str, now_ms: int, per_second: int, burst: int) -> bool:
        """Take one unit from ``key``'s token bucket (``per_second`` refill, ``burst`` at most);
        False, changing nothing, when it has none or is in debt."""
        ...

    def charge(self, key: str, now_ms: int, per_second: int, units: int) -> None:
        """Spend ``units`` more from ``key``'s bucket, unconditionally (it may go into debt)."""
        ...

    def strikes(self, key: str, now_ms: int, window_s: int) -> int:
        """Count one refusal of ``key`` in the current window; the window's count."""
        ...


class ModerationRepository(Protocol):
    """Bans and read markers: small per-room records beside the history."""

    def put_ban(self, ban: Ban) -> None: ...

    def get_ban(self, room_id: str, user_id: str, now_s: int) -> Ban | None:
        """The ban in force (strongly consistent), None when there is none or it has ended."""
        ...

    def mark_read(self, room_id: str, reader_id: str, message_id: str) -> str:
        """Move the reader's marker forward to ``message_id`` (never back); the marker now."""
        ...

    def last_read(self, room_id: str, reader_id: str) -> str | None: ...

    def count_after(self, room_id: str, message_id: str | None, cap: int) -> int:
        """How many messages of the room are newer than ``message_id`` (all when None),
        counting at most ``cap`` (a strongly consistent Query with Select=COUNT)."""
        ...


class ReviewVerdict(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    REPLACE = "replace"


@dataclass(frozen=True)
class Review:
    verdict: ReviewVerdict
    reason: str | None = None  # shown to the sender when denied
    text: str | None = None  # the replacement text when REPLACE


class MessageReviewer(Protocol):
    def review(self, room_id: str, author_id: str, sender: str, text: str) -> Review:
        """The hook's verdict on a message about to be stored; never raises (failures and
        slowness become the configured fallback)."""
        ...


class ConnectionSender(Protocol):
    def send_many(
        self, connection_ids: Iterable[str], data: bytes, deadline: Deadline | None = None
    ) -> Mapping[str, Delivery]:
        """Post one frame to many connections; never raises for a single connection's failure.
        Posts not started (or not finished) within ``deadline`` are ``TIMED_OUT``."""
        ...

    def disconnect(self, connection_id: str) -> Delivery:
        """Close one connection (the @connections DELETE); GONE when it was already closed."""
        ...


@dataclass(frozen=True)
class FanoutJob:
    """One chunk of a big room's fan-out, as the queue carries it: the frame to post (as JSON
    text, exactly what the members receive), where to post it, and to whom.

    ``attempt`` counts the hand-overs of this message's remaining recipients: 0 for the chunk
    ``sendAll`` queued, n for the n-th re-queue of recipients a worker could not reach."""

    message_id: str
    room_id: str
    endpoint: str  # the @connections endpoint (the API's callback URL)
    frame: str
    recipients: tuple[str, ...]
    chunk: int = 0
    attempt: int = 0


class FanoutQueue(Protocol):
    """The queue between ``sendAll`` and the ``fanout`` workers (SQS on AWS)."""

    def enqueue(self, jobs: list[FanoutJob], delay_s: int = 0) -> list[FanoutJob]:
        """Queue the jobs; those that could not be queued (after the client's retries)."""
        ...


class FanoutProgress(Protocol):
    """How far a worker got with one chunk, so a chunk whose worker died is re-posted only to
    the recipients not yet settled. A chunk is posted in steps of a fixed size; the record is
    the number of steps done and the recipients of those steps whose posts failed (they are
    re-queued at the chunk's end, so a redelivery must post to them again)."""

    def load(self, message_id: str, chunk: int, attempt: int) -> tuple[int, set[str]]:
        """(steps done, unsettled recipients of those steps); (0, set()) when none is recorded."""
        ...

    def save(
        self,
        message_id: str,
        chunk: int,
        attempt: int,
        steps_done: int,
        unsettled: list[str],
        expires_at: int,
    ) -> None: ...


@dataclass(frozen=True)
class StoredObject:
    """What S3 says of an uploaded object (HeadObject)."""

    size: int
    content_type: str
    metadata: dict[str, str]


class AttachmentStore(Protocol):
    """The attachments bucket (roomchat.adapters.attachments over S3)."""

    def presign_post(
        self, key: str, content_type: str, size: int, metadata: dict[str, str], seconds: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned POST for exactly this key, type and size: (url, form fields)."""
        ...

    def head(self, key: str) -> StoredObject | None:
        """The object's size, type and metadata; None when there is none."""
        ...

    def first_bytes(self, key: str, count: int) -> bytes:
        """The object's first ``count`` bytes (a ranged GET)."""
        ...

    def mark_attached(self, key: str) -> None:
        """Tag the object attached=yes, so the lifecycle rule of unattached uploads spares it."""
        ...

    def presign_get(self, key: str, seconds: int, download_name: str | None) -> str:
        """A presigned GET of the object (``download_name``: served as a download)."""
        ...

    def delete(self, keys: list[str]) -> None:
        """Delete these objects (missing ones are no error)."""
        ...
