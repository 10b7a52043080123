"""The fan-out tier (docs/design.md, "Big rooms"): a big room's message handed over to the
queue in chunks (``hand_over``, from sendAll), and one chunk posted by the `fanout` worker
in recorded steps (``deliver_chunk``), its unsettled recipients queued again (``requeue``)."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import Internal
from ..ports import Delivery, FanoutJob, Message
from ..settings import IDEMPOTENCY_SECONDS
from .broadcast import enqueue, post, prune
from .core import Caller, Deps, FanoutCounts


def hand_over(
    deps: Deps,
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
    queued, refused = enqueue(deps, msg.message_id, msg.room_id, text, others)
    inline = FanoutCounts()
    gone: list[str] = []
    if refused:
        inline, gone = post(deps, frame, refused)
    handed_over_ms = max(0, deps.clock() - now)
    prune(deps, gone, queued=True)
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


def deliver_chunk(deps: Deps, job: FanoutJob, redelivered: bool = False) -> FanoutCounts:
    """Post one queued chunk (the `fanout` worker), in steps of ``fanout_step_size``
    recording its progress after each, so a redelivery of a chunk whose worker died
    re-posts only what was not settled. Recipients whose posts failed or ran out of time
    are handed over again as a new, smaller chunk (the original then succeeds), up to
    ``fanout_max_attempts``; after that they count as failed. Raises when that hand-over
    itself fails, so the queue redelivers the chunk (and the record skips what is done)."""
    step = deps.settings.fanout_step_size
    done_steps, unsettled_before = 0, set[str]()
    if redelivered and deps.progress is not None:
        done_steps, unsettled_before = deps.progress.load(job.message_id, job.chunk, job.attempt)
    recipients = list(dict.fromkeys(job.recipients))
    skipped = recipients[: done_steps * step]
    retry = [cid for cid in skipped if cid in unsettled_before]
    counts = FanoutCounts(members=len(recipients) if job.attempt == 0 else 0)
    data = job.frame.encode("utf-8")
    expires_at = deps.clock() // 1000 + IDEMPOTENCY_SECONDS
    gone: list[str] = []
    index = done_steps
    for start in range(done_steps * step, len(recipients), step):
        part = recipients[start : start + step]
        if deps.deadline is not None and (
            deps.deadline.remaining_ms() <= deps.deadline.start_margin_ms
        ):
            retry += recipients[start:]
            break
        outcomes = deps.sender.send_many(part, data, deadline=deps.deadline)
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
        if deps.progress is not None:
            deps.progress.save(job.message_id, job.chunk, job.attempt, index, unsettled, expires_at)
    requeued = requeue(deps, job, retry, counts) if retry else 0
    deps.counts.add(counts)
    prune(deps, gone, queued=True)
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


def requeue(deps: Deps, job: FanoutJob, retry: list[str], counts: FanoutCounts) -> int:
    """Hand the recipients a chunk could not settle to the queue again as a smaller chunk
    (backoff 1 s, 2 s, ...: SQS DelaySeconds, up to 900); after ``fanout_max_attempts`` they
    count as failed. The number re-queued; raises when the queue refuses them, so the
    original chunk is redelivered instead."""
    if job.attempt + 1 >= deps.settings.fanout_max_attempts or deps.queue is None:
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
    if deps.queue.enqueue([again], delay_s=min(900, 2**job.attempt)):
        raise Internal("the undelivered recipients could not be queued again")
    return len(retry)
