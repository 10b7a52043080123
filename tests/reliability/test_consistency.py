"""Races that only eventual consistency shows, on the local stack with delayed visibility on:
the functions' reads that are not strongly consistent, and every read of the byConnection GSI,
see writes ``LAG_MS`` late (scripts/roomchat_tools/local/dynamoproxy.py), as DynamoDB may."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.support import Client, run
from tests.reliability.support import (
    GatewayFaults,
    Tables,
    join,
    keepalive,
    members,
    messages_of,
    read_lag,
    say,
    unique,
)

pytestmark = pytest.mark.e2e

LAG_MS = 1500
BURST = 16  # under RECENT_ON_JOIN (20), so every message sent before the join fits `recent`
PACE_S = 0.15  # under the 10 messages a second a connection may send


def test_a_member_joining_during_a_burst_misses_no_message_live_or_in_recent(stack):
    # The join writes the membership, then reads `recent`; a send writes history, then reads
    # the room's members. With strongly consistent reads each message is in one or the other.
    async def scenario():
        room = unique("burst")
        sender = await Client.connect(stack.url)
        await join(sender, room, "sam")
        async with read_lag(stack, LAG_MS), keepalive([sender]):
            joiner = await Client.connect(stack.url)

            async def burst() -> list[str]:
                sent = []
                for i in range(BURST):
                    sent.append((await say(sender, room, f"m{i:02d}"))["messageId"])
                    await asyncio.sleep(PACE_S)
                return sent

            sending = asyncio.create_task(burst())
            await asyncio.sleep(BURST * PACE_S / 2)  # mid-burst
            joined = await join(joiner, room, "jo")
            sent = await sending
            frames = await joiner.quiet(3.0)
        await sender.close()
        await joiner.close()
        return sent, joined, frames, room

    sent, joined, frames, room = run(scenario())
    recent = [m["messageId"] for m in joined["recent"]]
    live = [f["messageId"] for f in messages_of(frames, room)]
    missed = [i for i, message_id in enumerate(sent) if message_id not in {*recent, *live}]
    assert missed == [], (
        f"messages {missed} of {BURST} reached the joiner neither live nor in recent "
        f"(recent {len(recent)}, live {len(live)})"
    )


def _ghost_rooms(tables: Tables, room: str, connection_id: str, wait_s: float) -> list[str]:
    """The connection's memberships of ``room`` still there after up to ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        left = [c for c in tables.member_ids(room).values() if c == connection_id]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.25)


def test_join_then_disconnect_leaves_no_ghost_member(stack):
    # The join's membership write is not yet visible to $disconnect's GSI query of the
    # connection's rooms.
    tables = Tables(stack)

    async def scenario():
        room = unique("ghost")
        watcher = await Client.connect(stack.url)
        await join(watcher, room, "wat")
        async with read_lag(stack, LAG_MS), keepalive([watcher]):
            ghost = await Client.connect(stack.url)
            await join(ghost, room, "gho")
            ghost_id = tables.member_ids(room)["gho"]
            await ghost.close()
            remaining = await asyncio.to_thread(
                _ghost_rooms, tables, room, ghost_id, 8 + LAG_MS / 1000
            )
            names = await members(watcher, room)
        await watcher.close()
        return remaining, names

    remaining, names = run(scenario())
    assert remaining == [], "the closed connection is still a member of the room"
    assert names == ["wat"]


def test_join_handled_after_its_disconnect_leaves_no_ghost_member(stack):
    # The adverse order API Gateway allows: the join frame is handled after $disconnect ran
    # (held by the gateway's frame fault), with delayed visibility on as well.
    tables = Tables(stack)
    faults = GatewayFaults(stack.info["http_url"])

    async def scenario():
        room, lobby = unique("late"), unique("lobby")
        watcher = await Client.connect(stack.url)
        await join(watcher, room, "wat")
        ghost = await Client.connect(stack.url)
        await join(ghost, lobby, "gho")  # only to learn its connection id
        ghost_id = tables.member_ids(lobby)["gho"]
        faults.add({"connectionId": ghost_id, "target": "frame", "route": "join", "delay": 1.5})
        try:
            async with read_lag(stack, LAG_MS), keepalive([watcher]):
                await ghost.send({"action": "join", "roomId": room, "name": "gho"})
                await asyncio.sleep(0.1)
                await ghost.close()
                await asyncio.sleep(2.0)  # the held join runs now, after $disconnect
                held = faults.calls(ghost_id, "frame:join")
                remaining = await asyncio.to_thread(
                    _ghost_rooms, tables, room, ghost_id, 8 + LAG_MS / 1000
                )
                names = await members(watcher, room)
        finally:
            faults.clear()
        await watcher.close()
        return held, remaining, names

    held, remaining, names = run(scenario())
    assert held == 1
    assert remaining == [], "the join handled after $disconnect left a ghost member"
    assert names == ["wat"]
