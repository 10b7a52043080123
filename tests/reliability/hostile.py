"""A hostile-client soak against a live stack (tests/reliability/test_hostile_soak.py, `make soak`).

Honest clients sit in small rooms and keep talking (each message through the SDK's outbox, which
sends a message refused by a throttle again with its ``clientMsgId``); a big room holds members
that are rows written straight into the rooms table (no socket: a post to one is answered 410 and
pruned, as on AWS, so the rows are written again before each phase). One attacker then floods one
action at a time with the gateway's limits on. Per phase the report gives the honest clients' p99
send -> delivered and messages lost, what the attacker got (replies by kind, refused handshakes by
status), and what the phase cost: @connections posts, invocations, throttled requests (from the
gateway's ``/_devstack/usage``), and read units estimated from the invocations of the reading
functions (the capacity model's costs: a strongly consistent read of a room is 1 RCU per 4 KB of
its memberships; moto does not meter capacity).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

from roomchat_client import Client

THROTTLED = "Too Many Requests"


@dataclass(frozen=True)
class SoakShape:
    honest_rooms: int
    clients_per_room: int
    big_room_members: int  # rows written to the rooms table
    messages_per_phase: int  # per honest client
    flood: int  # frames (or connects, or join/leave loops) per attack
    attacks: tuple[str, ...]


SMALL = SoakShape(
    honest_rooms=2,
    clients_per_room=3,
    big_room_members=30,
    messages_per_phase=2,
    flood=40,
    attacks=("typing", "connect storm", "oversize URL"),
)
FULL = SoakShape(
    honest_rooms=20,
    clients_per_room=10,
    big_room_members=2_000,
    messages_per_phase=5,
    flood=600,
    attacks=(
        "sendAll",
        "typing",
        "join/leave",
        "history",
        "members",
        "connect storm",
        "oversize URL",
    ),
)


@dataclass
class Honest:
    name: str
    room: str
    client: Client | None = None
    arrivals: dict[str, float] = field(default_factory=dict)  # clientMsgId -> first arrival
    sent_at: dict[str, float] = field(default_factory=dict)
    echoed: set[str] = field(default_factory=set)

    def on_frame(self, frame: Any) -> None:
        if isinstance(frame, dict) and frame.get("type") == "message":
            key = frame.get("clientMsgId")
            if key and frame.get("roomId") == self.room:
                self.arrivals.setdefault(key, time.monotonic())


@dataclass
class PhaseReport:
    attack: str
    honest_sent: int
    honest_lost: int
    honest_p99_ms: float
    attacker: dict[str, int]
    posts: int
    invocations: int
    throttled: int
    rcu_estimate: float
    seconds: float

    def line(self) -> str:
        return json.dumps(self.__dict__)


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


class Soak:
    def __init__(self, stack: Any, shape: SoakShape) -> None:
        self.stack = stack
        self.shape = shape
        self.url = stack.url
        self.http_url = stack.info["http_url"]
        self.prefix = f"soak-{uuid.uuid4().hex[:6]}"
        self.big_room = f"{self.prefix}-big"
        self.honest: list[Honest] = []
        self.db = stack.client("dynamodb")
        self.rooms_table = stack.info["rooms_table"]
        self.template: dict[str, Any] | None = None
        self._keepalive: list[asyncio.Task[None]] = []

    # ----- the gateway's counters ----------------------------------------------------------
    def usage(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.http_url}/_devstack/usage", timeout=10) as reply:
            return json.loads(reply.read())

    def _cost(self, before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int, int, float]:
        def fn_total(usage: dict[str, Any], suffix: str = "") -> int:
            return sum(n for name, n in usage["invocations"].items() if name.endswith(suffix))

        def refused(usage: dict[str, Any]) -> int:
            return sum(b["refused"] for b in usage["throttle"].values())

        posts = after["posts"] - before["posts"]
        invocations = fn_total(after) - fn_total(before)
        throttled = refused(after) - refused(before)
        room_rcu = max(1, math.ceil(self.shape.big_room_members * 200 / 4096))
        # functions that read the whole room (strongly consistent) per call, and history's page
        readers = {
            "-send_all": room_rcu,
            "-typing": room_rcu,
            "-join": room_rcu + 13,
            "-leave": room_rcu,
            "-members": room_rcu,
            "-history": 13,
        }
        rcu = sum(
            (fn_total(after, s) - fn_total(before, s)) * units for s, units in readers.items()
        )
        return posts, invocations, throttled, float(rcu)

    # ----- the big room: rows, no sockets ---------------------------------------------------
    def fill_big_room(self) -> None:
        """Write the big room's member rows again (posts to them were answered 410 and pruned)."""
        assert self.template is not None
        template = self.template
        cid = template["connectionId"]["S"]
        name = template["name"]["S"]
        requests = []
        for n in range(self.shape.big_room_members):
            fake_cid = f"SoakRow{n:08d}="
            item = {}
            for key, value in template.items():
                if "S" in value:
                    text = value["S"].replace(cid, fake_cid).replace(name, f"row{n}")
                    item[key] = {"S": text}
                else:
                    item[key] = value
            requests.append({"PutRequest": {"Item": item}})
        for i in range(0, len(requests), 25):
            batch = {self.rooms_table: requests[i : i + 25]}
            while batch:
                batch = self.db.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    # ----- set-up and tear-down ---------------------------------------------------------------
    async def start(self) -> None:
        shape = self.shape
        self.honest = [
            Honest(f"{self.prefix}-h{r}-{k}", f"{self.prefix}-r{r:02d}")
            for r in range(shape.honest_rooms)
            for k in range(shape.clients_per_room)
        ]
        for h in self.honest:
            h.client = await Client.connect(self.url, open_timeout=60, buffer=False)
            h.client.listen(h.on_frame)
            reply = await h.client.join(h.room, h.name, 60)
            assert reply.get("type") == "joined", reply
            self._keepalive.append(h.client.keepalive(3.0))
        # warm: the functions' first invocations (cold starts) are no baseline
        await self._honest_traffic("warmup")
        # the big room's template row: one real membership, copied
        probe = await Client.connect(self.url, open_timeout=60)
        await probe.join(self.big_room, f"{self.prefix}-probe", 60)
        items = self.db.query(
            TableName=self.rooms_table,
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": self.big_room}},
            ConsistentRead=True,
        )["Items"]
        self.template = next(i for i in items if "connectionId" in i and "name" in i)
        await probe.close()

    async def stop(self) -> None:
        for task in self._keepalive:
            task.cancel()
        await asyncio.gather(
            *(h.client.close() for h in self.honest if h.client), return_exceptions=True
        )

    # ----- one phase ---------------------------------------------------------------------------
    async def _honest_traffic(self, tag: str) -> tuple[int, int, list[float]]:
        """Every honest client sends its messages; (sent, lost, latencies in ms)."""

        async def talk(h: Honest) -> None:
            assert h.client is not None
            outbox = h.client.outbox(h.room, timeout=30, attempts=10, backoff_s=0.5)
            for i in range(self.shape.messages_per_phase):
                key = f"{h.name}.{tag}.{i}"
                h.sent_at[key] = time.monotonic()
                reply = await outbox.submit(f"{tag} {i}", client_msg_id=key)
                if reply.get("type") == "message":
                    h.echoed.add(key)

        await asyncio.gather(*(talk(h) for h in self.honest))
        keys = {k for h in self.honest for k in h.sent_at if f".{tag}." in k}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(self._missing(h, keys) == 0 for h in self.honest):
                break
            await asyncio.sleep(0.1)
        lost = sum(self._missing(h, keys) for h in self.honest)
        sent_at = {k: t for h in self.honest for k, t in h.sent_at.items()}
        latencies = [
            (h.arrivals[k] - sent_at[k]) * 1000
            for h in self.honest
            for k in keys
            if k in h.arrivals and k.startswith(self._room_prefix(h))
        ]
        return len(keys), lost, latencies

    def _room_prefix(self, h: Honest) -> str:
        room_index = h.room.rsplit("-r", 1)[1]
        return f"{self.prefix}-h{int(room_index)}-"

    def _missing(self, h: Honest, keys: set[str]) -> int:
        mine = {k for k in keys if k.startswith(self._room_prefix(h))}
        return len(mine - set(h.arrivals))

    async def phase(self, attack: str) -> PhaseReport:
        self.fill_big_room()
        before = self.usage()
        started = time.monotonic()
        outcomes: Counter[str] = Counter()
        tag = attack.replace(" ", "_").replace("/", "_") if attack else "baseline"
        attacker = ATTACKS.get(attack)
        if attacker is None:
            sent, lost, latencies = await self._honest_traffic(tag)
        else:
            flood = asyncio.create_task(attacker(self, outcomes))
            await asyncio.sleep(0.2)  # the flood is on before the honest clients speak
            sent, lost, latencies = await self._honest_traffic(tag)
            await flood
        await asyncio.sleep(0.5)
        posts, invocations, throttled, rcu = self._cost(before, self.usage())
        return PhaseReport(
            attack=attack or "none (baseline)",
            honest_sent=sent,
            honest_lost=lost,
            honest_p99_ms=round(_p99(latencies), 1),
            attacker=dict(outcomes),
            posts=posts,
            invocations=invocations,
            throttled=throttled,
            rcu_estimate=rcu,
            seconds=round(time.monotonic() - started, 1),
        )


