"""The protocol's actions, one mixin per capability over the shared connection (``Connection``):
rooms and roles, messages (the outbox, edit, delete), history, presence, typing, read markers,
moderation. ``Client`` (client.py) is all of them. A new action is one method here (or one more
mixin listed in ``Client``'s bases), its builder in protocol.py and its generated frame type.

Each action sends its frame and returns the reply (or the error frame for that action and room:
check ``reply["type"]``); ``TimeoutError`` when nothing answers in ``reply_timeout``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from roomchat_client import protocol as p
from roomchat_client.frames import Policy
from roomchat_client.outbox import Outbox
from roomchat_client.protocol import Frame


class _Actions:
    """What every feature needs of the connection (provided by ``Connection``)."""

    async def call(self, frame: Any, reply_type: str, timeout: float | None = None) -> Frame:
        raise NotImplementedError

    async def send(self, frame: Any) -> None:
        raise NotImplementedError

    async def request(self, frame: Any, match: Any, timeout: float | None = None) -> Frame:
        raise NotImplementedError

    def outbox(self, room: str, **options: Any) -> Outbox:
        raise NotImplementedError


class Rooms(_Actions):
    async def join(
        self,
        room: str,
        name: str | None = None,
        timeout: float | None = None,
        after: str | None = None,
    ) -> Frame:
        """``joined`` (with ``recent``, ``you``: your authorId), or the error frame. With
        ``after`` (resume), ``recent`` is every message after it and ``joined`` adds
        ``updated``, ``recovered`` and ``resumeNext`` (docs/protocol.md)."""
        return await self.call(p.join(room, name, after), "joined", timeout)

    async def resume(self, rooms: list[tuple[str, str | None]], name: str | None = None) -> Frame:
        """Join up to 10 rooms at once, each from its ``after``: ``resumed`` (a ``joined`` or
        ``error`` frame per room), or the error frame."""
        return await self.call(p.resume(rooms, name), "resumed")

    async def leave(self, room: str, timeout: float | None = None) -> Frame:
        return await self.call(p.leave(room), "left", timeout)

    async def create_room(self, room: str, policy: Policy = "open") -> Frame:
        """Signed in: a room you own (``roomCreated``)."""
        return await self.call(p.create_room(room, policy), "roomCreated")

    async def invite(self, room: str, user_id: str) -> Frame:
        return await self.call(p.invite(room, user_id), "role")

    async def uninvite(self, room: str, user_id: str) -> Frame:
        return await self.call(p.uninvite(room, user_id), "role")

    async def promote(self, room: str, user_id: str) -> Frame:
        return await self.call(p.promote(room, user_id), "role")

    async def demote(self, room: str, user_id: str) -> Frame:
        return await self.call(p.demote(room, user_id), "role")


class Messages(_Actions):
    _outboxes: dict[str, Outbox]

    def outbox(self, room: str, **options: Any) -> Outbox:
        """This connection's outbox for ``room`` (made on first use with ``options``)."""
        if room not in self._outboxes:
            self._outboxes[room] = Outbox(self, room, **options)  # type: ignore[arg-type]
        return self._outboxes[room]

    @property
    def outboxes(self) -> dict[str, Outbox]:
        return self._outboxes

    async def say(self, room: str, text: str) -> Frame:
        """Send a message through the room's outbox: our ``message`` frame, or the last error."""
        return await self.outbox(room).submit(text)

    async def drain(self) -> None:
        """Until every message queued in an outbox is answered (stored or failed for good)."""
        for outbox in list(self._outboxes.values()):
            await outbox.drain()

    async def edit(
        self, room: str, message_id: str, text: str, reply_to: str | None = None
    ) -> Frame:
        """Your own message (a reply: with its thread's ``reply_to``), within the edit window:
        ``edited``."""
        return await self.call(p.edit(room, message_id, text, reply_to), "edited")

    async def delete(self, room: str, message_id: str, reply_to: str | None = None) -> Frame:
        """Yours, or any as the room's owner or a moderator: ``deleted``."""
        return await self.call(p.delete(room, message_id, reply_to), "deleted")


class History(_Actions):
    async def history(
        self,
        room: str,
        limit: int | None = None,
        before: str | None = None,
        timeout: float | None = None,
        after: str | None = None,
    ) -> Frame:
        """One ``history`` page (oldest to newest, ``next``: the cursor of the older page; with
        ``after``, of the newer page, and ``updated``, ``recovered`` as in a resumed join)."""
        return await self.call(p.history(room, limit, before, after), "history", timeout)

    async def history_pages(
        self, room: str, limit: int | None = None, before: str | None = None
    ) -> AsyncIterator[Frame]:
        """History pages from the newest back, following ``next`` until there is none; an error
        frame ends the iteration after being yielded."""
        while True:
            page = await self.history(room, limit, before)
            yield page
            before = page.get("next") if isinstance(page, dict) else None
            if not before or page.get("type") != "history":
                return


class Presence(_Actions):
    async def members(self, room: str, timeout: float | None = None) -> Frame:
        """``members`` (names, and ``omitted`` past the page), or the error frame."""
        return await self.call(p.members(room), "members", timeout)

    async def ping(self, timeout: float | None = None) -> Frame:
        return await self.call(p.ping(), "pong", timeout)


class Typing(_Actions):
    async def typing(self, room: str) -> None:
        """Tell the room you are typing (no reply; the server allows 2 a second)."""
        await self.send(p.typing(room))


class Reads(_Actions):
    async def mark_read(self, room: str, message_id: str) -> Frame:
        """Move your read marker (never back): ``read``."""
        return await self.call(p.mark_read(room, message_id), "read")


class Moderation(_Actions):
    async def kick(
        self, room: str, user_id: str, ban: int | Literal["forever"] | None = None
    ) -> Frame:
        """As the room's owner or a moderator: ``kicked`` (``ban``: seconds or "forever")."""
        return await self.call(p.kick(room, user_id, ban), "kicked")

    async def disconnect_user(self, room: str, user_id: str) -> Frame:
        return await self.call(p.disconnect_user(room, user_id), "disconnected")
