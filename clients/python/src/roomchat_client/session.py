"""``Session``: a ``Client`` that reconnects, for programs that stay up (bots, services).

After any close it did not ask for (the server restarted, the 10-minute idle or 2-hour limit, a
dropped network), it waits ``backoff_delay(attempt)`` (exponential, with jitter), connects again
and resumes each room: ``join`` with ``after`` (the newest message it passed on, or older while
one of its says is unanswered) replays what came after it, ``history`` with ``after`` pages on
from ``resumeNext`` to the present, and the listeners get every message they missed, oldest
first, once, then an ``edited`` or ``deleted`` frame for each older message changed meanwhile.
A server without resume is paged back from ``joined.recent`` instead. Messages it is asked to
``say`` while away wait for the connection; one sent but never answered is looked for in the
replay before it is sent again.

    async with Session(url, name="bot", rooms=["lobby"]) as session:
        session.listen(lambda frame: print(frame))
        await session.say("lobby", "hello")
        await session.run()            # until close() (or Ctrl-C)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from types import TracebackType
from typing import Any

import websockets

from roomchat_client.client import Client
from roomchat_client.connection import Refused
from roomchat_client.protocol import Frame, backoff_delay, new_client_msg_id

PING_INTERVAL_S = 240.0  # the API closes connections idle for 10 minutes
MAX_GAP_PAGES = 100
PASSED_KEPT = 1000  # messageIds remembered per room to drop repeats (older ones: by the floor)


class Session:
    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        token: str | None = None,
        rooms: list[str] | tuple[str, ...] = (),
        ping_interval: float = PING_INTERVAL_S,
        backoff: tuple[float, float] = (0.5, 30.0),
        rng: Callable[[], float] = random.random,
        connect: Callable[..., Any] = Client.connect,
        fresh_token: Callable[[], str | None] | None = None,
    ) -> None:
        self.url, self.name, self.token = url, name, token
        # Called when the server answers `token_expired` (the token passed its `exp`): the
        # session reconnects with what it returns; without it (or given None) it stops.
        self.fresh_token = fresh_token
        self.token_expired = False  # True once stopped for want of a fresh token
        self.rooms: list[str] = list(rooms)
        self.ping_interval = ping_interval
        self.backoff, self.rng, self._connect = backoff, rng, connect
        self.client: Client | None = None
        self.connections = 0
        self.attempt = 0
        self.last_close: str | None = None
        self._listeners: list[Callable[[Frame], None]] = []
        self._seen: dict[str, str] = {}  # room -> the newest messageId passed on
        # room -> the messageIds passed on lately (live delivery is not in messageId order), and
        # the floor at or below which every one counts as passed on (the ids pruned from it).
        self._passed: dict[str, set[str]] = {}
        self._floor: dict[str, str] = {}
        # room -> its live frames held while its resume is read, passed on after the replay
        self._holding: dict[str, list[Frame]] = {}
        # clientMsgIds of says not answered yet -> (room, the newest messageId passed on when
        # sent): a resume starts no later than that, so a say stored unseen is found.
        self._saying: dict[str, tuple[str, str | None]] = {}
        self._stored: dict[str, Frame] = {}  # of those, the ones the gap fill found stored
        self._connected = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Session:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def listen(self, listener: Callable[[Frame], None]) -> None:
        """``listener`` gets every frame, on every connection; missed messages once, in order."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Connect (a refused token raises ``Refused`` at once: retrying cannot help), then keep
        the connection up in the background."""
        await self._open()
        self._task = asyncio.get_running_loop().create_task(self._keep_up())

    async def run(self) -> None:
        """Until ``close()``."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.client is not None:
            await self.client.close()

    async def connected(self) -> Client:
        """The current client, once connected and joined."""
        await self._connected.wait()
        assert self.client is not None
        return self.client

    async def join(self, room: str) -> Frame:
        if room not in self.rooms:
            self.rooms.append(room)
        return await (await self.connected()).join(room, self.name)

    async def say(self, room: str, text: str) -> Frame:
        """Send through the room's outbox; after a drop, again on the next connection with the
        same clientMsgId unless the gap shows it was stored."""
        client_msg_id = new_client_msg_id()
        self._saying[client_msg_id] = (room, self._seen.get(room))
        try:
            return await self._say(room, text, client_msg_id)
        finally:
            self._saying.pop(client_msg_id, None)
            self._stored.pop(client_msg_id, None)

    async def _say(self, room: str, text: str, client_msg_id: str) -> Frame:
        while True:
            client = await self.connected()
            if client_msg_id in self._stored:  # stored before the drop: the gap brought it
                return self._stored[client_msg_id]
            try:
                reply = await client.outbox(room).submit(text, client_msg_id)
                if not (_expired(reply) and self.fresh_token is not None):
                    return reply
                # Refused for the token, not stored: again on the renewed connection.
                while self.client is client and not self._closing:
                    await asyncio.sleep(0.05)
            except websockets.ConnectionClosed:
                # A clientMsgId is idempotent per connection only: on the next one, the gap
                # fill says whether it was stored before it is sent again.
                while self.client is client and not self._closing:
                    await asyncio.sleep(0.05)

    # ----- the connection ----------------------------------------------------------------------
    async def _open(self) -> None:
        client: Client = await self._connect(
            self.url, token=self.token, name=self.name, buffer=False
        )
        self._holding = {room: [] for room in self.rooms if room in self._seen}
        client.listen(self._on_frame)
        self.client = client
        self.connections += 1
        try:
            for room in self.rooms:
                joined = await client.join(room, self.name, after=self._resume_point(room))
                if isinstance(joined, dict) and joined.get("type") == "joined":
                    await self._fill_gap(client, room, joined, rejoin=room in self._holding)
                self._release(room)
        finally:
            for room in list(self._holding):
                self._release(room)
        self.attempt = 0
        self._connected.set()

    async def _keep_up(self) -> None:
        while not self._closing:
            client = self.client
            assert client is not None
            keepalive = client.keepalive(self.ping_interval)
            await client.wait_closed()
            keepalive.cancel()
            self._connected.clear()
            self.last_close = client.close_reason()
            while not self._closing:
                await asyncio.sleep(self._delay())
                try:
                    await self._open()
                    break
                except Refused:
                    raise  # the token is no good any more: nothing to retry
                except (OSError, TimeoutError, websockets.WebSocketException):
                    continue

    def _delay(self) -> float:
        base, cap = self.backoff
        delay = backoff_delay(self.attempt, base, cap, self.rng)
        self.attempt += 1
        return delay

    # ----- frames ------------------------------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        if _expired(frame):
            self._renew()
        room = frame.get("roomId") if isinstance(frame, dict) else None
        if room in self._holding and frame.get("type") in ("message", "edited", "deleted"):
            self._holding[room].append(frame)  # after the replay, so listeners get it in order
            return
        self._pass_on(frame)

    def _renew(self) -> None:
        """The connection's token has expired (every action is refused): take a fresh token
        and close the connection, so ``_keep_up`` reconnects with it; without one, stop."""
        client = self.client
        if client is None or self._closing:
            return
        token = self.fresh_token() if self.fresh_token is not None else None
        if token:
            self.token = token
        else:
            self.token_expired = True
            self._closing = True
        asyncio.get_running_loop().create_task(client.close())

    def _release(self, room: str) -> None:
        for frame in self._holding.pop(room, []):
            self._pass_on(frame)

    def _pass_on(self, frame: Frame) -> None:
        if isinstance(frame, dict) and frame.get("type") == "message":
            room, message_id = frame.get("roomId"), frame.get("messageId")
            if isinstance(room, str) and isinstance(message_id, str):
                passed = self._passed.setdefault(room, set())
                if message_id in passed or message_id <= self._floor.get(room, ""):
                    return  # passed on already (a replay, a gap page, or a retry's echo)
                passed.add(message_id)
                if len(passed) > PASSED_KEPT * 2:
                    kept = sorted(passed)
                    self._floor[room] = kept[-PASSED_KEPT - 1]
                    self._passed[room] = set(kept[-PASSED_KEPT:])
                self._seen[room] = max(message_id, self._seen.get(room, ""))
        for listener in list(self._listeners):
            listener(frame)

    def _resume_point(self, room: str) -> str | None:
        """The ``after`` of a re-join: the newest message passed on, or older while a say sent
        before it is unanswered (it may be stored without our knowing). None the first time."""
        seen = self._seen.get(room)
        if seen is None:
            return None
        for say_room, then in self._saying.values():
            if say_room == room:
                if then is None:
                    return None  # sent before anything was seen: the room from its start
                seen = min(seen, then)
        return seen or None

    async def _fill_gap(
        self, client: Client, room: str, joined: dict[str, Any], rejoin: bool
    ) -> None:
        """Messages stored while we were away, given to the listeners oldest first, then the
        older ones changed meanwhile: a resume's replay and its continuation pages, or (a server
        without resume) ``recent`` and older pages back to the newest one already passed on."""
        seen = self._seen.get(room)
        missed = list(joined.get("recent") or [])
        if not rejoin or seen is None:  # the first join: `recent` is history, not news
            ids = [str(m.get("messageId", "")) for m in missed]
            self._seen[room] = max([*ids, self._seen.get(room, "")])
            self._floor[room] = max(ids, default="")  # not news, never passed on later
            return
        updated = list(joined.get("updated") or [])
        if joined.get("recovered") is True:
            missed, more = await self._replay_rest(client, room, joined.get("resumeNext"))
            missed = list(joined.get("recent") or []) + missed
            updated += more
        elif joined.get("recovered") is None:
            missed = await self._page_back(client, room, seen, joined)
        # recovered False: `after` is past retention; `recent` is the newest page, the rest is gone
        for message in sorted(missed, key=lambda m: str(m.get("messageId", ""))):
            if message.get("clientMsgId") in self._saying:
                self._stored[str(message["clientMsgId"])] = {**message, "type": "message"}
            self._pass_on({"type": "message", **message, "roomId": room})
        for message in updated:
            self._pass_on(_change_frame(room, message))

    async def _replay_rest(
        self, client: Client, room: str, after: object
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A resume's continuation: ``history`` with ``after`` until ``next`` is null."""
        missed: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        pages = 0
        while isinstance(after, str) and pages < MAX_GAP_PAGES:
            page = await client.history(room, 100, after=after)
            if page.get("type") != "history" or page.get("recovered") is False:
                break
            missed += list(page.get("messages") or [])
            updated += list(page.get("updated") or [])
            after, pages = page.get("next"), pages + 1
        return missed, updated

    async def _page_back(
        self, client: Client, room: str, seen: str, joined: dict[str, Any]
    ) -> list[dict[str, Any]]:
        missed = list(joined.get("recent") or [])
        before = joined.get("next")
        pages = 0
        while before and pages < MAX_GAP_PAGES:
            if any(m.get("messageId", "") <= seen for m in missed):
                break
            page = await client.history(room, 100, before)
            if page.get("type") != "history":
                break
            missed = list(page.get("messages") or []) + missed
            before, pages = page.get("next"), pages + 1
        return missed


def _expired(frame: Frame) -> bool:
    return (
        isinstance(frame, dict)
        and frame.get("type") == "error"
        and (frame.get("code") == "token_expired")
    )


def _change_frame(room: str, message: dict[str, Any]) -> Frame:
    """A resume's ``updated`` entry as the live frame that would have told of it."""
    if message.get("deletedAt"):
        return {
            "type": "deleted",
            "roomId": room,
            "messageId": message.get("messageId"),
            "deletedBy": message.get("deletedBy"),
            "deletedAt": message.get("deletedAt"),
        }
    return {
        "type": "edited",
        "roomId": room,
        "messageId": message.get("messageId"),
        "message": message.get("message"),
        "editedAt": message.get("editedAt"),
    }
