"""``Session``: a ``Client`` that reconnects, for programs that stay up (bots, services).

After any close it did not ask for (the server restarted, the 10-minute idle or 2-hour limit, a
dropped network), it waits ``backoff_delay(attempt)`` (exponential, with jitter), connects again,
joins its rooms again and fills the gap: it pages ``history`` back from the oldest message of
``joined.recent`` until a message it has already passed on, and gives the listeners every
message they missed, oldest first, once. Messages it is asked to ``say`` while away wait for the
connection; one sent but never answered is looked for in the gap before it is sent again.

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
    ) -> None:
        self.url, self.name, self.token = url, name, token
        self.rooms: list[str] = list(rooms)
        self.ping_interval = ping_interval
        self.backoff, self.rng, self._connect = backoff, rng, connect
        self.client: Client | None = None
        self.connections = 0
        self.attempt = 0
        self.last_close: str | None = None
        self._listeners: list[Callable[[Frame], None]] = []
        self._seen: dict[str, str] = {}  # room -> the newest messageId passed on
        self._saying: set[str] = set()  # clientMsgIds of says not answered yet
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
        self._saying.add(client_msg_id)
        try:
            return await self._say(room, text, client_msg_id)
        finally:
            self._saying.discard(client_msg_id)
            self._stored.pop(client_msg_id, None)

    async def _say(self, room: str, text: str, client_msg_id: str) -> Frame:
        while True:
            client = await self.connected()
            if client_msg_id in self._stored:  # stored before the drop: the gap brought it
                return self._stored[client_msg_id]
            try:
                return await client.outbox(room).submit(text, client_msg_id)
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
        client.listen(self._pass_on)
        self.client = client
        self.connections += 1
        for room in self.rooms:
            joined = await client.join(room, self.name)
            if isinstance(joined, dict) and joined.get("type") == "joined":
                await self._fill_gap(client, room, joined)
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
    def _pass_on(self, frame: Frame) -> None:
        if isinstance(frame, dict) and frame.get("type") == "message":
            room, message_id = frame.get("roomId"), frame.get("messageId")
            if isinstance(room, str) and isinstance(message_id, str):
                if message_id <= self._seen.get(room, ""):
                    return  # passed on already (a gap page, or a retry's echo)
                self._seen[room] = message_id
        for listener in list(self._listeners):
            listener(frame)

    async def _fill_gap(self, client: Client, room: str, joined: dict[str, Any]) -> None:
        """Messages stored while we were away: ``recent`` and older pages back to the newest one
        already passed on, given to the listeners oldest first."""
        seen = self._seen.get(room)
        missed = list(joined.get("recent") or [])
        if seen is None:  # the first join: `recent` is history, not news
            ids = [str(m.get("messageId", "")) for m in missed]
            self._seen[room] = max(ids, default="")
            return
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
        for message in sorted(missed, key=lambda m: str(m.get("messageId", ""))):
            if message.get("clientMsgId") in self._saying:
                self._stored[str(message["clientMsgId"])] = {**message, "type": "message"}
            self._pass_on({"type": "message", **message, "roomId": room})
