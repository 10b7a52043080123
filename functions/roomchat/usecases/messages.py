"""Messages: send (sendAll, replies too), history, delete, edit, typing and markRead (in
the room, or in a thread)."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import ChatError, Forbidden, Internal, NotFound, RateLimited, Rejected
from ..ports import ANNOUNCE, MODERATOR, OWNER, Appended, Attachment, Message, ReviewVerdict
from ..settings import IDEMPOTENCY_SECONDS
from ..ulid import timestamp_ms
from . import fanout, mentions, policy, resume, threads
from .broadcast import (
    above_threshold,
    broadcast,
    ephemeral,
    others_in,
    post,
    prune,
    room_recipients,
)
from .core import Caller, Deps, iso_ms


def send(deps: Deps, caller: Caller, req: protocol.SendRequest) -> dict[str, Any] | None:
    """Store the message, then deliver it to every member of the room (sender included).

    Nothing to reply: the fanned-out message is the sender's acknowledgement. A retry
    refused by the rate limit whose message is already stored is answered with that
    message, to the sender only (a retry must not be told its message was not sent).
    A reply (``replyTo``) is stored in its thread and counted on its parent (``threads``);
    its frame carries the parent's counters as ``thread``.
    """
    member, room, role = policy.require_reader(deps, req.room_id, caller)
    if room is not None and room.policy == ANNOUNCE and role not in (OWNER, MODERATOR):
        raise Forbidden(
            f"only the owner and moderators post in announce room {req.room_id!r}",
            room_id=req.room_id,
        )
    parent = threads.parent_of(deps, req.room_id, req.reply_to) if req.reply_to else None
    now = deps.clock()
    try:
        policy.check_rate(deps, caller, req.room_id, "this message was not sent")
    except RateLimited:
        if req.client_msg_id:
            stored = deps.history.stored(req.room_id, caller.connection_id, req.client_msg_id)
            if stored is not None:
                logs.info("retry_answered", messageId=stored.message_id)
                return protocol.message_frame(stored)
        raise
    # Before anything is stored: the review hook may refuse or rewrite the text, and every
    # attachment is checked against its object.
    text = _reviewed(deps, caller, req.room_id, member.name, req.message) if req.message else ""
    files = _attached(deps, caller, req)
    draft = Message(
        room_id=req.room_id,
        message_id=deps.new_id(now),
        sent_at=iso_ms(now),
        sender=member.name,  # from the membership record, never from the request
        message=text,
        client_msg_id=req.client_msg_id,
        connection_id=caller.connection_id,
        author_id=caller.identity,
        reply_to=req.reply_to,
        also_to_room=req.also_to_room,
        attachments=files,
    )
    appended = _store(deps, draft, now)
    msg, members = appended.message, None
    thread: Message | None = None
    if not appended.duplicate:
        msg, members = mentions.attach(deps, caller, role, msg)
        if parent is not None:
            thread = threads.on_reply(deps, caller, parent, msg)
    if not appended.duplicate and deps.notify_queue is not None:
        from . import notifications

        notifications.hand_over(deps, msg.room_id, msg.message_id, msg.reply_to)
    recipients = room_recipients(deps, req.room_id, caller, members)
    frame = protocol.message_frame(msg)
    if thread is not None:
        frame["thread"] = {"replyCount": thread.reply_count, "lastReplyAt": thread.last_reply_at}
    if above_threshold(deps, recipients):
        return fanout.hand_over(deps, msg, frame, recipients, caller, appended.duplicate, now)
    # A retry re-delivers the stored message with its original messageId: clients drop
    # ids they have already shown, and members the first attempt missed still get it.
    counts, gone = post(deps, frame, recipients)
    # From the message's sentAt (its ULID time) to the return of its last post.
    last_post_ms = max(0, deps.clock() - now)
    prune(deps, gone, queued=True)
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


def _attached(deps: Deps, caller: Caller, req: protocol.SendRequest) -> tuple[Attachment, ...]:
    if not req.attachments:
        return ()
    from . import attachments

    return attachments.verified(deps, caller, req.room_id, req.attachments)


def _store(deps: Deps, draft: Message, now: int) -> Appended:
    """History first, fan-out second: a message we could not store is delivered to no one."""
    retention = deps.settings.history_retention_days
    try:
        return deps.history.append(
            draft,
            expires_at=(now // 1000 + retention * 86400) if retention else None,
            idem_expires_at=now // 1000 + IDEMPOTENCY_SECONDS,
        )
    except Exception as e:
        logs.metrics(
            "history_write_failed",
            {"historyWriteFailures": (1, logs.COUNT)},
            level="ERROR",
            error=type(e).__name__,
            detail=str(e)[:300],
        )
        raise Internal(
            "the message could not be stored; nothing was sent", room_id=draft.room_id
        ) from e


def _reviewed(deps: Deps, caller: Caller, room_id: str, sender: str, text: str) -> str:
    """The text to store, as the review hook decides; ``Rejected`` with its reason."""
    if deps.reviewer is None:
        return text
    review = deps.reviewer.review(room_id, caller.identity, sender, text)
    logs.info("reviewed", verdict=review.verdict.value)
    if review.verdict is ReviewVerdict.DENY:
        raise Rejected(review.reason or "the message was not accepted", room_id=room_id)
    if review.verdict is ReviewVerdict.REPLACE and review.text is not None:
        try:
            return protocol.check_message(review.text, deps.settings.max_message_bytes)
        except ChatError:
            logs.warning("review_replacement_invalid")
            raise Rejected("the message was not accepted", room_id=room_id) from None
    return text


def located_message(
    deps: Deps, room_id: str, message_id: str, reply_to: str | None = None
) -> Message:
    """A message of the room, or with ``reply_to`` a reply in that thread; ``NotFound``."""
    msg = deps.history.get(room_id, message_id, reply_to)
    if msg is None:
        raise NotFound(f"no message {message_id} in room {room_id!r}", room_id=room_id)
    return msg


def history_page(deps: Deps, caller: Caller, req: protocol.HistoryRequest) -> dict[str, Any]:
    if req.after is not None:
        return resume.history_after(deps, caller, req)
    policy.require_reader(deps, req.room_id, caller)
    budget = protocol.history_budget(req.room_id)
    page = deps.history.page(req.room_id, req.limit, req.before, budget)
    return protocol.history_frame(req.room_id, page.messages, page.next_cursor)


def delete(deps: Deps, caller: Caller, req: protocol.MessageRef) -> dict[str, Any] | None:
    """Turn a message into a tombstone (its text removed, who and when kept) and tell the
    room with a ``deleted`` frame (the caller's acknowledgement). Deleting a tombstone
    again changes nothing and answers it to the caller alone."""
    if not caller.operator:
        policy.require_reader(deps, req.room_id, caller)
    msg = located_message(deps, req.room_id, req.message_id, req.reply_to)
    policy.authorize(deps, "delete", req.room_id, caller, msg)
    if msg.deleted:
        return protocol.deleted_frame(
            req.room_id, msg.message_id, msg.deleted_by or "", msg.deleted_at or "", msg.reply_to
        )
    if not caller.operator:
        policy.check_rate(deps, caller, req.room_id, "the message was not deleted")
    by = "operator" if caller.operator else caller.identity
    if msg.attachments:  # its files go with its text (first: a failure leaves the message)
        from . import attachments

        attachments.delete_objects(deps, msg)
    resume.record_change(deps, req.room_id, req.message_id)
    tomb = deps.history.tombstone(
        req.room_id, req.message_id, by, iso_ms(deps.clock()), req.reply_to
    )
    if tomb is None:
        raise NotFound(f"no message {req.message_id} in room {req.room_id!r}", room_id=req.room_id)
    if deps.reactions is not None:
        deps.reactions.clear(tomb)  # its reactions go with its text
    frame = protocol.deleted_frame(
        req.room_id, tomb.message_id, tomb.deleted_by or by, tomb.deleted_at or "", tomb.reply_to
    )
    broadcast(deps, frame, room_recipients(deps, req.room_id, caller))
    logs.info("deleted", messageId=req.message_id)
    return frame if caller.operator else None


def edit(deps: Deps, caller: Caller, req: protocol.EditRequest) -> dict[str, Any] | None:
    """Replace the text of one's own message within the edit window; the room gets an
    ``edited`` frame (the caller's acknowledgement). Its messageId, so its place in the
    room's order, never changes."""
    member, _, role = policy.require_reader(deps, req.room_id, caller)
    msg = located_message(deps, req.room_id, req.message_id, req.reply_to)
    policy.authorize(deps, "edit", req.room_id, caller, msg)
    if msg.deleted:
        raise NotFound("that message was deleted", room_id=req.room_id)
    now = deps.clock()
    window = deps.settings.edit_window_seconds
    if now - timestamp_ms(msg.message_id) > window * 1000:
        raise Forbidden(
            f"messages can be edited for {window} seconds after sending", room_id=req.room_id
        )
    policy.check_rate(deps, caller, req.room_id, "the message was not edited")
    text = _reviewed(deps, caller, req.room_id, member.name, req.message)
    resume.record_change(deps, req.room_id, req.message_id)
    edited = deps.history.edit(req.room_id, req.message_id, text, iso_ms(now), req.reply_to)
    if edited is None:
        raise NotFound("that message was deleted", room_id=req.room_id)
    # Whom it mentions follows the new text (a new name is a new mention).
    edited, members = mentions.attach(deps, caller, role, edited)
    broadcast(
        deps, protocol.edited_frame(edited), room_recipients(deps, req.room_id, caller, members)
    )
    logs.info("edited", messageId=req.message_id)
    return None


def typing(deps: Deps, caller: Caller, req: protocol.RoomRequest) -> None:
    """Tell the room's other members that the caller is typing. Stored nowhere."""
    member, _, _ = policy.require_reader(deps, req.room_id, caller)
    policy.check_typing_rate(deps, caller, req.room_id)
    others = others_in(deps, req.room_id, caller.connection_id)
    # Above the tier's threshold a typing frame is dropped, never posted per member.
    ephemeral(deps, protocol.typing_frame(req.room_id, member.name, caller.identity), others)


def mark_read(deps: Deps, caller: Caller, req: protocol.MessageRef) -> dict[str, Any]:
    """Record the last message the caller's user has read in the room (never moving back);
    every device of the user sees it in ``joined``."""
    policy.require_reader(deps, req.room_id, caller)
    if deps.moderation is None:
        raise Internal("read markers are not configured", room_id=req.room_id)
    msg = located_message(deps, req.room_id, req.message_id, req.reply_to)
    policy.check_budget(deps, caller, req.room_id, "markRead", "the marker was not moved")
    if req.reply_to is not None:  # a reply's room copy, found without it, marks the room
        return threads.mark_read(deps, caller, msg)
    marker = deps.moderation.mark_read(req.room_id, caller.identity, req.message_id)
    return protocol.read_frame(req.room_id, marker)
