"""The clients: up to 1,000 WebSocket connections in the bench's process, each timestamping the
marked frames it receives, and the loop that times one broadcast after another.

The fleet holds bare aiohttp sockets, not the Python SDK's client (clients/python:
roomchat_client), by measurement: `python -m roomchat_tools.bench.transport` (1,000
clients, one broadcast server) put the last receipt of a broadcast at 1.5x the aiohttp fleet's
median time with the protocol client (decoding every frame, on websockets), time that would be
counted as fan-out latency. Two of the three servers it measures (the bare broadcast server, the
AWS sample) do not speak roomchat's protocol either. Its roomchat frames and URLs come from the
SDK's protocol module (``roomchat_client.protocol``: ``send_all``, ``with_query``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .plan import Series, parse_token


@dataclass
class Pending:
    expected: int
    times: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Tracker:
    """Which broadcast (by token) reached how many clients, and when."""

    def __init__(self) -> None:
        self.pending: dict[int, Pending] = {}
        self._seq = 0

    def next(self, expected: int) -> tuple[int, Pending]:
        self._seq += 1
        pending = Pending(expected)
        self.pending[self._seq] = pending
        return self._seq, pending

    def on_frame(self, text: str, at: float) -> None:
        seq = parse_token(text)
        if seq is None:
            return
        pending = self.pending.get(seq)
        if pending is None:
            return
        pending.times.append(at)
        if len(pending.times) == pending.expected:
            pending.done.set()


@dataclass
class Client:
    index: int
    name: str
    ws: Any
    reader: asyncio.Task[None] | None = None
    connection_id: str | None = None
    last_sent: float = 0.0


class Fleet:
    """WebSocket clients of one API (aiohttp, one session), connected in batches."""

    def __init__(self, session: Any, tracker: Tracker, label: str) -> None:
        self.session = session
        self.tracker = tracker
        self.label = label
        self.clients: list[Client] = []
        self.closed_early = 0

    async def grow(
        self, total: int, url_for: Callable[[int], str], name_for: Callable[[int], str]
    ) -> float:
        """Connect clients until there are ``total``; returns the seconds it took."""
        started = time.perf_counter()
        limit = asyncio.Semaphore(25)

        async def connect(index: int) -> Client:
            async with limit:
                ws = await self.session.ws_connect(
                    url_for(index), autoping=True, heartbeat=None, compress=0, max_msg_size=0
                )
            client = Client(index, name_for(index), ws)
            client.reader = asyncio.create_task(self._read(client))
            return client

        new = await asyncio.gather(*(connect(i) for i in range(len(self.clients), total)))
        self.clients.extend(new)
        return time.perf_counter() - started

    async def _read(self, client: Client) -> None:
        from aiohttp import WSMsgType

        on_frame, clock = self.tracker.on_frame, time.perf_counter
        async for message in client.ws:
            if message.type == WSMsgType.TEXT:
                on_frame(message.data, clock())
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
        self.closed_early += 1

    async def close(self) -> None:
        clients, self.clients = self.clients, []
        for client in clients:
            if client.reader is not None:
                client.reader.cancel()

        async def close_one(client: Client) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.ws.close(), 5)

        for start in range(0, len(clients), 100):
            await asyncio.gather(*(close_one(c) for c in clients[start : start + 100]))


async def pace(client: Client, min_interval_s: float = 0.15) -> None:
    """Each connection may send 10 messages a second (RATE_LIMIT_PER_SECOND): stay well under."""
    wait = client.last_sent + min_interval_s - time.perf_counter()
    if wait > 0:
        await asyncio.sleep(wait)
    client.last_sent = time.perf_counter()


async def broadcast_series(
    series: Series,
    tracker: Tracker,
    trigger: Callable[[int], Awaitable[Any]],
    *,
    iterations: int,
    warmup: int,
    timeout_s: float,
    settle_s: float = 0.05,
    after: Callable[[Any], Awaitable[None]] | None = None,
) -> Series:
    """Trigger one broadcast at a time and time it from the trigger to the last receiver."""
    for round_no in range(warmup + iterations):
        seq, pending = tracker.next(series.expected)
        started = time.perf_counter()
        handle = await trigger(seq)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pending.done.wait(), timeout_s)
        if after is not None:
            await after(handle)
        await asyncio.sleep(settle_s)  # late or stray frames still count as extra
        tracker.pending.pop(seq, None)
        if round_no < warmup:
            continue
        got = sorted(pending.times)
        series.received += min(len(got), series.expected)
        series.missing += max(0, series.expected - len(got))
        series.extra += max(0, len(got) - series.expected)
        if len(got) >= series.expected:
            series.last_s.append(got[series.expected - 1] - started)
            series.median_s.append(got[(series.expected - 1) // 2] - started)
    return series
