"""The roomchat protocol client (asyncio, on ``websockets``): one class for every Python client.

The terminal client (``chat.py``), the e2e and reliability tests and the load test use it:

    client = await Client.connect(url, token=token, name="ana")
    joined = await client.join("lobby", "ana")
    ack = await client.say("lobby", "hello")       # through the room's outbox
    async for page in client.history_pages("lobby", limit=50):
        ...
    members = await client.members("lobby")
    frame = await client.expect({"type": "presence", "roomId": "lobby"})
    await client.close()

A reader task receives every frame as it arrives: it is shown to the listeners (``listen``), then
given to the first waiter whose predicate matches (``expect``, ``request``), else kept in
``pending`` (``buffer=True``, the default) until a later ``expect`` or ``quiet`` takes it. With
``buffer=False`` (the terminal client, which prints every frame) unmatched frames are dropped.
``check`` is called with every raw frame received (the tests check each against
docs/asyncapi.yaml); what it raises fails the waits.

Sending follows issue 10's outbox rule (``Outbox``): one ``sendAll`` per room in flight, the next
once it is answered; a retryable failure sends it again with the same ``clientMsgId``.
The protocol is README.md's table and docs/asyncapi.yaml.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

Frame = Any  # a decoded JSON frame (a dict for every roomchat frame), or the raw text
Match = Callable[[Frame], bool] | dict[str, Any]

RETRYABLE = ("internal", "rate_limited")


def subset(expected: dict[str, Any]) -> Callable[[Frame], bool]:
    """A predicate: the frame is a dict holding every key/value of ``expected``."""

    def predicate(frame: Frame) -> bool:
        return isinstance(frame, dict) and all(frame.get(k) == v for k, v in expected.items())

    return predicate


def is_gateway_error(frame: Frame) -> bool:
    """API Gateway's own error frame (``{"message", "connectionId", "requestId"}``, no type)."""
    return isinstance(frame, dict) and "type" not in frame and "requestId" in frame


def with_query(url: str, **params: str | None) -> str:
    """``url`` with the given query parameters added (None: left out)."""
    given = {k: v for k, v in params.items() if v is not None}
    if not given:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(given)}"


def send_all_frame(room: str, message: str, client_msg_id: str) -> dict[str, Any]:
    """The ``sendAll`` action (the outbox's; the bench fleet sends it on its own sockets)."""
    return {"action": "sendAll", "roomId": room, "message": message, "clientMsgId": client_msg_id}


def decode(raw: str | bytes) -> Frame:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


