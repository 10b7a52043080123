"""Conversations: replies and threads, reactions, mentions and pins, one mixin each over the
shared connection (as features.py's), all in ``Client``.

    ack = await client.reply("lobby", parent_id, "me too")          # the room's outbox
    page = await client.thread("lobby", parent_id)                   # replies, newest page
    await client.react("lobby", message_id, "👍")
    mine = await client.mentions()                                   # across rooms
    await client.pin("team", message_id)                             # owner, moderators

A reply is a ``message`` frame with ``replyTo``; it is never in the room's ``history`` unless
sent ``also_to_room``. Acting on a reply (edit, delete, react, pin, mark read) names its thread
with ``reply_to``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from roomchat_client import protocol as p
from roomchat_client.features import _Actions
from roomchat_client.frames import Emoji
from roomchat_client.protocol import Frame


class Threads(_Actions):
    async def reply(
        self, room: str, parent_id: str, text: str, also_to_room: bool = False
    ) -> Frame:
        """Reply in ``parent_id``'s thread through the room's outbox: our ``message`` frame
        (``replyTo``, and ``thread``: the parent's counters now), or the last error."""
        return await self.outbox(room).submit(text, reply_to=parent_id, also_to_room=also_to_room)

    async def thread(
        self, room: str, parent_id: str, limit: int | None = None, before: str | None = None
    ) -> Frame:
        """One ``thread`` page: the parent, replies oldest first, ``next`` for older ones, and
        our state in it (``following``, ``lastRead``, ``unread``)."""
        return await self.call(p.thread(room, parent_id, limit, before), "thread")

    async def thread_pages(
        self, room: str, parent_id: str, limit: int | None = None
    ) -> AsyncIterator[Frame]:
        """Thread pages from the newest back, following ``next``; an error frame ends it."""
        before: str | None = None
        while True:
            page = await self.thread(room, parent_id, limit, before)
            yield page
            before = page.get("next") if isinstance(page, dict) else None
            if not before or page.get("type") != "thread":
                return

    async def follow(self, room: str, parent_id: str, following: bool = True) -> Frame:
        """Follow (or, ``following=False``, unfollow) a thread: ``following``."""
        return await self.call(p.follow(room, parent_id, remove=not following), "following")

    async def threads(
        self, room: str, limit: int | None = None, before: str | None = None
    ) -> Frame:
        """The threads of the room we follow, with our unread replies: ``threads``."""
        return await self.call(p.threads(room, limit, before), "threads")

    async def mark_thread_read(self, room: str, parent_id: str, reply_id: str) -> Frame:
        """Move our marker in the thread (every device of ours sees it): ``read``."""
        return await self.call(p.mark_read(room, reply_id, parent_id), "read")


class Reactions(_Actions):
    async def react(
        self,
        room: str,
        message_id: str,
        emoji: Emoji,
        remove: bool = False,
        reply_to: str | None = None,
    ) -> Frame:
        """Add (or take back) a reaction: the ``reaction`` frame with the message's summary
        (``version`` 0 when it was already so), or the error frame."""
        frame = p.react(room, message_id, emoji, remove, reply_to)

        def answer(reply: Frame) -> bool:
            if not isinstance(reply, dict):
                return False
            if reply.get("type") == "reaction":
                return reply.get("messageId") == message_id and reply.get("emoji") == emoji
            if reply.get("type") == "error":
                return reply.get("action") in ("react", None) and reply.get("roomId") in (
                    room,
                    None,
                )
            return p.is_gateway_error(reply)

        return await self.request(frame, answer)


class Mentions(_Actions):
    async def mentions(self, limit: int | None = None, before: str | None = None) -> Frame:
        """The messages that mention us, newest first, in every room we may read."""
        return await self.call(p.mentions(limit, before), "mentions")


class Pins(_Actions):
    async def pin(
        self, room: str, message_id: str, pinned: bool = True, reply_to: str | None = None
    ) -> Frame:
        """As the room's owner or a moderator: pin (``pinned=False``: unpin). The ``pinned``
        frame; ``joined.pins`` lists the room's pins."""
        return await self.call(p.pin(room, message_id, not pinned, reply_to), "pinned")