# ----- the attacks: one client, one action, as fast as it can -------------------------------


def _kind(frame: Any) -> str:
    if not isinstance(frame, dict):
        return "other"
    if frame.get("message") == THROTTLED and "type" not in frame:
        return "throttled (429 frame)"
    if frame.get("type") == "error":
        return f"error {frame.get('code')}"
    return str(frame.get("type", "gateway error"))


async def _flood_frames(soak: Soak, outcomes: Counter[str], make: Callable[[int], Any]) -> None:
    attacker = await Client.connect(soak.url, open_timeout=60, buffer=False)
    attacker.listen(lambda frame: outcomes.update([_kind(frame)]))
    try:
        await attacker.join(soak.big_room, f"{soak.prefix}-attacker", 60)
        for n in range(soak.shape.flood):
            frame = make(n)
            if isinstance(frame, list):
                for f in frame:
                    await attacker.send(f)
            else:
                await attacker.send(frame)
        await asyncio.sleep(2.0)  # the replies come in
    except websockets.ConnectionClosed as closed:
        outcomes[f"closed {closed.code}"] += 1
    finally:
        await attacker.close()


async def _send_all(soak: Soak, outcomes: Counter[str]) -> None:
    await _flood_frames(
        soak,
        outcomes,
        lambda n: {
            "action": "sendAll",
            "roomId": soak.big_room,
            "message": f"spam {n}",
            "clientMsgId": f"spam-{n}",
        },
    )


