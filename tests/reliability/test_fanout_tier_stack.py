"""The fan-out tier on the whole local stack: a stack of its own whose Terraform lowers the
tier's threshold to 5 members (chunks of 3), so a room of 8 goes through the SQS queue (moto)
and the `fanout` function, run by the stack's event source poller (local/eventsources.py).

Its own stack, not the shared one: with the threshold lowered there, every room of more than
5 members in the other tests would change path (their ack becomes the route's reply, and one
sender's messages may reach a member in another order), which they do not expect."""

from __future__ import annotations

import asyncio
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
    keepalive,
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
def started_tier_stack(tmp_path_factory):
    """The stack as soon as it is ready to chat: its fan-out tier may still be being applied."""
    tf_vars = json.dumps({"fanout_tier_threshold": THRESHOLD, "fanout_chunk_size": CHUNK})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOMCHAT_TF_VARS", tf_vars)
        # From an empty emulator: its first test is about a start whose apply is not done.
        stack = _start_stack(tmp_path_factory, seeded=False)
        running = next(stack)
    yield running
    with contextlib.suppress(StopIteration):
        next(stack)  # stops it and checks nothing is left behind


@pytest.fixture(scope="module")
def tier_stack(started_tier_stack):
    """The same stack once its whole apply is done (queues, redrive policy, mapping)."""
    started_tier_stack.applied()
    return started_tier_stack


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


def test_a_big_room_message_sent_before_the_tier_exists_reaches_everyone_once(
    started_tier_stack,
):
    """The stack is ready to chat while the fan-out tier is still being applied (the provider
    waits ~25 s per queue): a big room's message sent then is acknowledged at once, its chunks
    queued (or posted inline if the queue does not exist yet), and every member gets it exactly
    once when the tier's event source mapping is polled; the rest of the apply then succeeds."""
    stack = started_tier_stack
    assert stack.launch_info["applied"] is False, "ready only once the whole apply was done"
    room = unique("early")
    names = [unique("m") for _ in range(8)]
    state = stack.local_dir / "stack.json"

    async def scenario():
        clients = await connect_and_join(stack.url, room, names)
        await drain(clients)
        echo = await say(clients[0], room, "before the tier")
        applied_when_sent = json.loads(state.read_text())["applied"]
        async with keepalive(clients):
            await asyncio.to_thread(stack.applied)
            frames = await drain(clients[1:], 6.0)
        record = await sent_record(stack, echo["messageId"])
        for c in clients:
            await c.ws.close()
        return echo, applied_when_sent, frames, record

    echo, applied_when_sent, frames, record = run(scenario())
    got = [[m["messageId"] for m in messages_of(f, room)] for f in frames]
    assert got == [[echo["messageId"]]] * 7, got
    assert record["tier"] is True
    # All three chunks queued, or (the queue not there yet) all seven recipients posted inline.
    assert (record["chunksQueued"], record["recipientsInline"]) in {(3, 0), (0, 7)}, record
    # Not a test that cannot fail: had the whole apply been done, this would say so.
    assert applied_when_sent is False, "the message was sent after the apply was done"
    assert stack.info["outputs"]["fanout_event_source_mapping_id"]


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
