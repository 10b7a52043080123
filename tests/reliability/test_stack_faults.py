"""Faults injected into the whole local stack (emulator + terraform-applied API + gateway + the real
functions): the management API answering 410/429/500, clients vanishing in the middle of a
fan-out, and memberships left behind by a missed $disconnect.

The gateway's /_devstack/faults endpoint (local/faults.py) injects the management API
faults and counts the attempts it sees; the functions' own "sent" log record says what the fan-out
counted (members, delivered, pruned, failed). A handler that raises, times out or crashes is
covered at gateway level (tests/e2e/test_gateway.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.support import Client, run
from tests.reliability.support import (
    GatewayFaults,
    Tables,
    connect_and_join,
    drain,
    function_records,
    join,
    keepalive,
    leaves_of,
    members,
    messages_of,
    say,
    sent_record,
    unique,
)

pytestmark = pytest.mark.e2e

COUNTS = ("members", "delivered", "pruned", "failed")


@pytest.fixture
def faults(stack):
    faults = GatewayFaults(stack.info["http_url"])
    faults.clear()
    yield faults
    faults.clear()


@pytest.fixture(scope="module")
def tables(stack):
    return Tables(stack)


def _counts(record: dict) -> dict:
    return {k: record[k] for k in COUNTS}


def test_410_member_is_pruned_from_every_room_after_one_attempt_and_the_rest_receive(
    stack, faults, tables
):
    """The management API answers 410 Gone for one member (whose socket is in fact open): that
    post is not retried, the member's memberships are deleted in every room and both rooms are
    told it left; everyone else gets the message."""
    room, elsewhere = unique("gone"), unique("gone-other")
    roles = ["sender", "ok1", "ok2", "gone"]
    names = {role: unique(role) for role in roles}

    async def scenario():
        joined = await connect_and_join(stack.url, room, list(names.values()))
        clients = dict(zip(roles, joined, strict=True))
        watcher = await Client.connect(stack.url)
        await join(watcher, elsewhere, unique("watcher"))
        await join(clients["gone"], elsewhere, names["gone"])
        ids = {role: tables.member_ids(room)[names[role]] for role in roles}
        faults.answer(ids["gone"], 410, times=5)
        await drain([*clients.values(), watcher])  # presence frames of the joins

        echo = await say(clients["sender"], room, "are you there?")
        record = await sent_record(stack, echo["messageId"])
        frames = dict(zip(roles, await drain(clients.values(), 0.3), strict=True))
        watcher_frames = await watcher.quiet(0.1)
        after = await members(clients["sender"], room)
        gone_still_open = clients["gone"].ws.close_code is None
        for client in [*clients.values(), watcher]:
            await client.close()
        return locals()

    r = run(scenario())
    gone = r["ids"]["gone"]
    got = {role: messages_of(frames, room) for role, frames in r["frames"].items()}
    assert {role: len(messages) for role, messages in got.items()} == {
        "sender": 0,  # its copy was the echo `say` waited for
        "ok1": 1,
        "ok2": 1,
        "gone": 0,
    }
    assert got["ok1"][0] == r["echo"]
    assert _counts(r["record"]) == {"members": 4, "delivered": 3, "pruned": 1, "failed": 0}
    assert faults.calls(gone) == 1  # 410 is final: never retried
    assert tables.memberships_of(gone) == []
    assert leaves_of(r["frames"]["ok1"], room) == [names["gone"]]
    assert leaves_of(r["watcher_frames"], elsewhere) == [names["gone"]]
    assert r["after"] == sorted(n for role, n in names.items() if role != "gone")
    assert r["gone_still_open"]  # the API said 410; the gateway did not close anything


def test_429_and_500_members_are_retried_then_counted_failed_and_kept(stack, faults, tables):
    """Members whose posts keep failing with 429 (LimitExceededException) or 500 are tried 3
    times in all (the Lambda's client: standard retry mode, with backoff), then counted as
    failed and kept; a member throttled once gets the message on the retry; the rest get it."""
    room = unique("retry")
    roles = ["sender", "ok", "throttled", "broken", "recovers"]
    names = {role: unique(role) for role in roles}

    async def scenario():
        joined = await connect_and_join(stack.url, room, list(names.values()))
        clients = dict(zip(roles, joined, strict=True))
        ids = {role: tables.member_ids(room)[names[role]] for role in roles}
        faults.answer(ids["throttled"], 429, times=5)
        faults.answer(ids["broken"], 500, times=5)
        faults.answer(ids["recovers"], 429, times=1)
        await drain(clients.values())

        started = time.monotonic()
        echo = await say(clients["sender"], room, "through faults")
        record = await sent_record(stack, echo["messageId"])
        fan_out_s = time.monotonic() - started
        frames = await drain(clients.values(), 0.3)
        got = {role: messages_of(f, room) for role, f in zip(roles, frames, strict=True)}
        after = await members(clients["sender"], room)
        for client in clients.values():
            await client.close()
        return locals()

    r = run(scenario())
    ids = r["ids"]
    assert {role: len(messages) for role, messages in r["got"].items()} == {
        "sender": 0,  # its copy was the echo `say` waited for
        "ok": 1,
        "throttled": 0,
        "broken": 0,
        "recovers": 1,
    }
    assert r["got"]["recovers"][0] == r["echo"]
    assert _counts(r["record"]) == {"members": 5, "delivered": 3, "pruned": 0, "failed": 2}
    # the attempts the gateway saw
    assert {role: faults.calls(ids[role]) for role in ("throttled", "broken", "recovers")} == {
        "throttled": 3,
        "broken": 3,
        "recovers": 2,
    }
    failed_posts = {
        rec["target"]: rec["error"]
        for rec in function_records(stack, "post_failed")
        if rec.get("target") in (ids["throttled"], ids["broken"])
    }
    assert failed_posts == {
        ids["throttled"]: "LimitExceededException",
        ids["broken"]: "InternalServerErrorException",
    }
    # a 429 or a 500 says nothing about the connection: both stay members
    assert r["after"] == sorted(names.values())
    assert tables.memberships_of(ids["throttled"]) == [room]
    assert tables.memberships_of(ids["broken"]) == [room]
    assert r["fan_out_s"] < 12  # backoff stays well within the function's 15 s timeout


def test_clients_vanishing_mid_fan_out_are_pruned_and_the_rest_still_receive(stack, faults, tables):
    """30 members; while a message is being fanned out, 3 of them drop their TCP connection
    (their posts are held by the gateway meanwhile) and 2 more drop after receiving it, all with
    their $disconnect missed. The first 3 are pruned by that fan-out's 410s, the other 2 by the
    next fan-out's; the 25 others receive both messages exactly once."""
    room = unique("drop")
    names = [f"m{i:02d}-{room[-8:]}" for i in range(30)]

    async def scenario():
        clients = await connect_and_join(stack.url, room, names)
        sender, during, between, rest = clients[0], clients[1:4], clients[4:6], clients[6:]
        ids = tables.member_ids(room)
        cid = {id(c): ids[n] for c, n in zip(clients, names, strict=True)}
        for client in during + between:
            faults.skip_disconnect(cid[id(client)])
        for client in during:
            faults.hold(cid[id(client)], 1.5)
        async with keepalive([sender, *rest]):
            await drain(clients)
            await sender.send({"action": "sendAll", "roomId": room, "message": "first"})
            deadline = time.monotonic() + 20
            while any(faults.calls(cid[id(c)]) == 0 for c in during):  # their posts are held
                assert time.monotonic() < deadline, "the fan-out never reached the held members"
                await asyncio.sleep(0.05)
            for client in during:
                client.ws.transport.abort()  # gone without a close frame, mid-fan-out
            first = await sender.expect({"type": "message", "message": "first"}, timeout=20)
            first_record = await sent_record(stack, first["messageId"])
            for client in between:
                await client.expect({"type": "message", "message": "first"})
                client.ws.transport.abort()
            await asyncio.sleep(0.5)  # the gateway notices; the $disconnect is missed

            second = await say(sender, room, "second")
            second_record = await sent_record(stack, second["messageId"])
            frames = await drain(rest, 0.3)
            after = await members(sender, room)
        for client in [sender, *rest]:
            await client.close()
        dropped_ids = [cid[id(c)] for c in during + between]
        return locals()

    r = run(scenario())
    assert _counts(r["first_record"]) == {
        "members": 30,
        "delivered": 27,  # sender, 24 others, and the 2 that drop later
        "pruned": 3,
        "failed": 0,
    }
    assert _counts(r["second_record"]) == {
        "members": 27,
        "delivered": 25,
        "pruned": 2,
        "failed": 0,
    }
    received = [[m["message"] for m in messages_of(f, room)] for f in r["frames"]]
    assert received == [["first", "second"]] * 24
    assert r["after"] == sorted([names[0], *names[6:]])
    assert [tables.memberships_of(c) for c in r["dropped_ids"]] == [[]] * 5
    assert all(faults.calls(c, "$disconnect") == 1 for c in r["dropped_ids"])


def test_every_member_pruned_by_one_fan_out_is_announced_as_leaving(stack, faults, tables):
    """README: a post answered 410 deletes that connection's memberships "and tells those rooms
    it left" - for each of several stale members met by the same fan-out."""
    room = unique("announce")
    names = [unique("keep"), unique("keep"), unique("stale"), unique("stale"), unique("stale")]

    async def scenario():
        clients = await connect_and_join(stack.url, room, names)
        ids = tables.member_ids(room)
        for name in names[2:]:
            faults.answer(ids[name], 410, times=5)
        await drain(clients)
        echo = await say(clients[0], room, "who is still here?")
        await sent_record(stack, echo["messageId"])
        frames = await clients[1].quiet(0.5)
        for client in clients:
            await client.close()
        return frames

    assert leaves_of(run(scenario()), room) == sorted(names[2:])


def test_expired_membership_of_a_missed_disconnect_is_neither_listed_nor_posted_to(
    stack, faults, tables
):
    """A membership whose TTL (expiresAt) has passed but that DynamoDB has not deleted yet is
    skipped by every reader: not in `members`, not counted on join, never posted to."""
    room = unique("ttl")
    ghost = "R2hvc3RFeHBpcmVkMDA="

    async def scenario():
        ana = await Client.connect(stack.url)
        await join(ana, room, "ana")
        tables.db.put_item(
            TableName=tables.rooms,
            Item={
                "roomId": {"S": room},
                "connectionId": {"S": ghost},
                "name": {"S": "ghost"},
                "joinedAt": {"S": "2024-01-01T00:00:00.000Z"},
                "expiresAt": {"N": str(int(time.time()) - 60)},
            },
        )
        faults.answer(ghost, 410)  # a post to it would be counted (and would prune it)
        listed = await members(ana, room)
        bob = await Client.connect(stack.url)
        joined = await join(bob, room, "bob")
        echo = await say(ana, room, "only the living")
        record = await sent_record(stack, echo["messageId"])
        await ana.close()
        await bob.close()
        return listed, joined, record

    listed, joined, record = run(scenario())
    assert listed == ["ana"]
    assert joined["members"] == 2
    assert (record["members"], record["delivered"], record["pruned"]) == (2, 2, 0)
    assert faults.calls(ghost) == 0
    assert "ghost" in tables.member_ids(room)  # left for DynamoDB's TTL to delete


def _post_read_timeout() -> float:
    """The read timeout of the functions' @connections client, from the code the stack runs."""
    from roomchat.settings import Settings
    from roomchat.wiring import build_container

    container = build_container(Settings(rooms_table="rooms", history_table="history"))
    sender = container.sender_for("http://127.0.0.1:9")
    if hasattr(sender, "read_timeout_s"):  # the signed poster (the default)
        return float(sender.read_timeout_s)
    return float(sender._client.meta.config.read_timeout)  # FANOUT_POSTER=botocore


def test_a_post_slower_than_the_read_timeout_is_retried_and_may_arrive_twice(stack, faults, tables):
    """At least once, not exactly once: when a post takes longer than the functions' client
    waits for it (read_timeout), the client retries it while the first attempt still goes
    through, so that member gets the frame twice - with the same messageId, which clients drop
    (README). The fan-out counts one delivery and the others get it once."""
    read_timeout = _post_read_timeout()
    if read_timeout > 10:
        pytest.skip(f"read_timeout {read_timeout} s: too slow to wait for here")
    room = unique("slow")
    names = [unique("sender"), unique("slow"), unique("other")]

    async def scenario():
        sender, slow, other = await connect_and_join(stack.url, room, names)
        slow_id = tables.member_ids(room)[names[1]]
        faults.hold(slow_id, read_timeout + 0.5)
        await drain([sender, slow, other])
        async with keepalive([sender, slow, other]):
            echo = await say(sender, room, "slowly", timeout=read_timeout + 10)
            record = await sent_record(stack, echo["messageId"], timeout=read_timeout + 10)
            frames = await drain([slow, other], 1.0)
        for client in (sender, slow, other):
            await client.close()
        return echo, record, frames, slow_id

    echo, record, (slow_frames, other_frames), slow_id = run(scenario())
    assert [m["messageId"] for m in messages_of(slow_frames, room)] == [echo["messageId"]] * 2
    assert [m["messageId"] for m in messages_of(other_frames, room)] == [echo["messageId"]]
    assert faults.calls(slow_id) == 2
    assert _counts(record) == {"members": 3, "delivered": 3, "pruned": 0, "failed": 0}
