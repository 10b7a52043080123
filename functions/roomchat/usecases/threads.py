"""Threads: replies (``sendAll`` with ``replyTo``, stored by ``messages.send``, counted here),
a thread's pages, following a thread, the threads one follows with their unread counts, and
the read marker in a thread.

A reply is a message of its thread's own partition: the room's ``history`` never has it,
unless it was sent also to the room (then the room has a copy). Its parent carries
``replyCount`` (exact: an atomic counter) and ``lastReplyAt``. Replying follows the thread
(and its parent's author), unless they unfollowed it; follow states are per user, so every
device of a user shares them and the unread counts."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..conversation_ports import ThreadsRepository
from ..errors import BadRequest, Internal, NotFound
from ..ports import Message
from . import policy
from .core import Caller, Deps


def _store(deps: Deps, room_id: str) -> ThreadsRepository:
    if deps.threads is None:
        raise Internal("threads are not configured", room_id=room_id)
    return deps.threads


def parent_of(deps: Deps, room_id: str, parent_id: str) -> Message:
    """The message a thread hangs from: a message of the room that is no reply itself."""
    parent = deps.history.get(room_id, parent_id)
    if parent is None:
        raise NotFound(f"no message {parent_id} in room {room_id!r}", room_id=room_id)
    if parent.reply_to is not None:
        raise BadRequest(
            f"that message is a reply; its thread is {parent.reply_to}'s", room_id=room_id
        )
    return parent


def on_reply(deps: Deps, caller: Caller, parent: Message, reply: Message) -> Message | None:
    """After a reply is stored: count it on its parent, and its writer (read up to their own
    reply) and the parent's author follow the thread. The parent as counted, None when it
    is gone."""
    store = _store(deps, reply.room_id)
    counted = store.count_reply(reply.room_id, parent.message_id, reply.message_id, reply.sent_at)
    store.auto_follow(caller.identity, reply.room_id, parent.message_id, reply.message_id)
    if parent.author and parent.author != caller.identity:
        store.auto_follow(parent.author, reply.room_id, parent.message_id, None)
    return counted


def thread_page(deps: Deps, caller: Caller, req: protocol.ThreadRequest) -> dict[str, Any]:
    policy.require_reader(deps, req.room_id, caller)
    policy.check_budget(deps, caller, req.room_id, "thread", "nothing was read")
    store = _store(deps, req.room_id)
    parent = parent_of(deps, req.room_id, req.message_id)
    budget = protocol.thread_budget(req.room_id, parent)
    page = deps.history.page(req.room_id, req.limit, req.before, budget, reply_to=req.message_id)
    state = store.state(caller.identity, req.room_id, req.message_id)
    unread = store.count_after(
        req.room_id, req.message_id, state.last_read, protocol.THREAD_UNREAD_CAP + 1
    )
    return protocol.thread_frame(
        req.room_id,
        parent,
        page.messages,
        page.next_cursor,
        state.following,
        state.last_read,
        unread,
    )


def follow(deps: Deps, caller: Caller, req: protocol.FollowRequest) -> dict[str, Any]:
    """Follow a thread (``remove``: stop following it) on the caller's own word."""
    policy.require_reader(deps, req.room_id, caller)
    store = _store(deps, req.room_id)
    parent_of(deps, req.room_id, req.message_id)
    policy.check_budget(deps, caller, req.room_id, "follow", "nothing was changed")
    store.follow(caller.identity, req.room_id, req.message_id, not req.remove)
    logs.info("followed" if not req.remove else "unfollowed", messageId=req.message_id)
    return protocol.following_frame(req.room_id, req.message_id, not req.remove)


def followed(deps: Deps, caller: Caller, req: protocol.ThreadsRequest) -> dict[str, Any]:
    """The threads of the room the caller follows, newest parent first, each with its
    counters and the caller's unread replies."""
    policy.require_reader(deps, req.room_id, caller)
    policy.check_budget(deps, caller, req.room_id, "threads", "nothing was read")
    store = _store(deps, req.room_id)
    states, next_cursor = store.followed(caller.identity, req.room_id, req.limit, req.before)
    entries = []
    for state in states:
        parent = deps.history.get(req.room_id, state.parent_id)
        if parent is None:
            continue  # expired with the room's retention
        unread = store.count_after(
            req.room_id, state.parent_id, state.last_read, protocol.THREAD_UNREAD_CAP + 1
        )
        entries.append(protocol.followed_entry(parent, state.last_read, unread))
    return protocol.threads_frame(req.room_id, entries, next_cursor)


def mark_read(deps: Deps, caller: Caller, reply: Message) -> dict[str, Any]:
    """Move the caller's marker in the reply's thread forward (every device of the user)."""
    assert reply.reply_to is not None
    marker = _store(deps, reply.room_id).mark_read(
        caller.identity, reply.room_id, reply.reply_to, reply.message_id
    )
    return protocol.read_frame(reply.room_id, marker, reply.reply_to)
