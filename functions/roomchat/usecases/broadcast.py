"""Broadcasting: posting a frame to connections, inline or through the fan-out queue, and
pruning the connections API Gateway says are gone (410), as $disconnect would close them.
Every capability that tells a room something posts through here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .. import jobs, logs, protocol
from ..ports import Delivery, FanoutJob, Member
from .core import Caller, Deps, FanoutCounts, connection_expiry

T = TypeVar("T")
# At most this many connections taken out of a room (or closed) at once by one kick,
# uninvite or disconnectUser: a user with thousands of connections is removed in parallel,
# within a bounded pool (each call is one or two DynamoDB writes or one @connections DELETE).
REMOVAL_WORKERS = 16


def in_parallel(fn: Callable[[T], Any], items: list[T]) -> None:
    """``fn`` on every item, at most REMOVAL_WORKERS at a time; the first error is raised
    once all have run (boto3 clients are thread-safe)."""
    if len(items) <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(max_workers=min(REMOVAL_WORKERS, len(items))) as pool:
        for future in [pool.submit(fn, item) for item in items]:
            future.result()


def remove_memberships(deps: Deps, room_id: str, members: list[Member]) -> None:
    """Delete these memberships of one room (and the room from each connection's record),
    in parallel."""

    def remove(m: Member) -> None:
        deps.rooms.detach_room(m.connection_id, room_id)
        deps.rooms.delete_member(room_id, m.connection_id)

    in_parallel(remove, members)


def post(
    deps: Deps, frame: dict[str, Any], recipients: Iterable[str]
) -> tuple[FanoutCounts, list[str]]:
    """Post one frame to the given connections; the counts and the ids that are gone."""
    ids = list(dict.fromkeys(recipients))
    counts = FanoutCounts(members=len(ids))
    if not ids:
        return counts, []
    data = protocol.encode(frame).encode("utf-8")
    outcomes = deps.sender.send_many(ids, data, deadline=deps.deadline)
    gone = [cid for cid, outcome in outcomes.items() if outcome is Delivery.GONE]
    counts.delivered = sum(1 for o in outcomes.values() if o is Delivery.DELIVERED)
    counts.failed = sum(1 for o in outcomes.values() if o is Delivery.FAILED)
    counts.timed_out = sum(1 for o in outcomes.values() if o is Delivery.TIMED_OUT)
    counts.pruned = len(gone)
    deps.counts.add(counts)
    return counts, gone


def broadcast(deps: Deps, frame: dict[str, Any], recipients: Iterable[str]) -> FanoutCounts:
    """Post one frame to the given connections; prune and announce those that are gone."""
    counts, gone = post(deps, frame, recipients)
    prune(deps, gone)
    return counts


def room_recipients(
    deps: Deps, room_id: str, caller: Caller, members: list[Member] | None = None
) -> list[str]:
    """The room's live connections, the caller's own included (its acknowledgement), from
    ``members`` when the caller has just read them (strongly consistent, as this would)."""
    if members is not None:
        recipients = [m.connection_id for m in members]
    else:
        recipients = deps.rooms.recipient_ids(room_id, deps.now_s())
    if caller.connection_id and caller.connection_id not in recipients:
        recipients.append(caller.connection_id)
    return recipients


def take_out(deps: Deps, room_id: str, members: list[Member]) -> None:
    """Take these memberships out of a room (uninvite, a room-scoped disconnectUser): each
    connection is told `left`, the room that its user left."""
    remove_memberships(deps, room_id, members)
    if members:
        broadcast(deps, protocol.left_frame(room_id), [m.connection_id for m in members])
        presence = protocol.presence_frame("leave", room_id, members[0].name)
        ephemeral(deps, presence, deps.rooms.recipient_ids(room_id, deps.now_s()))


def others_in(deps: Deps, room_id: str, connection_id: str) -> list[str]:
    """The room's live connections but this one."""
    return [cid for cid in deps.rooms.recipient_ids(room_id, deps.now_s()) if cid != connection_id]


def others_of(deps: Deps, room_id: str, user_id: str | None, connection_id: str) -> bool:
    """Whether the user has another live connection in the room (presence is per user)."""
    if user_id is None:
        return False
    now_s = deps.now_s()
    return any(
        m.user_id == user_id and m.connection_id != connection_id
        for m in deps.rooms.list_members(room_id, now_s)
    )


def close(deps: Deps, connection_id: str, connected_at_ms: int | None) -> list[Member]:
    """Close a connection and delete every membership it had; the memberships deleted.

    Its rooms are those its record lists (strongly consistent: a join that completed is
    there, and one still running finds the record closed and undoes itself) and, for
    memberships written before records existed, those the connectionId index shows."""
    record = deps.rooms.close_connection(
        connection_id, connection_expiry(connected_at_ms, deps.clock())
    )
    room_ids = set(record.rooms) | {m.room_id for m in deps.rooms.memberships_of(connection_id)}
    removed = []
    for room_id in sorted(room_ids):
        member = deps.rooms.delete_member(room_id, connection_id)
        if member is not None:
            removed.append(member)
    return removed


def prune(deps: Deps, gone: list[str], queued: bool = False) -> None:
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
            removed = close(deps, cid, None)
            logs.info("pruned", stale_connection=cid, rooms=len(removed))
            for m in removed:
                if not others_of(deps, m.room_id, m.user_id, m.connection_id):
                    left.setdefault(m.room_id, []).append(m)  # else: still there elsewhere
        pending = []
        now_s = deps.now_s()
        for room_id, members in left.items():
            # One read of the room for all of its members pruned in this pass.
            recipients = deps.rooms.recipient_ids(room_id, now_s)
            for m in members:
                frame = protocol.presence_frame("leave", room_id, m.name)
                more = announce(deps, room_id, frame, recipients, queued)
                recipients = [cid for cid in recipients if cid not in more]
                pending += [cid for cid in more if cid not in seen]
                seen.update(more)


def big_room(deps: Deps, recipients: list[str]) -> bool:
    """Whether a room of these recipients is above the fan-out tier's threshold (whether or
    not this function may use the queue)."""
    threshold = deps.settings.fanout_tier_threshold
    return bool(threshold) and len(recipients) > threshold


def ephemeral(deps: Deps, frame: dict[str, Any], recipients: list[str]) -> FanoutCounts | None:
    """Post a typing or presence frame, which nothing stores and nobody can miss for long,
    to a room's connections; in a room above the tier's threshold, drop it (the rule in
    docs/limits.md): one member's typing or join/leave loop must not cost a post per
    member (~10,000 posts a second in a 5,000-member room). Members of such rooms see no
    typing indicator and no join/leave notices; ``joined`` gives the member count and
    ``members`` the list. None when dropped."""
    if big_room(deps, recipients):
        logs.metrics(
            "ephemeral_dropped",
            {"ephemeralDropped": (1, logs.COUNT), "members": (len(recipients), logs.COUNT)},
            frameType=frame.get("type"),
        )
        return None
    return broadcast(deps, frame, recipients)


def above_threshold(deps: Deps, recipients: list[str]) -> bool:
    """Whether a room of these recipients goes through the fan-out tier (when it can)."""
    threshold = deps.settings.fanout_tier_threshold
    return deps.queue is not None and bool(threshold) and len(recipients) > threshold


def announce(
    deps: Deps, room_id: str, frame: dict[str, Any], recipients: list[str], queued: bool
) -> list[str]:
    """Post a room frame that is no chat message (a pruned member's leave) to its
    recipients: through the fan-out queue when ``queued`` and the room is above the tier's
    threshold (what the queue refuses is posted here), else inline. The ids found gone."""
    if queued and above_threshold(deps, recipients):
        text = protocol.encode(frame)
        job_id = f"presence-{deps.new_id(deps.clock())}"
        queued_chunks, refused = enqueue(deps, job_id, room_id, text, recipients)
        logs.info(
            "presence_queued",
            roomId=room_id[:64],
            jobId=job_id,
            members=len(recipients),
            chunksQueued=queued_chunks,
            refused=len(refused),
        )
        recipients = refused
    elif big_room(deps, recipients):
        ephemeral(deps, frame, recipients)  # dropped: never inline per member
        return []
    _, gone = post(deps, frame, recipients)
    return gone


def enqueue(
    deps: Deps, job_id: str, room_id: str, text: str, recipients: list[str]
) -> tuple[int, list[str]]:
    """Queue a frame for ``recipients`` in chunks for the `fanout` workers: the number of
    chunks queued and the recipients of those the queue refused (to be posted inline)."""
    assert deps.queue is not None
    chunks = jobs.split(recipients, deps.settings.fanout_chunk_size, len(text.encode("utf-8")))
    batch = [
        FanoutJob(job_id, room_id, deps.endpoint, text, tuple(ids), chunk=i)
        for i, ids in enumerate(chunks)
    ]
    try:
        refused = deps.queue.enqueue(batch)
    except Exception as e:
        logs.error("fanout_enqueue_failed", error=type(e).__name__, detail=str(e)[:300])
        refused = batch
    return len(batch) - len(refused), [c for job in refused for c in job.recipients]
