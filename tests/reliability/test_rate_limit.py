"""The per-connection rate limit end to end: a burst of sendAll from one connection through the
local stack (gateway, real functions, DynamoDB counter in the emulator)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.e2e.support import run
from tests.reliability.support import (
    Tables,
    connect_and_join,
    drain,
    messages_of,
    say,
    unique,
)

pytestmark = pytest.mark.e2e

LIMIT = 10  # RATE_LIMIT_PER_SECOND, the functions' default (infra sets no other)
BURST = 50


def test_a_sender_over_the_limit_is_refused_and_nothing_is_stored_or_sent(stack):
    """50 messages sent at once: at most 10 a second are accepted; each refused one gets a
    `rate_limited` error naming it and is neither stored, nor claimed, nor counted, nor sent.
    Another connection in the room is not limited meanwhile, and the sender may go on the
    next second."""
    room = unique("rate")
    tables = Tables(stack)

    async def scenario():
        fast, other = await connect_and_join(stack.url, room, [unique("fast"), unique("other")])
        await drain([fast, other])
        ids = tables.member_ids(room)
        for i in range(BURST):
            await fast.send(
                {"action": "sendAll", "roomId": room, "message": f"m{i}", "clientMsgId": f"b{i}"}
            )
        mine = await say(other, room, "not limited")
        outcomes: dict[str, dict] = {}
        while len(outcomes) < BURST:
            frame = await fast.next_frame(timeout=30)
            if frame.get("type") in ("message", "error") and frame.get("clientMsgId"):
                outcomes[frame["clientMsgId"]] = frame
        other_frames = (await drain([other], 1.0))[0]
        await asyncio.sleep(1.0)  # a new second
        after = await say(fast, room, "and again")
        await fast.close()
        await other.close()
        return locals()

    r = run(scenario())
    fast_id = r["ids"][next(n for n in r["ids"] if n.startswith("fast"))]
    accepted = {k: f for k, f in r["outcomes"].items() if f["type"] == "message"}
    refused = {k: f for k, f in r["outcomes"].items() if f["type"] == "error"}
    assert len(accepted) >= LIMIT and len(refused) >= 1
    assert all(f["code"] == "rate_limited" for f in refused.values()), refused
    assert all(f["action"] == "sendAll" and f["roomId"] == room for f in refused.values())
    # at most LIMIT per second, by the handler's own clock (sentAt is taken with the check)
    assert max(Counter(f["sentAt"][:19] for f in accepted.values()).values()) <= LIMIT
    # delivered: exactly the accepted ones, once each
    delivered = [
        m["clientMsgId"]
        for m in messages_of(r["other_frames"], room)
        if m["sender"].startswith("fast")
    ]
    assert sorted(delivered) == sorted(accepted)
    # stored: exactly the accepted ones (plus the other sender's and the later message)
    stored = {m["messageId"] for m in tables.messages(room)}
    expected = {f["messageId"] for f in accepted.values()}
    assert stored == expected | {r["mine"]["messageId"], r["after"]["messageId"]}
    # no idempotency claim and no counter increment for a refused message
    claims = tables.partition(tables.history, room + "#idem")
    assert sorted(c["messageId"]["S"] for c in claims) == sorted(f"{fast_id}#{k}" for k in accepted)
    counters = tables.partition(tables.history, "rate#" + fast_id)
    # join, sendAll and leave share the limit: the join and the later message count as well
    assert sum(int(c["n"]["N"]) for c in counters) == len(accepted) + 2
    assert all(int(c["n"]["N"]) <= LIMIT for c in counters)
    assert r["mine"]["message"] == "not limited"
    assert r["after"]["message"] == "and again"
