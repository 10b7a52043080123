"""Budgets by cost, not count (docs/limits.md): every action, reads included, spends from a
token bucket per connection and per signed-in user, charged what it read and posted; a
connection that keeps being refused is told why (`closing`) and closed through @connections.
The buckets are conditional DynamoDB writes (moto and DynamoDB Local)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from roomchat import metering
from roomchat.adapters.dynamodb import DynamoRateLimiter
from roomchat.usecases import budgets
from tests.engines import both_engines

T0 = 1_800_000_000_000  # ms


@both_engines
def test_a_bucket_admits_its_burst_then_refills_at_its_rate(dynamodb):
    limiter = DynamoRateLimiter(dynamodb, "history", 10)
    admitted = [limiter.admit("cost#A", T0, per_second=4, burst=8) for _ in range(10)]
    assert admitted == [True] * 8 + [False] * 2  # the burst, then nothing
    assert not limiter.admit("cost#A", T0 + 200, 4, 8)  # under a unit's refill (250 ms)
    assert limiter.admit("cost#A", T0 + 260, 4, 8)  # one unit back
    assert limiter.admit("cost#B", T0, 4, 8)  # another key has its own bucket
    # idle long enough: full again, not more than full
    later = T0 + 60_000
    assert [limiter.admit("cost#A", later, 4, 8) for _ in range(9)] == [True] * 8 + [False]


@both_engines
def test_a_charge_after_the_work_puts_the_bucket_in_debt(dynamodb):
    limiter = DynamoRateLimiter(dynamodb, "history", 10)
    assert limiter.admit("cost#A", T0, per_second=10, burst=20)
    limiter.charge("cost#A", T0, per_second=10, units=50)  # a read far over the burst
    assert not limiter.admit("cost#A", T0 + 2_000, 10, 20)  # 30 units of debt left: 3 s
    assert limiter.admit("cost#A", T0 + 3_200, 10, 20)


def test_cost_counts_bytes_read_and_posts():
    assert budgets.cost(0, 0) == 0
    assert budgets.cost(1, 1) == 2
    assert budgets.cost(100_000, 0) == 25  # a full history page: ~25 read units
    assert budgets.cost(5000 * 150, 5000) == 184 + 50  # a 5,000-member room's list, or posts


@pytest.fixture
def settings(settings):
    return dataclasses.replace(
        settings,
        cost_per_second=2,
        cost_burst=6,
        user_cost_per_second=3,
        user_cost_burst=9,
        strikes_before_close=0,
    )


@pytest.fixture
def chat(chat):
    """The handlers' clock stands still: what refills is only what the test says."""
    from roomchat import handlers

    now = time.time_ns() // 1_000_000  # memberships expire by the real connectedAt
    handlers.container().clock = lambda: now
    return chat


def _codes(replies):
    return [r["code"] if r and r.get("type") == "error" else "ok" for r in replies]


def test_reads_are_budgeted_by_what_they_read(chat):
    """`members` and `history` had no limit: each is charged its reads, so a client looping
    them is refused after a few, while another connection is untouched."""
    chat.join("Z", "big", "zed")  # in a small room: its join costs it little
    for i in range(30):
        chat.join(f"M{i}", "big", f"m{i}")  # each join spends its own connection's budget
    replies = [chat.send("M0", action="members", roomId="big") for _ in range(4)]
    # 30 members (~6 KB) read: 1 + 2 units (+ the ban and membership reads) each; a burst of 6
    assert _codes(replies)[0] == "ok" and "rate_limited" in _codes(replies), replies
    refused = next(r for r in replies if r.get("type") == "error")
    assert refused["action"] == "members" and "budget" in refused["message"]
    assert chat.send("Z", action="members", roomId="big")["type"] == "members"


def test_a_signed_in_users_connections_share_the_users_budget(chat):
    for cid in ("U1", "U2", "U3", "U4"):
        chat.users[cid] = "u-same"
    for cid in ("U1", "U2", "U3", "U4"):
        chat.join(cid, "lobby", "ana")  # 4 joins of the same user: most of 9 units
    codes = _codes(
        [chat.send(c, action="members", roomId="lobby") for c in ("U1", "U2", "U3", "U4")]
    )
    assert "rate_limited" in codes, codes  # each connection has budget left; the user has not


def test_a_refused_action_reads_and_writes_nothing(chat):
    chat.join("A", "lobby", "ana")
    while chat.send("A", action="typing", roomId="lobby") is None:
        pass
    metering.reset()
    before = chat.items()
    reply = chat.send("A", action="history", roomId="lobby")
    assert reply["code"] == "rate_limited"
    assert chat.items() == before  # a refused conditional write changes nothing
    assert metering.bytes_read() == 0


def test_a_connection_that_keeps_exceeding_is_told_why_and_closed(chat):
    chat.settings = dataclasses.replace(chat.settings, strikes_before_close=3)
    from roomchat import handlers

    handlers.container().settings = chat.settings
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.sender.take("A")
    codes = _codes([chat.send("A", action="members", roomId="lobby") for _ in range(12)])
    assert codes.count("rate_limited") >= 3
    assert chat.sender.closed == ["A"] or chat.sender.closed.count("A") >= 1
    closing = [f for f in chat.sender.take("A") if f["type"] == "closing"]
    assert closing and closing[0]["code"] == "rate_limited" and "slow down" in closing[0]["message"]
    assert "B" not in chat.sender.closed
