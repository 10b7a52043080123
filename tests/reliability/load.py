"""A load run against a live stack: many clients in many rooms, each sending messages one after
another, and an account of every delivery (tests/reliability/test_load.py).

Each client joins one room (client k is in room k % rooms) and, once every client has joined,
sends its messages one at a time: the next one after its previous one's echo (its own copy of the
fanned-out frame) arrives, and never faster than ``min_interval`` (the per-connection rate limit
is 10 a second). What every client receives is recorded in arrival order and checked by
``account`` against what was sent and against the history table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import websockets

from roomchat_client import Client

SHAPE_RE = re.compile(r"^(\d+)x(\d+)x(\d+)$")


@dataclass(frozen=True)
class Shape:
    clients: int
    rooms: int
    messages: int  # per client

    @classmethod
    def parse(cls, text: str) -> Shape:
        """``CLIENTSxROOMSxMESSAGES``, e.g. ``200x20x20``."""
        match = SHAPE_RE.match(text.strip())
        if not match:
            raise ValueError(f"expected CLIENTSxROOMSxMESSAGES such as 200x20x20, got {text!r}")
        shape = cls(*(int(g) for g in match.groups()))
        if not (1 <= shape.rooms <= shape.clients and shape.messages >= 1):
            raise ValueError(f"need 1 <= rooms <= clients and messages >= 1: {text!r}")
        return shape


@dataclass
class LoadClient:
    """One member of the run, on the project's protocol client (unbuffered: a listener records
    every frame as it arrives)."""

    name: str
    room: str
    client: Client | None = None
    received: list[dict] = field(default_factory=list)  # message frames, in arrival order
    errors: list[dict] = field(default_factory=list)
    echoes: list[dict] = field(default_factory=list)  # own messages, in sending order
    rate_limited: int = 0
    echo_timeouts: int = 0
    last_sent: float = 0.0

    async def connect(self, url: str) -> None:
        self.client = await Client.connect(url, open_timeout=120, buffer=False)
        self.client.listen(self._on_frame)

    def _on_frame(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            return
        if frame.get("type") == "message":
            self.received.append(frame)
        elif frame.get("type") == "error":
            if frame.get("code") == "rate_limited":
                self.rate_limited += 1  # refused, so neither stored nor sent: the outbox retries
            else:
                self.errors.append(frame)

    async def join(self, timeout: float) -> None:
        assert self.client is not None
        self.last_sent = time.monotonic()
        reply = await self.client.join(self.room, self.name, timeout)
        if reply.get("type") != "joined":
            raise AssertionError(f"{self.name} could not join {self.room}: {reply}")

    async def send_all(self, messages: int, min_interval: float, timeout: float) -> None:
        """One message at a time through the room's outbox (clientMsgId ``<name>.<i>``)."""
        assert self.client is not None
        outbox = self.client.outbox(self.room, timeout=timeout, attempts=8, backoff_s=1.0)
        for i in range(messages):
            key = f"{self.name}.{i}"
            wait = self.last_sent + min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.last_sent = time.monotonic()
            reply = await outbox.submit(key, client_msg_id=key)
            if reply.get("type") == "message":
                self.echoes.append(reply)
            elif reply.get("code") == "timeout":
                self.echo_timeouts += 1

    async def keepalive(self, idle: float) -> None:
        """A ping whenever the client has sent nothing for ``idle`` seconds (idle timeout)."""
        assert self.client is not None
        while True:
            await asyncio.sleep(idle / 2)
            if time.monotonic() - self.last_sent >= idle:
                self.last_sent = time.monotonic()
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self.client.send({"action": "ping"})


@dataclass
class Figures:
    clients: int
    rooms: int
    messages: int  # sent (echoed) in all
    expected_deliveries: int
    deliveries: int  # message frames received in all, duplicates included
    lost: int
    duplicated: int
    out_of_order_arrival: int  # (receiver, sender) pairs not in the sender's order
    out_of_order_id: int  # the same, ordering by messageId
    crossed_rooms: int
    rate_limited: int
    errors: int
    echo_timeouts: int
    history_missing: int
    history_extra: int
    join_s: float = 0.0
    send_s: float = 0.0  # first send to last delivery
    duration_s: float = 0.0  # connect to last delivery
    messages_per_s: float = 0.0
    deliveries_per_s: float = 0.0

    def summary(self) -> str:
        return json.dumps(asdict(self))


