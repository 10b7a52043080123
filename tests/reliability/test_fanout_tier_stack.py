"""The fan-out tier on the whole local stack: a stack of its own whose Terraform lowers the
tier's threshold to 5 members (chunks of 3), so a room of 8 goes through the SQS queue (moto)
and the `fanout` function, run by the stack's event source poller (local/eventsources.py).

Its own stack, not the shared one: with the threshold lowered there, every room of more than
5 members in the other tests would change path (their ack becomes the route's reply, and one
sender's messages may reach a member in another order), which they do not expect."""

from __future__ import annotations

import contextlib
import json

import pytest

from tests.e2e.support import run
from tests.reliability.support import (
    GatewayFaults,
    Tables,
    connect_and_join,
    drain,
    function_records,
    leaves_of,
    members,
    messages_of,
    say,
    sent_record,
    unique,
)
from tests.stack import _start_stack

pytestmark = pytest.mark.e2e

THRESHOLD, CHUNK = 5, 3


@pytest.fixture(scope="module")
def tier_stack(tmp_path_factory):
    tf_vars = json.dumps({"fanout_tier_threshold": THRESHOLD, "fanout_chunk_size": CHUNK})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOMCHAT_TF_VARS", tf_vars)
        stack = _start_stack(tmp_path_factory)
        running = next(stack)
    yield running
    with contextlib.suppress(StopIteration):
        next(stack)  # stops it and checks nothing is left behind


@pytest.fixture
def faults(tier_stack):
    faults = GatewayFaults(tier_stack.info["http_url"])
    faults.clear()
    yield faults
    faults.clear()


def _chunks(stack, message_id: str) -> list[dict]:
    return [r for r in function_records(stack, "fanout_chunk") if r["messageId"] == message_id]


async def _everyone_gets_it_once(clients, room, message_id, settle=4.0):
    """Each client's message frames of the room within ``settle`` s: exactly this one, once."""
    frames = await drain(clients, settle)
    got = [[m["messageId"] for m in messages_of(f, room)] for f in frames]
    assert got == [[message_id]] * len(clients), got
    return frames


def test_a_big_room_is_delivered_through_the_queue_to_every_member_once(tier_stack):
    room = unique("big")
    names = [unique("m") for _ in range(8)]

    async def scenario():
        clients = await connect_and_join(tier_stack.url, room, names)
        await drain(clients)
        echo = await say(clients[0], room, "to everyone")  # the route's reply: at once
        await _everyone_gets_it_once(clients[1:], room, echo["messageId"])
        assert messages_of(await clients[0].quiet(0.2), room) == []  # no second copy
        record = await sent_record(tier_stack, echo["messageId"])
        for c in clients:
            await c.ws.close()
        return echo, record

    echo, record = run(scenario())
    assert record["tier"] is True and record["members"] == 8
    assert record["chunksQueued"] == 3  # 7 others in chunks of 3
    chunks = _chunks(tier_stack, echo["messageId"])
    assert sum(c["delivered"] for c in chunks) == 7
    assert sorted(c["chunk"] for c in chunks) == [0, 1, 2]


def test_a_chunk_whose_posts_fail_part_way_is_retried_without_duplicates(tier_stack, faults):
    """One member's posts fail (500, through all of the poster's own retries): the chunk's
    others are served once, the worker re-queues that member alone, and the retry reaches it."""
    room = unique("retry")
    names = [unique("m") for _ in range(7)]
    tables = Tables(tier_stack)

    async def scenario():
        clients = await connect_and_join(tier_stack.url, room, names)
        ids = tables.member_ids(room)
        faults.answer(ids[names[4]], 500, times=3)  # one post = 3 attempts
        await drain(clients)
        echo = await say(clients[0], room, "again?")
        await _everyone_gets_it_once(clients[1:], room, echo["messageId"], settle=6.0)
        attempts = faults.calls(ids[names[4]])
        for c in clients:
            await c.ws.close()
        return echo, attempts

    echo, attempts = run(scenario())
    assert attempts == 4  # three refused, then the re-queued one
    chunks = _chunks(tier_stack, echo["messageId"])
    retried = [c for c in chunks if c["attempt"] == 1]
    assert len(retried) == 1 and retried[0]["delivered"] == 1
    assert sum(c["requeued"] for c in chunks) == 1
    assert sum(c["delivered"] for c in chunks) == 6


def test_a_gone_member_of_a_big_room_is_pruned_by_the_worker(tier_stack, faults):
    room = unique("prune")
    names = [unique("m") for _ in range(7)]
    tables = Tables(tier_stack)

    async def scenario():
        clients = await connect_and_join(tier_stack.url, room, names)
        gone = tables.member_ids(room)[names[5]]
        faults.answer(gone, 410, times=5)
        await drain(clients)
        echo = await say(clients[0], room, "who is here?")
        frames = await drain(clients, 4.0)
        after = await members(clients[0], room)
        for c in clients:
            await c.ws.close()
        return echo, frames, after

    echo, frames, after = run(scenario())
    assert names[5] not in after and len(after) == 6
    for i, f in enumerate(frames):
        if i != 5:
            assert leaves_of(f, room) == [names[5]], i
    chunks = _chunks(tier_stack, echo["messageId"])
    assert sum(c["pruned"] for c in chunks) == 1
    # 6 members are left, above the threshold: the leave itself went through the queue.
    queued = [r for r in function_records(tier_stack, "presence_queued") if r["roomId"] == room]
    assert len(queued) == 1 and queued[0]["members"] == 6, queued
    assert queued[0]["chunksQueued"] == 2 and queued[0]["refused"] == 0