class Client:
    """One WebSocket connection speaking the roomchat protocol."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        check: Callable[[str | bytes], None] | None = None,
        buffer: bool = True,
        reply_timeout: float = 10.0,
    ) -> None:
        self.ws = ws
        self.check = check
        self.buffer = buffer
        self.reply_timeout = reply_timeout
        self.pending: list[Frame] = []
        self._waiters: list[tuple[Callable[[Frame], bool], asyncio.Future[Frame]]] = []
        self._listeners: list[Callable[[Frame], None]] = []
        self._arrived = asyncio.Event()
        self._failure: BaseException | None = None
        self._outboxes: dict[str, Outbox] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        name: str | None = None,
        check: Callable[[str | bytes], None] | None = None,
        buffer: bool = True,
        reply_timeout: float = 10.0,
        **kwargs: Any,
    ) -> Client:
        """Open a connection (``token`` and ``name`` go in the query string, as the API takes
        them); other keyword arguments go to ``websockets.connect``. Refused handshakes raise
        ``websockets.InvalidStatus``."""
        kwargs.setdefault("ping_interval", None)
        kwargs.setdefault("open_timeout", 10)
        ws = await websockets.connect(with_query(url, token=token, name=name), **kwargs)
        return cls(ws, check=check, buffer=buffer, reply_timeout=reply_timeout)

    # ----- receiving ---------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if self.check is not None:
                    self.check(raw)
                self._dispatch(decode(raw))
        except websockets.ConnectionClosed as exc:
            self._fail(exc)
        except BaseException as exc:  # a failed check, or cancelled by close()
            self._fail(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:  # closed normally: recv() raises the ConnectionClosedOK that says how
            try:
                await self.ws.recv()
            except Exception as exc:
                self._fail(exc)

    def _dispatch(self, frame: Frame) -> None:
        for listener in list(self._listeners):
            listener(frame)
        for predicate, future in self._waiters:
            if not future.done() and predicate(frame):
                future.set_result(frame)
                return
        if self.buffer:
            self.pending.append(frame)
            self._arrived.set()

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        self._arrived.set()
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(exc)

    def listen(self, listener: Callable[[Frame], None]) -> None:
        """Call ``listener`` with every frame received from now on (before any waiter)."""
        self._listeners.append(listener)

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (the reader has stopped)."""
        return self._reader.done()

    async def wait_closed(self) -> None:
        """Until the connection closes (every frame received by then has been dispatched)."""
        await asyncio.wait({self._reader})

    def _register(self, predicate: Callable[[Frame], bool]) -> asyncio.Future[Frame]:
        """A future for the first frame that matches: a buffered one at once, else one to come."""
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        for i, frame in enumerate(self.pending):
            if predicate(frame):
                future.set_result(self.pending.pop(i))
                return future
        if self._failure is not None:
            future.set_exception(self._failure)
        else:
            self._waiters.append((predicate, future))
        return future

    async def _await(
        self, future: asyncio.Future[Frame], match: Any, timeout: float | None
    ) -> Frame:
        try:
            return await asyncio.wait_for(
                future, self.reply_timeout if timeout is None else timeout
            )
        except TimeoutError:
            raise TimeoutError(f"no frame matching {match!r}; got {self.pending!r}") from None
        finally:
            self._waiters = [(p, f) for p, f in self._waiters if f is not future]

    async def expect(self, match: Match, timeout: float | None = None) -> Frame:
        """The first frame (buffered or new) that matches; other frames stay buffered."""
        predicate = match if callable(match) else subset(match)
        return await self._await(self._register(predicate), match, timeout)

    async def next_frame(self, timeout: float | None = None) -> Frame:
        """The oldest buffered frame, or the next to arrive."""
        return await self.expect(lambda _: True, timeout)

    async def quiet(self, seconds: float = 0.5) -> list[Frame]:
        """Every buffered frame and every frame that arrives within ``seconds`` (to check that
        nothing else came); stops early when the connection closes."""
        deadline = time.monotonic() + seconds
        while self._failure is None and (remaining := deadline - time.monotonic()) > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        frames, self.pending = self.pending, []
        return frames

    # ----- sending -----------------------------------------------------------------------------
    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def request(self, frame: Any, match: Match, timeout: float | None = None) -> Frame:
        """Send ``frame``, then the first frame that matches (waiting from before the send, so an
        unbuffered client cannot miss a quick reply)."""
        predicate = match if callable(match) else subset(match)
        future = self._register(predicate)
        try:
            await self.send(frame)
        except BaseException:
            future.cancel()
            self._waiters = [(p, f) for p, f in self._waiters if f is not future]
            raise
        return await self._await(future, match, timeout)

    async def call(
        self, frame: dict[str, Any], reply_type: str, timeout: float | None = None
    ) -> Frame:
        """Send an action; its reply of ``reply_type`` for the same room, or its error frame
        (``type: error`` for that action and room, or API Gateway's own error frame)."""
        action, room = frame.get("action"), frame.get("roomId")

        def answer(reply: Frame) -> bool:
            if not isinstance(reply, dict):
                return False
            if reply.get("type") == reply_type:
                return room is None or reply.get("roomId") == room
            if reply.get("type") == "error":
                return reply.get("action") in (action, None) and reply.get("roomId") in (room, None)
            return is_gateway_error(reply)

        return await self.request(frame, answer, timeout)

    # ----- the protocol's actions --------------------------------------------------------------
    async def join(self, room: str, name: str, timeout: float | None = None) -> Frame:
        """``joined`` (with ``recent``), or the error frame."""
        return await self.call({"action": "join", "roomId": room, "name": name}, "joined", timeout)

    async def leave(self, room: str, timeout: float | None = None) -> Frame:
        return await self.call({"action": "leave", "roomId": room}, "left", timeout)

    async def members(self, room: str, timeout: float | None = None) -> Frame:
        """``members`` (names, and ``omitted`` past the page), or the error frame."""
        return await self.call({"action": "members", "roomId": room}, "members", timeout)

    async def history(
        self,
        room: str,
        limit: int | None = None,
        before: str | None = None,
        timeout: float | None = None,
    ) -> Frame:
        """One ``history`` page (oldest to newest, ``next``: the cursor of the older page)."""
        frame: dict[str, Any] = {"action": "history", "roomId": room}
        if limit is not None:
            frame["limit"] = limit
        if before is not None:
            frame["before"] = before
        return await self.call(frame, "history", timeout)

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

    async def ping(self, timeout: float | None = None) -> Frame:
        return await self.call({"action": "ping"}, "pong", timeout)

    def keepalive(self, interval: float) -> asyncio.Task[None]:
        """A task that sends ``ping`` every ``interval`` seconds until cancelled or closed (the
        API closes a connection idle for 10 minutes); the ``pong`` frames are not waited for."""

        async def run() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.sleep(interval)
                    await self.send({"action": "ping"})

        return asyncio.get_running_loop().create_task(run())

    def outbox(self, room: str, **options: Any) -> Outbox:
        """This connection's outbox for ``room`` (made on first use with ``options``)."""
        if room not in self._outboxes:
            self._outboxes[room] = Outbox(self, room, **options)
        return self._outboxes[room]

    @property
    def outboxes(self) -> dict[str, Outbox]:
        return self._outboxes

    async def say(self, room: str, text: str) -> Frame:
        """Send a message through the room's outbox: our ``message`` frame, or the last error."""
        return await self.outbox(room).submit(text)

    async def drain(self) -> None:
        """Until every message queued in an outbox is answered (stored or failed for good)."""
        await asyncio.gather(*(outbox.drain() for outbox in self._outboxes.values()))

    async def close(self) -> None:
        for outbox in self._outboxes.values():
            outbox.close()
        await self.ws.close()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self._reader, 5)


