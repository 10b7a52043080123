"""One WebSocket connection speaking the roomchat protocol: the shared core of the SDK.

A reader task receives every frame as it arrives: it is shown to the listeners (``listen``),
then given to the first waiter whose predicate matches (``expect``, ``request``), else kept in
``pending`` (``buffer=True``, the default) until a later ``expect`` or ``quiet`` takes it. With
``buffer=False`` (a program that reacts to every frame through listeners) unmatched frames are
dropped. ``check`` is called with every raw frame received (roomchat's own tests check each
against docs/asyncapi.yaml); what it raises fails the waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, Self

import websockets
from websockets.asyncio.client import ClientConnection

from roomchat_client.protocol import (
    Frame,
    Match,
    decode,
    describe_close,
    describe_refusal,
    is_gateway_error,
    subset,
    with_query,
)


class Refused(websockets.InvalidStatus):
    """The server refused the handshake: ``status`` (401: no token, 403: token refused, ...)
    and ``reason``, in words; still the ``websockets.InvalidStatus`` it was (``response``)."""

    def __init__(self, url: str, response: Any) -> None:
        super().__init__(response)
        self.url = url
        self.status: int = response.status_code
        self.reason = describe_refusal(self.status)

    def __str__(self) -> str:
        return f"{self.url} refused the connection with HTTP {self.status}: {self.reason}"


class Connection:
    """The reader, the waits, and sending; the feature mixins (client.py) add the actions."""

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
        self.opened_at = time.monotonic()
        self.last_sent_at = self.opened_at
        self._waiters: list[tuple[Callable[[Frame], bool], asyncio.Future[Frame]]] = []
        self._listeners: list[Callable[[Frame], None]] = []
        self._arrived = asyncio.Event()
        self._failure: BaseException | None = None
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
    ) -> Self:
        """Open a connection (``token`` and ``name`` go in the query string, as the API takes
        them); other keyword arguments go to ``websockets.connect``. A refused handshake raises
        ``Refused`` (which says what 401 and 403 mean)."""
        kwargs.setdefault("ping_interval", None)
        kwargs.setdefault("open_timeout", 10)
        full_url = with_query(url, token=token, name=name)
        try:
            ws = await websockets.connect(full_url, **kwargs)
        except websockets.InvalidStatus as exc:
            raise Refused(url, exc.response) from exc
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

    def listen(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        """Call ``listener`` with every frame received from now on (before any waiter); returns
        the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (the reader has stopped)."""
        return self._reader.done()

    async def wait_closed(self) -> None:
        """Until the connection closes (every frame received by then has been dispatched)."""
        await asyncio.wait({self._reader})

    def close_reason(self) -> str:
        """Why the connection closed, in words (1001: the server went away, unless the idle or
        2-hour limit explains it)."""
        now = time.monotonic()
        code = self.ws.close_code
        words = describe_close(code, now - self.opened_at, now - self.last_sent_at)
        reason = self.ws.close_reason or ""
        return f"{words} (code {code}{', ' + reason if reason else ''})"

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
        """Send one frame as it is (a dict is encoded as JSON)."""
        self.last_sent_at = time.monotonic()
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

    async def call(self, frame: Any, reply_type: str, timeout: float | None = None) -> Frame:
        """Send an action; its reply of ``reply_type`` for the same room, or its error frame
        (``type: error`` for that action and room, or API Gateway's own error frame)."""
        action, room = frame.get("action"), frame.get("roomId")

        def answer(reply: Frame) -> bool:
            if not isinstance(reply, dict):
                return False
            if reply.get("type") == reply_type:
                return room is None or reply.get("roomId") in (room, None)
            if reply.get("type") == "error":
                return reply.get("action") in (action, None) and reply.get("roomId") in (room, None)
            return is_gateway_error(reply)

        return await self.request(frame, answer, timeout)

    def keepalive(self, interval: float) -> asyncio.Task[None]:
        """A task that sends ``ping`` every ``interval`` seconds until cancelled or closed (the
        API closes a connection idle for 10 minutes); the ``pong`` frames are not waited for."""

        async def run() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.sleep(interval)
                    await self.send({"action": "ping"})

        return asyncio.get_running_loop().create_task(run())

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self._reader, 5)