@dataclass
class LoadRun:
    url: str
    shape: Shape
    min_interval: float = 0.15
    idle_timeout: float = 10.0
    deadline_s: float = 600.0
    prefix: str = field(default_factory=lambda: f"load-{uuid.uuid4().hex[:6]}")
    clients: list[LoadClient] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def room(self, r: int) -> str:
        return f"{self.prefix}-{r:03d}"

    async def run(self) -> None:
        shape = self.shape
        self.clients = [
            LoadClient(f"{self.prefix}-c{k:04d}", self.room(k % shape.rooms))
            for k in range(shape.clients)
        ]
        started = time.monotonic()
        tasks: list[asyncio.Task] = []
        try:
            await asyncio.gather(*(c.connect(self.url) for c in self.clients))
            for c in self.clients:
                tasks.append(asyncio.create_task(c.keepalive(self.idle_timeout * 0.4)))
            await asyncio.gather(*(c.join(timeout=120) for c in self.clients))
            joined = time.monotonic()
            # Every client is a member before anyone sends, so every fan-out reaches everyone.
            await asyncio.gather(
                *(c.send_all(shape.messages, self.min_interval, timeout=120) for c in self.clients)
            )
            await self._until_delivered(started + self.deadline_s)
            finished = time.monotonic()
            await asyncio.sleep(1.0)  # a duplicate would arrive about now
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(
                *(c.client.close() for c in self.clients if c.client is not None),
                return_exceptions=True,
            )
        self.timings = {
            "join_s": joined - started,
            "send_s": finished - joined,
            "duration_s": finished - started,
        }

    async def _until_delivered(self, deadline: float) -> None:
        """Until every client has as many messages as its room was sent, or the deadline."""
        size = Counter(c.room for c in self.clients)
        while time.monotonic() < deadline:
            if all(len(c.received) >= size[c.room] * self.shape.messages for c in self.clients):
                return
            await asyncio.sleep(0.1)

    def account(self, history: dict[str, list[dict[str, str]]]) -> Figures:
        """Figures of the run; ``history`` maps each room to its history partition's items."""
        shape = self.shape
        rooms = {c.room for c in self.clients}
        senders_by_room: dict[str, list[LoadClient]] = defaultdict(list)
        for c in self.clients:
            senders_by_room[c.room].append(c)
        sent_ids = {
            room: {e["messageId"] for s in senders_by_room[room] for e in s.echoes}
            for room in rooms
        }
        lost = duplicated = crossed = bad_arrival = bad_id = 0
        deliveries = 0
        for c in self.clients:
            deliveries += len(c.received)
            ids = [f["messageId"] for f in c.received]
            duplicated += len(ids) - len(set(ids))
            crossed += sum(1 for f in c.received if f.get("roomId") != c.room)
            # every message of the room: every sender's every message, by all of them
            expected = len(senders_by_room[c.room]) * shape.messages
            lost += expected - len(set(ids) & sent_ids[c.room])
            first_seen: dict[str, dict] = {}
            for f in c.received:
                first_seen.setdefault(f["messageId"], f)
            by_sender: dict[str, list[dict]] = defaultdict(list)
            for f in first_seen.values():
                by_sender[f["sender"]].append(f)
            for frames in by_sender.values():
                order = [int(f["clientMsgId"].rsplit(".", 1)[1]) for f in frames]
                if order != sorted(order):
                    bad_arrival += 1
                by_id = sorted(frames, key=lambda f: f["messageId"])
                if [f["clientMsgId"] for f in by_id] != [f["clientMsgId"] for f in frames]:
                    bad_id += 1
        missing = extra = 0
        for room in rooms:
            stored = {i["messageId"]: i for i in history.get(room, [])}
            echoes = {e["messageId"]: e for s in senders_by_room[room] for e in s.echoes}
            missing += len(set(echoes) - set(stored))
            extra += len(set(stored) - set(echoes))
            for message_id, echo in echoes.items():
                item = stored.get(message_id)
                if item and (item["sender"], item["message"]) != (echo["sender"], echo["message"]):
                    missing += 1
        messages = sum(len(c.echoes) for c in self.clients)
        expected_deliveries = sum(
            len(senders_by_room[c.room]) * shape.messages for c in self.clients
        )
        send_s = self.timings.get("send_s", 0.0) or 1e-9
        return Figures(
            clients=len(self.clients),
            rooms=len(rooms),
            messages=messages,
            expected_deliveries=expected_deliveries,
            deliveries=deliveries,
            lost=lost,
            duplicated=duplicated,
            out_of_order_arrival=bad_arrival,
            out_of_order_id=bad_id,
            crossed_rooms=crossed,
            rate_limited=sum(c.rate_limited for c in self.clients),
            errors=sum(len(c.errors) for c in self.clients),
            echo_timeouts=sum(c.echo_timeouts for c in self.clients),
            history_missing=missing,
            history_extra=extra,
            join_s=round(self.timings.get("join_s", 0.0), 2),
            send_s=round(self.timings.get("send_s", 0.0), 2),
            duration_s=round(self.timings.get("duration_s", 0.0), 2),
            messages_per_s=round(messages / send_s, 1),
            deliveries_per_s=round(deliveries / send_s, 1),
        )