class Outbox:
    """One room's ``sendAll``s, as the project's clients send them (issue 10's outbox rule).

    One message in flight at a time: the next is sent when the previous is acknowledged (our
    ``message`` frame with its clientMsgId came back) or has failed for good (an error frame with
    that clientMsgId that is not retryable, or ``attempts`` tries). A retryable failure
    (``internal``, ``rate_limited``, API Gateway's own error frame, no answer within ``timeout``)
    sends the same message again with the same clientMsgId after a back-off; the server stores a
    clientMsgId at most once. The client does not reconnect: a closed connection fails what is
    left. web/js/client.js follows the same rule.
    """

    def __init__(
        self,
        client: Client,
        room: str,
        *,
        timeout: float = 10.0,
        attempts: int = 5,
        backoff_s: float = 0.25,
    ) -> None:
        self.client = client
        self.room = room
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sent: list[dict[str, Any]] = []  # every frame put on the wire, retries included
        self._queue: asyncio.Queue[tuple[str, str, asyncio.Future[Frame]]] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    def submit(self, text: str, client_msg_id: str | None = None) -> asyncio.Future[Frame]:
        """Queue a message at once (as typed); the future is its ack, or its last error frame
        (``code: timeout`` when no try was answered); it fails if the connection closed."""
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((text, client_msg_id or uuid.uuid4().hex, future))
        return future

    async def send(self, text: str) -> Frame:
        return await self.submit(text)

    async def drain(self) -> None:
        await self._queue.join()

    def close(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        while True:
            text, client_msg_id, future = await self._queue.get()
            try:
                result = await self._deliver(text, client_msg_id)
            except Exception as exc:  # the connection closed under us
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
            finally:
                self._queue.task_done()

    async def _deliver(self, text: str, client_msg_id: str) -> Frame:
        frame = send_all_frame(self.room, text, client_msg_id)

        def answer(reply: Frame) -> bool:
            if not isinstance(reply, dict):
                return False
            if reply.get("clientMsgId") == client_msg_id:
                return reply.get("type") in ("message", "error") and reply.get("roomId") in (
                    self.room,
                    None,
                )
            return is_gateway_error(reply)

        last: Frame = {"type": "error", "code": "timeout", "clientMsgId": client_msg_id}
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            self.sent.append(frame)
            try:
                reply = await self.client.request(frame, answer, self.timeout)
            except TimeoutError:
                continue  # no answer: the same clientMsgId again
            if reply.get("type") == "message":
                return reply
            last = reply
            if "type" in reply and reply.get("code") not in RETRYABLE:
                return reply  # failed for good: the next message goes
        return last
