"""What every use-case runs against: who is asking (``Caller``) and ``Deps``, the ports, the
settings and the invocation's own state. No logic of any action lives here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..conversation_ports import (
    MentionsRepository,
    PinsRepository,
    ReactionsRepository,
    ThreadsRepository,
)
from ..notification_ports import (
    MobilePush,
    NotificationsRepository,
    NotifyQueue,
    PushSender,
)
from ..ports import (
    AttachmentStore,
    ChangeLog,
    ConnectionSender,
    Deadline,
    FanoutProgress,
    FanoutQueue,
    HistoryRepository,
    MessageReviewer,
    ModerationRepository,
    RateLimiter,
    RoomsRepository,
)
from ..settings import CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS, Settings
from ..ulid import new_ulid


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(epoch_ms: int) -> str:
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def connection_expiry(connected_at_ms: int | None, now: int) -> int:
    """When a connection's items expire (epoch seconds): API Gateway's longest connection
    after it opened, plus a margin, so a missed $disconnect cannot leave ghosts."""
    start = connected_at_ms if connected_at_ms else now
    return start // 1000 + CONNECTION_MAX_SECONDS + TTL_MARGIN_SECONDS


@dataclass
class FanoutCounts:
    members: int = 0
    delivered: int = 0
    pruned: int = 0
    failed: int = 0
    timed_out: int = 0  # not posted (or not confirmed) before the invocation's deadline

    def add(self, other: FanoutCounts) -> None:
        self.members += other.members
        self.delivered += other.delivered
        self.pruned += other.pruned
        self.failed += other.failed
        self.timed_out += other.timed_out


@dataclass
class Caller:
    """Who is asking: from the API Gateway request context."""

    connection_id: str
    connected_at_ms: int | None = None
    # From a verified connect token (the authorizer's context): it wins over any name sent.
    token_name: str | None = None
    # The token's sub (None without auth): the user, across all of their connections.
    user_id: str | None = None
    # Private rooms the token grants (its `rooms` claim): the user is a member of each.
    grants: frozenset[str] = frozenset()
    # The token's expiry (epoch seconds, the authorizer's `exp`): no action is served after it.
    token_expires_at: int | None = None
    # The operator (a command run with the deployment's own credentials, never a WebSocket
    # client): may moderate any room.
    operator: bool = False

    @property
    def identity(self) -> str:
        """Who this is, stably: the user id when authenticated, else the connection id."""
        return self.user_id or self.connection_id


OPERATOR = Caller(connection_id="", operator=True)


@dataclass
class Deps:
    """The ports, the settings and the invocation's state, one per invocation: the first
    argument of every use-case function (cosmicpython's unit of work, without transactions)."""

    rooms: RoomsRepository
    history: HistoryRepository
    sender: ConnectionSender
    settings: Settings
    limiter: RateLimiter | None = None
    moderation: ModerationRepository | None = None
    reviewer: MessageReviewer | None = None
    clock: Callable[[], int] = now_ms
    new_id: Callable[[int], str] = new_ulid
    # The invocation's remaining time; None (tests, tools) waits for every post.
    deadline: Deadline | None = None
    # What this invocation's posts did, summed (handlers log them).
    counts: FanoutCounts = field(default_factory=FanoutCounts)
    # The fan-out tier: the queue to the `fanout` workers (None: always inline), the @connections
    # endpoint the workers post to, and the workers' per-chunk progress records.
    queue: FanoutQueue | None = None
    endpoint: str = ""
    progress: FanoutProgress | None = None
    # Which messages were edited or deleted when, for resumes (None: resumes see no changes).
    changes: ChangeLog | None = None
    # The conversation capabilities' stores (None: that capability answers `internal`).
    threads: ThreadsRepository | None = None
    reactions: ReactionsRepository | None = None
    mentions: MentionsRepository | None = None
    pins: PinsRepository | None = None
    # The attachments bucket (None: ATTACHMENTS_BUCKET unset, attachments refused).
    attachments: AttachmentStore | None = None
    # Notifications for away members (None: off): the devices and levels, the queue to the
    # `notify` worker, and (in that worker only) the push senders.
    notifications: NotificationsRepository | None = None
    notify_queue: NotifyQueue | None = None
    pusher: PushSender | None = None
    mobile: MobilePush | None = None

    def now_s(self) -> int:
        return self.clock() // 1000

    def expires_at(self) -> int | None:
        """The TTL of what is stored now with a message: its retention, None for ever."""
        days = self.settings.history_retention_days
        return self.now_s() + days * 86400 if days else None
