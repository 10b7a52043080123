"""Use-cases: what each action does, written against the ports only (no boto3 here)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import jobs, logs, protocol
from .errors import (
    BadRequest,
    ChatError,
    ConnectionGone,
    Forbidden,
    Internal,
    NotFound,
    NotMember,
    RateLimited,
    Rejected,
)
from .ports import (
    ANNOUNCE,
    MEMBER,
    MODERATOR,
    OWNER,
    PRIVATE,
    Ban,
    ConnectionSender,
    Deadline,
    Delivery,
    FanoutJob,
    FanoutProgress,
    FanoutQueue,
    HistoryRepository,
    Member,
    Message,
    MessageReviewer,
    ModerationRepository,
    RateLimiter,
    ReviewVerdict,
    Room,
    RoomsRepository,
)
from .settings import (
    CONNECTION_MAX_SECONDS,
    IDEMPOTENCY_SECONDS,
    TTL_MARGIN_SECONDS,
    TYPING_PER_SECOND,
    Settings,
)
from .ulid import new_ulid, successor, timestamp_ms


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(epoch_ms: int) -> str:
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


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
    # The operator (a command run with the deployment's own credentials, never a WebSocket
    # client): may moderate any room.
    operator: bool = False

    @property
    def identity(self) -> str:
        """Who this is, stably: the user id when authenticated, else the connection id."""
        return self.user_id or self.connection_id


OPERATOR = Caller(connection_id="", operator=True)


def not_member(room_id: str) -> NotMember:
    """The one answer for a room the caller is not in: the same whether the room is private,
    open or does not exist, so it tells nothing about a private room."""
    return NotMember(f"you are not a member of room {room_id!r}; join it first", room_id=room_id)


def may_not_manage(room_id: str) -> Forbidden:
    """The one refusal of createRoom's siblings, whatever the reason (no record, not a
    member of a private room, or too low a role), so it tells nothing about a private room."""
    return Forbidden(
        f"only the owner or a moderator of room {room_id!r} may do that", room_id=room_id
    )


@dataclass
class ChatService:
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
    counts: FanoutCounts = field(default_factory=FanoutCounts)
    # The fan-out tier: the queue to the `fanout` workers (None: always inline), the @connections
    # endpoint the workers post to, and the workers' per-chunk progress records.
    queue: FanoutQueue | None = None
    endpoint: str = ""
    progress: FanoutProgress | None = None

    # ------------------------------------------------------------------ helpers

    def _membership_expiry(self, caller: Caller, now: int) -> int:
        start = caller.connected_at_ms if caller.connected_at_ms else now
        return start // 1000 + CONNECTION_MAX_SECONDS + TTL_MARGIN_SECONDS

    def _require_member(self, room_id: str, caller: Caller) -> Member:
        member = self.rooms.get_member(room_id, caller.connection_id, self.clock() // 1000)
        if member is None:
            raise not_member(room_id)
        return member

    # ------------------------------------------------------------------ roles

    def _role_in(self, room: Room | None, caller: Caller) -> str | None:
        """The caller's role in a room: OWNER, MODERATOR, MEMBER or None (may not join).

        A room without a record is open to all (MEMBER). In an open or announce room everyone
        is at least a MEMBER; in a private room only the owner, moderators, invited users and
        users whose token grants the room. Without sign-in (no user id) nobody is owner or
        moderator, and nobody is a member of a private room."""
        if room is None:
            return MEMBER
        everyone = None if room.policy == PRIVATE else MEMBER
        user = caller.user_id
        if user is None:
            return everyone
        if room.owner == user:
            return OWNER
        role = self.rooms.get_role(room.room_id, user)
        if role == MODERATOR:
            return MODERATOR
        if role == MEMBER or room.room_id in caller.grants:
            return MEMBER
        return everyone

    def _role(self, room_id: str, caller: Caller) -> str | None:
        """The caller's role in ``room_id`` (OWNER, MODERATOR, MEMBER, or None for a private
        room they may not enter): what other use-cases (moderation) check permissions by."""
        return self._role_in(self.rooms.get_room(room_id), caller)

    def _require_reader(self, room_id: str, caller: Caller) -> tuple[Member, Room | None, str]:
        """The caller's membership, the room and their role, for actions of members only.
        A private room's member who lost their role gets the not-a-member answer."""
        member = self._require_member(room_id, caller)
        room = self.rooms.get_room(room_id)
        role = self._role_in(room, caller)
        if role is None:
            raise not_member(room_id)
        return member, room, role

    def _others_of(self, room_id: str, user_id: str | None, connection_id: str) -> bool:
        """Whether the user has another live connection in the room (presence is per user)."""
        if user_id is None:
            return False
        now_s = self.clock() // 1000
        return any(
            m.user_id == user_id and m.connection_id != connection_id
            for m in self.rooms.list_members(room_id, now_s)
        )

    def _post(
        self, frame: dict[str, Any], recipients: Iterable[str]
    ) -> tuple[FanoutCounts, list[str]]:
        """Post one frame to the given connections; the counts and the ids that are gone."""
        ids = list(dict.fromkeys(recipients))
        counts = FanoutCounts(members=len(ids))
        if not ids:
            return counts, []
        data = protocol.encode(frame).encode("utf-8")
        outcomes = self.sender.send_many(ids, data, deadline=self.deadline)
        gone = [cid for cid, outcome in outcomes.items() if outcome is Delivery.GONE]
        counts.delivered = sum(1 for o in outcomes.values() if o is Delivery.DELIVERED)
        counts.failed = sum(1 for o in outcomes.values() if o is Delivery.FAILED)
        counts.timed_out = sum(1 for o in outcomes.values() if o is Delivery.TIMED_OUT)
        counts.pruned = len(gone)
        self.counts.add(counts)
        return counts, gone

    def _broadcast(self, frame: dict[str, Any], recipients: Iterable[str]) -> FanoutCounts:
        """Post one frame to the given connections; prune and announce those that are gone."""
        counts, gone = self._post(frame, recipients)
        self._prune(gone)
        return counts

    def _prune(self, gone: list[str], queued: bool = False) -> None:
        """Close the connections API Gateway says are gone (410) as $disconnect would, telling
        their rooms they left. Connections found gone while telling are pruned the same way:
        each at most once, so this ends. With ``queued`` (the callers allowed to send to the
        fan-out queue: `sendAll` and the `fanout` worker), a leave in a room above the tier's
        threshold goes through the queue in chunks like any big-room frame, not inline."""
        seen = set(gone)
        pending = list(gone)
        while pending:
            left: dict[str, list[Member]] = {}
            # Close the whole batch first, so no announcement is posted to another stale member.
            for cid in pending:
                removed = self._close(cid, None)
                logs.info("pruned", stale_connection=cid, rooms=len(removed))
                for m in removed:
                    if not self._others_of(m.room_id, m.user_id, m.connection_id):
                        left.setdefault(m.room_id, []).append(m)  # else: still there elsewhere
            pending = []
            now_s = self.clock() // 1000
            for room_id, members in left.items():
                # One read of the room for all of its members pruned in this pass.
                recipients = self.rooms.recipient_ids(room_id, now_s)
                for m in members:
                    frame = protocol.presence_frame("leave", room_id, m.name)
                    more = self._announce(room_id, frame, recipients, queued)
                    recipients = [cid for cid in recipients if cid not in more]
                    pending += [cid for cid in more if cid not in seen]
                    seen.update(more)

    def _announce(
        self, room_id: str, frame: dict[str, Any], recipients: list[str], queued: bool
    ) -> list[str]:
        """Post a room frame that is no chat message (a pruned member's leave) to its
        recipients: through the fan-out queue when ``queued`` and the room is above the tier's
        threshold (what the queue refuses is posted here), else inline. The ids found gone."""
        threshold = self.settings.fanout_tier_threshold
        if queued and self.queue is not None and threshold and len(recipients) > threshold:
            text = protocol.encode(frame)
            job_id = f"presence-{self.new_id(self.clock())}"
            queued_chunks, refused = self._enqueue(job_id, room_id, text, recipients)
            logs.info(
                "presence_queued",
                roomId=room_id[:64],
                jobId=job_id,
                members=len(recipients),
                chunksQueued=queued_chunks,
                refused=len(refused),
            )
            recipients = refused
        _, gone = self._post(frame, recipients)
        return gone

    def _enqueue(
        self, job_id: str, room_id: str, text: str, recipients: list[str]
    ) -> tuple[int, list[str]]:
        """Queue a frame for ``recipients`` in chunks for the `fanout` workers: the number of
        chunks queued and the recipients of those the queue refused (to be posted inline)."""
        assert self.queue is not None
        chunks = jobs.split(recipients, self.settings.fanout_chunk_size, len(text.encode("utf-8")))
        batch = [
            FanoutJob(job_id, room_id, self.endpoint, text, tuple(ids), chunk=i)
            for i, ids in enumerate(chunks)
        ]
        try:
            refused = self.queue.enqueue(batch)
        except Exception as e:
            logs.error("fanout_enqueue_failed", error=type(e).__name__, detail=str(e)[:300])
            refused = batch
        return len(batch) - len(refused), [c for job in refused for c in job.recipients]

    def _close(self, connection_id: str, connected_at_ms: int | None) -> list[Member]:
        """Close a connection and delete every membership it had; the memberships deleted.

        Its rooms are those its record lists (strongly consistent: a join that completed is
        there, and one still running finds the record closed and undoes itself) and, for
        memberships written before records existed, those the connectionId index shows."""
        now = self.clock()
        start = connected_at_ms if connected_at_ms else now
        record = self.rooms.close_connection(
            connection_id, start // 1000 + CONNECTION_MAX_SECONDS + TTL_MARGIN_SECONDS
        )
        room_ids = set(record.rooms) | {m.room_id for m in self.rooms.memberships_of(connection_id)}
        removed = []
        for room_id in sorted(room_ids):
            member = self.rooms.delete_member(room_id, connection_id)
            if member is not None:
                removed.append(member)
        return removed

    def _check_rate(self, caller: Caller, room_id: str, what: str) -> None:
        """Count one request of this connection against its per-second limit (sendAll, join
        and leave share it); over it, ``RateLimited`` before anything is written."""
        per_second = self.settings.rate_limit_per_second
        if not (self.limiter and per_second):
            return
        if not self.limiter.allow(caller.connection_id, self.clock()):
            raise RateLimited(
                f"more than {per_second} requests a second; {what}",
                room_id=room_id,
            )

    def _may(self, action: str, room_id: str, caller: Caller, target: Message | str) -> bool:
        """Every authorization decision of the moderation actions, in one place.

        ``target`` is the message acted on (delete, edit) or the user id (kick, ban,
        disconnect). The operator may do everything but edit; nobody edits another's words;
        anyone deletes their own messages. Deleting another's message, kick, ban and
        disconnect need the room's owner or a moderator (``_role``: so signed in, in a room
        with a record), never act on oneself or the room's owner, and a moderator's never on
        another moderator.
        """
        if caller.operator:
            return action != "edit"  # nobody edits another's words
        author = target.author if isinstance(target, Message) else target
        if action in ("delete", "edit") and author == caller.identity:
            return True
        if action == "edit" or author is None or author == caller.identity:
            return False
        role = self._role(room_id, caller)
        if role not in (OWNER, MODERATOR):
            return False
        target_role = self._user_role(room_id, author)
        return target_role != OWNER and not (role == MODERATOR and target_role == MODERATOR)

    def _user_role(self, room_id: str, user_id: str) -> str | None:
        """The stored role of a user (OWNER from the room record, or their role row)."""
        room = self.rooms.get_room(room_id)
        if room is not None and room.owner == user_id:
            return OWNER
        return self.rooms.get_role(room_id, user_id)

    def _authorize(self, action: str, room_id: str, caller: Caller, target: Message | str) -> None:
        if not self._may(action, room_id, caller, target):
            raise Forbidden(f"you may not {action} this in room {room_id!r}", room_id=room_id)

    def _message(self, room_id: str, message_id: str) -> Message:
        msg = self.history.get(room_id, message_id)
        if msg is None:
            raise NotFound(f"no message {message_id} in room {room_id!r}", room_id=room_id)
        return msg

    def _reviewed(self, caller: Caller, room_id: str, sender: str, text: str) -> str:
        """The text to store, as the review hook decides; ``Rejected`` with its reason."""
        if self.reviewer is None:
            return text
        review = self.reviewer.review(room_id, caller.identity, sender, text)
        logs.info("reviewed", verdict=review.verdict.value)
        if review.verdict is ReviewVerdict.DENY:
            raise Rejected(review.reason or "the message was not accepted", room_id=room_id)
        if review.verdict is ReviewVerdict.REPLACE and review.text is not None:
            try:
                return protocol.check_message(review.text, self.settings.max_message_bytes)
            except ChatError:
                logs.warning("review_replacement_invalid")
                raise Rejected("the message was not accepted", room_id=room_id) from None
        return text

    def _unread(self, room_id: str, caller: Caller) -> tuple[str | None, int]:
        if self.moderation is None:
            return None, 0
        last = self.moderation.last_read(room_id, caller.identity)
        return last, self.moderation.count_after(room_id, last, protocol.UNREAD_CAP + 1)

    # ------------------------------------------------------------------ actions

    def connect(self, caller: Caller, name: str | None) -> None:
        name = caller.token_name or name
        if name is not None:
            now = self.clock()
            expires_at = self._membership_expiry(caller, now)
            self.rooms.save_connection_name(caller.connection_id, name, expires_at)

    def join(self, caller: Caller, req: protocol.JoinRequest) -> dict[str, Any]:
        now = self.clock()
        name = caller.token_name or req.name or self.rooms.connection_name(caller.connection_id)
        if name is None:
            raise BadRequest("'name' is required (or connect with ?name=)", room_id=req.room_id)
        if self._role(req.room_id, caller) is None:
            # Joining cannot look like joining a room that does not exist (that succeeds), so
            # this refusal tells that the id is taken (as createRoom would), nothing more.
            raise Forbidden(
                f"room {req.room_id!r} is invitation-only; ask its owner for an invite",
                room_id=req.room_id,
            )
        self._check_ban(caller, req.room_id, now)
        self._check_rate(caller, req.room_id, "the room was not joined")
        existing = self.rooms.get_member(req.room_id, caller.connection_id, now // 1000)
        expires_at = self._membership_expiry(caller, now)
        member = Member(
            room_id=req.room_id,
            connection_id=caller.connection_id,
            name=name,
            joined_at=existing.joined_at if existing else iso_ms(now),
            expires_at=expires_at,
            user_id=caller.user_id,
        )
        # The membership first, then the connection's record of it: a $disconnect running
        # meanwhile either sees the room in the record and deletes the membership, or has
        # closed the record first, and then this join undoes itself (no ghost member).
        self.rooms.put_member(member)
        try:
            self.rooms.attach_room(caller.connection_id, req.room_id, expires_at)
        except ConnectionGone:
            self.rooms.delete_member(req.room_id, caller.connection_id)
            raise
        member_ids, count, first = self._joined_view(caller, req.room_id, now // 1000)
        recent, older = self._recent(req.room_id, name, count)
        last_read, unread = self._unread(req.room_id, caller)
        if first and (existing is None or existing.name != name):
            self._announce_join(caller, req.room_id, name, existing, member_ids)
        return protocol.joined_frame(
            req.room_id, name, count, recent, older, caller.identity, last_read, unread
        )

    def _check_ban(self, caller: Caller, room_id: str, now: int) -> None:
        """Refuse a join of a banned user (any of their connections)."""
        if self.moderation is None:
            return
        ban = self.moderation.get_ban(room_id, caller.identity, now // 1000)
        if ban is not None:
            until = "for good" if ban.until is None else f"until {iso_ms(ban.until * 1000)}"
            raise Forbidden(f"you are banned from room {room_id!r} {until}", room_id=room_id)

    def _joined_view(self, caller: Caller, room_id: str, now_s: int) -> tuple[list[str], int, bool]:
        """After a join: the room's connection ids, its member count, and whether this is the
        caller's first connection in it (signed in: one member per user, whatever their number
        of connections; anonymous: one per connection)."""
        if caller.user_id is None:
            member_ids = self.rooms.recipient_ids(room_id, now_s)
            if caller.connection_id not in member_ids:
                member_ids.append(caller.connection_id)
            return member_ids, len(member_ids), True
        members = self.rooms.list_members(room_id, now_s)
        member_ids = [m.connection_id for m in members]
        if caller.connection_id not in member_ids:
            member_ids.append(caller.connection_id)
        users = {m.user_id or m.connection_id for m in members} | {caller.user_id}
        first = not any(
            m.user_id == caller.user_id and m.connection_id != caller.connection_id for m in members
        )
        return member_ids, len(users), first

    def _announce_join(
        self,
        caller: Caller,
        room_id: str,
        name: str,
        existing: Member | None,
        member_ids: list[str],
    ) -> None:
        others = [cid for cid in member_ids if cid != caller.connection_id]
        if existing is not None:
            # A re-join under a new name: the old name leaves, so member lists stay right.
            self._broadcast(protocol.presence_frame("leave", room_id, existing.name), others)
        self._broadcast(protocol.presence_frame("join", room_id, name), others)

    def _recent(self, room_id: str, name: str, members: int) -> tuple[list[Message], str | None]:
        """The last messages for ``joined``, as many as RECENT_ON_JOIN and the reply's byte
        budget allow, and the cursor for older history (None at the start of the room)."""
        budget = protocol.joined_budget(room_id, name, members)
        if not self.settings.recent_on_join:
            # No recent messages sent: the cursor, if the room has any, takes in the newest.
            newest = self.history.page(room_id, 1, None, budget).messages
            return [], successor(newest[-1].message_id) if newest else None
        page = self.history.page(room_id, self.settings.recent_on_join, None, budget)
        return page.messages, page.next_cursor

    def leave(self, caller: Caller, req: protocol.RoomRequest) -> dict[str, Any]:
        member = self._require_member(req.room_id, caller)
        self._check_rate(caller, req.room_id, "the room was not left")
        # The record first: a join of the same room running concurrently then ends with the
        # room in the record whenever its membership survives (see join).
        self.rooms.detach_room(caller.connection_id, req.room_id)
        self.rooms.delete_member(req.room_id, caller.connection_id)
        others = [
            cid
            for cid in self.rooms.recipient_ids(req.room_id, self.clock() // 1000)
            if cid != caller.connection_id
        ]
        if not self._others_of(req.room_id, caller.user_id, caller.connection_id):
            self._broadcast(protocol.presence_frame("leave", req.room_id, member.name), others)
        return protocol.left_frame(req.room_id)

    def send(self, caller: Caller, req: protocol.SendRequest) -> dict[str, Any] | None:
        """Store the message, then deliver it to every member of the room (sender included).

        Nothing to reply: the fanned-out message is the sender's acknowledgement. A retry
        refused by the rate limit whose message is already stored is answered with that
        message, to the sender only (a retry must not be told its message was not sent).
        """
        member, room, role = self._require_reader(req.room_id, caller)
        if room is not None and room.policy == ANNOUNCE and role not in (OWNER, MODERATOR):
            raise Forbidden(
                f"only the owner and moderators post in announce room {req.room_id!r}",
                room_id=req.room_id,
            )
        now = self.clock()
        try:
            self._check_rate(caller, req.room_id, "this message was not sent")
        except RateLimited:
            if req.client_msg_id:
                stored = self.history.stored(req.room_id, caller.connection_id, req.client_msg_id)
                if stored is not None:
                    logs.info("retry_answered", messageId=stored.message_id)
                    return protocol.message_frame(stored)
            raise
        # Before anything is stored: the review hook may refuse or rewrite the text.
        text = self._reviewed(caller, req.room_id, member.name, req.message)
        draft = Message(
            room_id=req.room_id,
            message_id=self.new_id(now),
            sent_at=iso_ms(now),
            sender=member.name,  # from the membership record, never from the request
            message=text,
            client_msg_id=req.client_msg_id,
            connection_id=caller.connection_id,
            author_id=caller.identity,
        )
        retention = self.settings.history_retention_days
        try:
            appended = self.history.append(
                draft,
                expires_at=(now // 1000 + retention * 86400) if retention else None,
                idem_expires_at=now // 1000 + IDEMPOTENCY_SECONDS,
            )
        except Exception as e:
            # History first, fan-out second: a message we could not store is delivered to no one.
            logs.metrics(
                "history_write_failed",
                {"historyWriteFailures": (1, logs.COUNT)},
                level="ERROR",
                error=type(e).__name__,
                detail=str(e)[:300],
            )
            raise Internal(
                "the message could not be stored; nothing was sent", room_id=req.room_id
            ) from e
        msg = appended.message
        recipients = self.rooms.recipient_ids(req.room_id, now // 1000)
        if caller.connection_id not in recipients:
            recipients.append(caller.connection_id)
        frame = protocol.message_frame(msg)
        threshold = self.settings.fanout_tier_threshold
        if self.queue is not None and threshold and len(recipients) > threshold:
            return self._hand_over(msg, frame, recipients, caller, appended.duplicate, now)
        # A retry re-delivers the stored message with its original messageId: clients drop
        # ids they have already shown, and members the first attempt missed still get it.
        counts, gone = self._post(frame, recipients)
        # From the message's sentAt (its ULID time) to the return of its last post.
        last_post_ms = max(0, self.clock() - now)
        self._prune(gone, queued=True)
        logs.metrics(
            "sent",
            {
                "messagesSent": (0 if appended.duplicate else 1, logs.COUNT),
                "members": (counts.members, logs.COUNT),
                "delivered": (counts.delivered, logs.COUNT),
                "pruned": (counts.pruned, logs.COUNT),
                "failed": (counts.failed, logs.COUNT),
                "timedOut": (counts.timed_out, logs.COUNT),
                "sendToLastPost": (last_post_ms, logs.MILLISECONDS),
            },
            messageId=msg.message_id,
            duplicate=appended.duplicate,
        )
        return None

    # ------------------------------------------------------------------ the fan-out tier

    def _hand_over(
        self,
        msg: Message,
        frame: dict[str, Any],
        recipients: list[str],
        caller: Caller,
        duplicate: bool,
        now: int,
    ) -> dict[str, Any]:
        """A big room's message: queue its recipients in chunks for the `fanout` workers and
        answer the sender at once with the message frame (its acknowledgement). Chunks the
        queue refused are posted here, inline, so a queue outage delays no one's message
        more than the inline path would."""
        text = protocol.encode(frame)
        others = [cid for cid in recipients if cid != caller.connection_id]
        queued, refused = self._enqueue(msg.message_id, msg.room_id, text, others)
        inline = FanoutCounts()
        gone: list[str] = []
        if refused:
            inline, gone = self._post(frame, refused)
        handed_over_ms = max(0, self.clock() - now)
        self._prune(gone, queued=True)
        logs.metrics(
            "sent",
            {
                "messagesSent": (0 if duplicate else 1, logs.COUNT),
                "members": (len(recipients), logs.COUNT),
                "chunksQueued": (queued, logs.COUNT),
                # The sender's own copy is the route's reply: delivered with the answer.
                "delivered": (1 + inline.delivered, logs.COUNT),
                "pruned": (inline.pruned, logs.COUNT),
                "failed": (inline.failed, logs.COUNT),
                "timedOut": (inline.timed_out, logs.COUNT),
                "sendToHandOver": (handed_over_ms, logs.MILLISECONDS),
            },
            messageId=msg.message_id,
            duplicate=duplicate,
            tier=True,
            recipientsInline=len(refused),
        )
        return frame

    def deliver_chunk(self, job: FanoutJob, redelivered: bool = False) -> FanoutCounts:
        """Post one queued chunk (the `fanout` worker), in steps of ``fanout_step_size``
        recording its progress after each, so a redelivery of a chunk whose worker died
        re-posts only what was not settled. Recipients whose posts failed or ran out of time
        are handed over again as a new, smaller chunk (the original then succeeds), up to
        ``fanout_max_attempts``; after that they count as failed. Raises when that hand-over
        itself fails, so the queue redelivers the chunk (and the record skips what is done)."""
        step = self.settings.fanout_step_size
        done_steps, unsettled_before = 0, set[str]()
        if redelivered and self.progress is not None:
            done_steps, unsettled_before = self.progress.load(
                job.message_id, job.chunk, job.attempt
            )
        recipients = list(dict.fromkeys(job.recipients))
        skipped = recipients[: done_steps * step]
        retry = [cid for cid in skipped if cid in unsettled_before]
        counts = FanoutCounts(members=len(recipients) if job.attempt == 0 else 0)
        data = job.frame.encode("utf-8")
        expires_at = self.clock() // 1000 + IDEMPOTENCY_SECONDS
        gone: list[str] = []
        index = done_steps
        for start in range(done_steps * step, len(recipients), step):
            part = recipients[start : start + step]
            if self.deadline is not None and (
                self.deadline.remaining_ms() <= self.deadline.start_margin_ms
            ):
                retry += recipients[start:]
                break
            outcomes = self.sender.send_many(part, data, deadline=self.deadline)
            unsettled = [
                cid for cid, o in outcomes.items() if o in (Delivery.FAILED, Delivery.TIMED_OUT)
            ]
            unsettled += [cid for cid in part if cid not in outcomes]
            step_gone = [cid for cid, o in outcomes.items() if o is Delivery.GONE]
            counts.delivered += sum(1 for o in outcomes.values() if o is Delivery.DELIVERED)
            counts.pruned += len(step_gone)
            gone += step_gone
            retry += unsettled
            index += 1
            if self.progress is not None:
                self.progress.save(
                    job.message_id, job.chunk, job.attempt, index, unsettled, expires_at
                )
        requeued = self._requeue(job, retry, counts) if retry else 0
        self.counts.add(counts)
        self._prune(gone, queued=True)
        logs.metrics(
            "fanout_chunk",
            {
                "members": (counts.members, logs.COUNT),
                "delivered": (counts.delivered, logs.COUNT),
                "pruned": (counts.pruned, logs.COUNT),
                "failed": (counts.failed, logs.COUNT),
                "timedOut": (counts.timed_out, logs.COUNT),
                "requeued": (requeued, logs.COUNT),
                "alreadySettled": (len(skipped) - len(unsettled_before & set(skipped)), logs.COUNT),
            },
            messageId=job.message_id,
            roomId=job.room_id,
            chunk=job.chunk,
            attempt=job.attempt,
            redelivered=redelivered,
        )
        return counts

    def _requeue(self, job: FanoutJob, retry: list[str], counts: FanoutCounts) -> int:
        """Hand the recipients a chunk could not settle to the queue again as a smaller chunk
        (backoff 1 s, 2 s, ...: SQS DelaySeconds, up to 900); after ``fanout_max_attempts`` they
        count as failed. The number re-queued; raises when the queue refuses them, so the
        original chunk is redelivered instead."""
        if job.attempt + 1 >= self.settings.fanout_max_attempts or self.queue is None:
            counts.failed += len(retry)
            return 0
        again = FanoutJob(
            job.message_id,
            job.room_id,
            job.endpoint,
            job.frame,
            tuple(retry),
            chunk=job.chunk,
            attempt=job.attempt + 1,
        )
        if self.queue.enqueue([again], delay_s=min(900, 2**job.attempt)):
            raise Internal("the undelivered recipients could not be queued again")
        return len(retry)

    def history_page(self, caller: Caller, req: protocol.HistoryRequest) -> dict[str, Any]:
        self._require_reader(req.room_id, caller)
        budget = protocol.history_budget(req.room_id)
        page = self.history.page(req.room_id, req.limit, req.before, budget)
        return protocol.history_frame(req.room_id, page.messages, page.next_cursor)

    def members(self, caller: Caller, req: protocol.RoomRequest) -> dict[str, Any]:
        self._require_reader(req.room_id, caller)
        members = self.rooms.list_members(req.room_id, self.clock() // 1000)
        members.sort(key=lambda m: (m.joined_at, m.connection_id))
        # A signed-in user is listed once, however many connections they have.
        seen: set[str] = set()
        names = []
        for m in members:
            key = m.user_id or "#" + m.connection_id
            if key not in seen:
                seen.add(key)
                names.append(m.name)
        return protocol.members_frame_within(req.room_id, names)

    def disconnect(self, caller: Caller) -> int:
        """Leave every room the connection was in, telling each room's remaining members."""
        removed = self._close(caller.connection_id, caller.connected_at_ms)
        now_s = self.clock() // 1000
        for m in removed:
            if self._others_of(m.room_id, m.user_id, caller.connection_id):
                continue  # the user is still there on another connection
            others = [
                cid
                for cid in self.rooms.recipient_ids(m.room_id, now_s)
                if cid != caller.connection_id
            ]
            self._broadcast(protocol.presence_frame("leave", m.room_id, m.name), others)
        return len(removed)

    # ------------------------------------------------------------------ the life of a message

    def _room_recipients(self, room_id: str, caller: Caller) -> list[str]:
        recipients = self.rooms.recipient_ids(room_id, self.clock() // 1000)
        if caller.connection_id and caller.connection_id not in recipients:
            recipients.append(caller.connection_id)
        return recipients

    def delete(self, caller: Caller, req: protocol.MessageRef) -> dict[str, Any] | None:
        """Turn a message into a tombstone (its text removed, who and when kept) and tell the
        room with a ``deleted`` frame (the caller's acknowledgement). Deleting a tombstone
        again changes nothing and answers it to the caller alone."""
        if not caller.operator:
            self._require_reader(req.room_id, caller)
        msg = self._message(req.room_id, req.message_id)
        self._authorize("delete", req.room_id, caller, msg)
        if msg.deleted:
            return protocol.deleted_frame(
                req.room_id, msg.message_id, msg.deleted_by or "", msg.deleted_at or ""
            )
        if not caller.operator:
            self._check_rate(caller, req.room_id, "the message was not deleted")
        by = "operator" if caller.operator else caller.identity
        tomb = self.history.tombstone(req.room_id, req.message_id, by, iso_ms(self.clock()))
        if tomb is None:
            raise NotFound(
                f"no message {req.message_id} in room {req.room_id!r}", room_id=req.room_id
            )
        frame = protocol.deleted_frame(
            req.room_id, tomb.message_id, tomb.deleted_by or by, tomb.deleted_at or ""
        )
        self._broadcast(frame, self._room_recipients(req.room_id, caller))
        logs.info("deleted", messageId=req.message_id)
        return frame if caller.operator else None

    def edit(self, caller: Caller, req: protocol.EditRequest) -> dict[str, Any] | None:
        """Replace the text of one's own message within the edit window; the room gets an
        ``edited`` frame (the caller's acknowledgement). Its messageId, so its place in the
        room's order, never changes."""
        member, _, _ = self._require_reader(req.room_id, caller)
        msg = self._message(req.room_id, req.message_id)
        self._authorize("edit", req.room_id, caller, msg)
        if msg.deleted:
            raise NotFound("that message was deleted", room_id=req.room_id)
        now = self.clock()
        window = self.settings.edit_window_seconds
        if now - timestamp_ms(msg.message_id) > window * 1000:
            raise Forbidden(
                f"messages can be edited for {window} seconds after sending", room_id=req.room_id
            )
        self._check_rate(caller, req.room_id, "the message was not edited")
        text = self._reviewed(caller, req.room_id, member.name, req.message)
        edited = self.history.edit(req.room_id, req.message_id, text, iso_ms(now))
        if edited is None:
            raise NotFound("that message was deleted", room_id=req.room_id)
        self._broadcast(protocol.edited_frame(edited), self._room_recipients(req.room_id, caller))
        logs.info("edited", messageId=req.message_id)
        return None

    def typing(self, caller: Caller, req: protocol.RoomRequest) -> None:
        """Tell the room's other members that the caller is typing. Stored nowhere."""
        member, _, _ = self._require_reader(req.room_id, caller)
        if self.limiter is not None and not self.limiter.allow(
            caller.connection_id + "#typing", self.clock(), TYPING_PER_SECOND
        ):
            raise RateLimited(
                f"more than {TYPING_PER_SECOND} typing frames a second", room_id=req.room_id
            )
        others = [
            cid
            for cid in self.rooms.recipient_ids(req.room_id, self.clock() // 1000)
            if cid != caller.connection_id
        ]
        self._broadcast(protocol.typing_frame(req.room_id, member.name, caller.identity), others)

    def mark_read(self, caller: Caller, req: protocol.MessageRef) -> dict[str, Any]:
        """Record the last message the caller's user has read in the room (never moving back);
        every device of the user sees it in ``joined``."""
        self._require_reader(req.room_id, caller)
        if self.moderation is None:
            raise Internal("read markers are not configured", room_id=req.room_id)
        self._message(req.room_id, req.message_id)
        self._check_rate(caller, req.room_id, "the marker was not moved")
        marker = self.moderation.mark_read(req.room_id, caller.identity, req.message_id)
        return protocol.read_frame(req.room_id, marker)

    # ------------------------------------------------------------------ moderation

    def kick(self, caller: Caller, req: protocol.KickRequest) -> dict[str, Any]:
        """Remove every membership of a user in a room, optionally banning them (for a time or
        for good) so that no connection of theirs can join again; the room is told."""
        self._authorize(
            "kick" if req.ban_seconds is None and not req.forever else "ban",
            req.room_id,
            caller,
            req.user_id,
        )
        if not caller.operator:
            self._require_member(req.room_id, caller)
            self._check_rate(caller, req.room_id, "nobody was kicked")
        now_s = self.clock() // 1000
        banned = req.forever or req.ban_seconds is not None
        until = now_s + req.ban_seconds if req.ban_seconds is not None else None
        if banned:
            if self.moderation is None:
                raise Internal("bans are not configured", room_id=req.room_id)
            by = "operator" if caller.operator else caller.identity
            # The ban first: a join racing with the kick is refused once it is in place.
            self.moderation.put_ban(Ban(req.room_id, req.user_id, until, by))
        targets = [
            m for m in self.rooms.list_members(req.room_id, now_s) if m.identity == req.user_id
        ]
        for m in targets:
            self.rooms.detach_room(m.connection_id, req.room_id)
            self.rooms.delete_member(req.room_id, m.connection_id)
        names = sorted({m.name for m in targets})
        frame = protocol.kicked_frame(req.room_id, req.user_id, names, until, banned)
        recipients = self.rooms.recipient_ids(req.room_id, now_s) + [
            m.connection_id for m in targets
        ]
        self._broadcast(frame, recipients)
        logs.info("kicked", target=req.user_id, connections=len(targets), banned=banned)
        return frame

    def disconnect_user(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        """Close every connection of a user that is a member of the room (the @connections
        DELETE); API Gateway then runs $disconnect for each, which leaves their rooms."""
        self._authorize("disconnect", req.room_id, caller, req.user_id)
        if not caller.operator:
            self._require_member(req.room_id, caller)
            self._check_rate(caller, req.room_id, "nobody was disconnected")
        now_s = self.clock() // 1000
        targets = [
            m for m in self.rooms.list_members(req.room_id, now_s) if m.identity == req.user_id
        ]
        gone = []
        for m in targets:
            if self.sender.disconnect(m.connection_id) is Delivery.GONE:
                gone.append(m.connection_id)
        self._prune(gone)  # already closed: clean up as a 410 on a post would
        logs.info("disconnected_user", target=req.user_id, connections=len(targets))
        return protocol.disconnected_frame(req.user_id, len(targets))

    # ------------------------------------------------------------------ rooms and roles

    def create_room(self, caller: Caller, req: protocol.CreateRoomRequest) -> dict[str, Any]:
        """A room with an owner (the caller) and a policy; only an unused room id."""
        if caller.user_id is None:
            raise Forbidden(
                "sign in to create rooms (the stack needs auth_mode jwt or oidc)",
                room_id=req.room_id,
            )
        self._check_rate(caller, req.room_id, "the room was not created")
        now = self.clock()
        taken = Forbidden(f"room {req.room_id!r} already exists; pick another id")
        taken.room_id = req.room_id
        # A room someone is in or has written to is theirs as much as the caller's.
        if self.rooms.room_in_use(req.room_id, now // 1000) or self.history.has_messages(
            req.room_id
        ):
            raise taken
        room = Room(req.room_id, caller.user_id, req.policy, iso_ms(now))
        if not self.rooms.create_room(room):
            raise taken
        logs.info("room_created", policy=room.policy)
        return protocol.room_created_frame(room)

    def _manage(self, caller: Caller, req: protocol.UserRequest, *roles: str) -> Room:
        """The room, if the caller's role is one of ``roles``; else the one refusal."""
        room = self.rooms.get_room(req.room_id)
        if room is None or self._role_in(room, caller) not in roles:
            raise may_not_manage(req.room_id)
        self._check_rate(caller, req.room_id, "nothing was changed")
        if req.user_id == room.owner:
            raise Forbidden(f"the owner's role in room {req.room_id!r} cannot change")
        return room

    def invite(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        """Owner or moderator: the user becomes a member (of a private room: may join)."""
        self._manage(caller, req, OWNER, MODERATOR)
        role = self.rooms.get_role(req.room_id, req.user_id)
        if role is None:
            self.rooms.put_role(req.room_id, req.user_id, MEMBER)
            role = MEMBER
        return protocol.role_frame(req.room_id, req.user_id, role)

    def uninvite(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        """Owner or moderator (a moderator only of members): the user loses their role, and
        in a private room their connections leave it at once."""
        caller_role = self._role(req.room_id, caller)
        room = self._manage(caller, req, OWNER, MODERATOR)
        role = self.rooms.get_role(req.room_id, req.user_id)
        if role == MODERATOR and caller_role != OWNER:
            raise Forbidden(
                f"only the owner of room {req.room_id!r} may uninvite a moderator",
                room_id=req.room_id,
            )
        self.rooms.delete_role(req.room_id, req.user_id)
        if room.policy == PRIVATE:
            self._remove_user(req.room_id, req.user_id)
        return protocol.role_frame(req.room_id, req.user_id, None)

    def _remove_user(self, room_id: str, user_id: str) -> None:
        now_s = self.clock() // 1000
        gone = [m for m in self.rooms.list_members(room_id, now_s) if m.user_id == user_id]
        for m in gone:
            self.rooms.detach_room(m.connection_id, room_id)
            self.rooms.delete_member(room_id, m.connection_id)
        if gone:
            self._broadcast(protocol.left_frame(room_id), [m.connection_id for m in gone])
            presence = protocol.presence_frame("leave", room_id, gone[0].name)
            self._broadcast(presence, self.rooms.recipient_ids(room_id, now_s))

    def promote(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        """Owner only: the user becomes a moderator (may post in announce rooms, invite)."""
        self._manage(caller, req, OWNER)
        self.rooms.put_role(req.room_id, req.user_id, MODERATOR)
        return protocol.role_frame(req.room_id, req.user_id, MODERATOR)

    def demote(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        """Owner only: a moderator becomes a member again (still invited)."""
        self._manage(caller, req, OWNER)
        if self.rooms.get_role(req.room_id, req.user_id) != MODERATOR:
            raise BadRequest(f"{req.user_id!r} is not a moderator", room_id=req.room_id)
        self.rooms.put_role(req.room_id, req.user_id, MEMBER)
        return protocol.role_frame(req.room_id, req.user_id, MEMBER)