async def _typing(soak: Soak, outcomes: Counter[str]) -> None:
    await _flood_frames(soak, outcomes, lambda n: {"action": "typing", "roomId": soak.big_room})


async def _join_leave(soak: Soak, outcomes: Counter[str]) -> None:
    await _flood_frames(
        soak,
        outcomes,
        lambda n: [
            {"action": "leave", "roomId": soak.big_room},
            {"action": "join", "roomId": soak.big_room, "name": f"{soak.prefix}-alias{n}"},
        ],
    )


async def _history(soak: Soak, outcomes: Counter[str]) -> None:
    await _flood_frames(
        soak, outcomes, lambda n: {"action": "history", "roomId": soak.big_room, "limit": 100}
    )


async def _members(soak: Soak, outcomes: Counter[str]) -> None:
    await _flood_frames(soak, outcomes, lambda n: {"action": "members", "roomId": soak.big_room})


async def _connect_storm(soak: Soak, outcomes: Counter[str]) -> None:
    async def one(n: int) -> None:
        try:
            client = await Client.connect(f"{soak.url}?storm={n}", open_timeout=60)
        except websockets.InvalidStatus as refused:
            outcomes[f"refused {refused.response.status_code}"] += 1
        except (OSError, TimeoutError):
            outcomes["failed"] += 1
        else:
            outcomes["connected"] += 1
            await client.close()

    await asyncio.gather(*(one(n) for n in range(soak.shape.flood)))


async def _oversize_url(soak: Soak, outcomes: Counter[str]) -> None:
    for n in range(max(5, soak.shape.flood // 20)):
        with contextlib.suppress(OSError, TimeoutError):
            try:
                client = await Client.connect(f"{soak.url}?pad={'x' * 4200}&n={n}")
            except websockets.InvalidStatus as refused:
                outcomes[f"refused {refused.response.status_code}"] += 1
            else:
                outcomes["connected"] += 1
                await client.close()


ATTACKS: dict[str, Callable[[Soak, Counter[str]], Awaitable[None]]] = {
    "sendAll": _send_all,
    "typing": _typing,
    "join/leave": _join_leave,
    "history": _history,
    "members": _members,
    "connect storm": _connect_storm,
    "oversize URL": _oversize_url,
}


async def run_soak(stack: Any, shape: SoakShape) -> list[PhaseReport]:
    """After a warm-up, the baseline (no attacker), then each attack of ``shape`` in turn."""
    soak = Soak(stack, shape)
    await soak.start()
    reports = []
    try:
        reports.append(await soak.phase(""))
        for attack in shape.attacks:
            reports.append(await soak.phase(attack))
    finally:
        await soak.stop()
    return reports


def table(reports: list[PhaseReport]) -> str:
    baseline = reports[0].honest_p99_ms
    lines = [
        "| attack | honest p99 ms (baseline) | honest lost | attacker got | posts | invocations "
        "| throttled | RCU (est.) |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in reports:
        got = ", ".join(f"{k}: {v}" for k, v in sorted(r.attacker.items())) or "-"
        lines.append(
            f"| {r.attack} | {r.honest_p99_ms:.0f} ({baseline:.0f}) | {r.honest_lost} | {got} "
            f"| {r.posts} | {r.invocations} | {r.throttled} | {r.rcu_estimate:.0f} |"
        )
    return "\n".join(lines)
