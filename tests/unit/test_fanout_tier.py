"""The fan-out tier's use-cases with moto's SQS and DynamoDB: the threshold, chunking, the
worker's re-queue of the unreached (never re-posting the reached), the progress record that
makes a redelivered chunk skip what its dead worker settled, pruning, and the counts."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import boto3
import pytest

from roomchat import handlers, jobs, logs
from roomchat.adapters.dynamodb import (
    DynamoFanoutProgress,
    DynamoHistory,
    DynamoRateLimiter,
    DynamoRooms,
)
from roomchat.adapters.queue import SqsFanoutQueue
from roomchat.ports import Deadline, FanoutJob
from roomchat.usecases import ChatService
from roomchat.wiring import Container
from tests.unit.conftest import Context, Harness

ROOM = "big"


CALLBACK_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/test"


@pytest.fixture
def sqs(dynamodb):
    """A queue in the same moto account the tables live in (the dynamodb fixture's mock)."""
    client = boto3.client("sqs", region_name="us-east-1")
    url = client.create_queue(QueueName="fanout", Attributes={})["QueueUrl"]
    return client, url


@pytest.fixture
def tier(dynamodb, settings, sender, sqs):
    client, url = sqs
    settings = replace(
        settings,
        fanout_tier_threshold=5,
        fanout_chunk_size=4,
        fanout_step_size=2,
        callback_url=CALLBACK_URL,
    )
    container = Container(
        settings=settings,
        rooms=DynamoRooms(dynamodb, settings.rooms_table, settings.rooms_by_connection_index),
        history=DynamoHistory(dynamodb, settings.history_table),
        sender_for=lambda endpoint: sender if endpoint == CALLBACK_URL else None,
        limiter=DynamoRateLimiter(dynamodb, settings.history_table, settings.rate_limit_per_second),
        queue=SqsFanoutQueue(client, "fanout"),
        progress=DynamoFanoutProgress(dynamodb, settings.rooms_table),
    )
    handlers.use_container(container)
    yield Harness(dynamodb, settings, sender), client, url
    handlers.use_container(None)


def receive(client, url) -> list[dict]:
    """Every visible message, as SQS event records (what the event source mapping sends)."""
    records = []
    while True:
        resp = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            AttributeNames=["ApproximateReceiveCount"],
        )
        batch = resp.get("Messages", [])
        if not batch:
            return records
        for m in batch:
            records.append(
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                }
            )


def requeued(client, url) -> list:
    """The chunks a worker queued again, after their first backoff (DelaySeconds=1)."""
    time.sleep(1.2)
    return [jobs.decode(r["body"]) for r in peek(client, url)]


def peek(client, url) -> list[dict]:
    """The visible messages, left visible."""
    records = receive(client, url)
    for r in records:
        client.change_message_visibility(
            QueueUrl=url, ReceiptHandle=r["receiptHandle"], VisibilityTimeout=0
        )
    return records


def work(client, url, fail_ids: set[str] = frozenset()) -> list[dict]:
    """One round of the event source mapping: receive, invoke, delete what succeeded."""
    records = receive(client, url)
    if not records:
        return []
    answer = handlers.on_fanout({"Records": records}, Context())
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for r in records:
        if r["messageId"] not in failed:
            client.delete_message(QueueUrl=url, ReceiptHandle=r["receiptHandle"])
    return records


def members(chat: Harness, n: int) -> list[str]:
    ids = [f"c{i:02d}" for i in range(n)]
    for cid in ids:
        chat.join(cid, ROOM, f"user{cid}")
    for cid in ids:
        chat.sender.take(cid)
    chat.sender.attempts.clear()
    return ids


def test_small_room_stays_inline(tier):
    chat, client, url = tier
    ids = members(chat, 5)  # at the threshold: inline
    assert chat.send(ids[0], action="sendAll", roomId=ROOM, message="hi") is None
    assert all(len(chat.sender.take(c)) == 1 for c in ids)
    assert receive(client, url) == []


def test_big_room_is_queued_in_chunks_and_delivered_once(tier, capsys):
    chat, client, url = tier
    ids = members(chat, 11)
    capsys.readouterr()
    reply = chat.send(ids[0], action="sendAll", roomId=ROOM, message="hello all")
    # The sender's ack is the route's reply; nobody else was posted to yet.
    assert reply["type"] == "message" and reply["message"] == "hello all"
    assert all(chat.sender.take(c) == [] for c in ids)
    records = peek(client, url)
    bodies = [jobs.decode(r["body"]) for r in records]
    # 10 others in chunks of at most 4: 4 + 4 + 2, each carrying the frame and the ids.
    assert sorted(len(b.recipients) for b in bodies) == [2, 4, 4]
    assert sorted(c for b in bodies for c in b.recipients) == ids[1:]
    assert {b.message_id for b in bodies} == {reply["messageId"]}
    work(client, url)
    for cid in ids[1:]:
        frames = chat.sender.take(cid)
        assert [f["messageId"] for f in frames] == [reply["messageId"]], cid
    assert chat.sender.take(ids[0]) == []
    assert receive(client, url) == []
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    sent = [x for x in lines if x["event"] == "sent"]
    assert sent[0]["tier"] is True and sent[0]["members"] == 11 and sent[0]["chunksQueued"] == 3
    chunks = [x for x in lines if x["event"] == "fanout_chunk"]
    assert sum(x["delivered"] for x in chunks) == 10
    assert sum(x["members"] for x in chunks) == 10
    assert all(x["messageId"] == reply["messageId"] for x in chunks)
    assert all("_aws" in x for x in chunks)  # EMF metrics


def test_the_worker_posts_to_its_own_endpoint_whatever_the_chunk_says(tier, capsys):
    """A chunk naming another endpoint (whoever could queue one) does not choose where the
    worker's signed posts and the room's messages go: its own CALLBACK_URL does."""
    chat, client, url = tier
    ids = members(chat, 3)
    asked: list[str] = []
    handlers.container().sender_for = lambda endpoint: asked.append(endpoint) or chat.sender
    forged = FanoutJob("m1", ROOM, "https://attacker.example/x", '{"type":"message"}', (ids[1],))
    client.send_message(QueueUrl=url, MessageBody=jobs.encode(forged))
    capsys.readouterr()

    work(client, url)

    assert asked == [CALLBACK_URL]
    assert chat.sender.take(ids[1]) == [{"type": "message"}]
    assert "fanout_endpoint_ignored" in capsys.readouterr().out


def test_a_worker_without_its_callback_url_keeps_the_chunk_for_later(tier):
    chat, _, _ = tier
    handlers.container().settings = replace(chat.settings, callback_url=None)
    job = FanoutJob("m1", ROOM, CALLBACK_URL, '{"type":"message"}', ("c00",))
    record = {"messageId": "r1", "body": jobs.encode(job), "attributes": {}}
    answer = handlers.on_fanout({"Records": [record]}, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "r1"}]}


def test_failed_posts_are_requeued_alone_and_retried_without_duplicates(tier):
    chat, client, url = tier
    ids = members(chat, 9)
    chat.sender.failing.add(ids[3])
    reply = chat.send(ids[0], action="sendAll", roomId=ROOM, message="x")
    work(client, url)
    # The chunk holding ids[3] succeeded for the others; only ids[3] is queued again.
    again = requeued(client, url)
    assert [(j.recipients, j.attempt) for j in again] == [((ids[3],), 1)]
    chat.sender.failing.clear()
    work(client, url)
    assert receive(client, url) == []
    for cid in ids[1:]:
        assert [f["messageId"] for f in chat.sender.take(cid)] == [reply["messageId"]], cid
    # Each other member was posted to once, ids[3] twice (one failure, one delivery).
    attempts = [a for a in chat.sender.attempts if a in ids[1:]]
    assert sorted(attempts) == sorted([*ids[1:], ids[3]])


def test_recipients_failing_every_attempt_end_as_failed(tier, capsys):
    chat, client, url = tier
    svc = ChatService(
        handlers.container().rooms,
        handlers.container().history,
        chat.sender,
        replace(chat.settings, fanout_max_attempts=2),
        queue=handlers.container().queue,
        progress=handlers.container().progress,
    )
    chat.sender.failing.add("c1")
    job = FanoutJob("01MSG", ROOM, "http://x", '{"type":"message"}', ("c1", "c2"), attempt=1)
    counts = svc.deliver_chunk(job)
    assert (counts.delivered, counts.failed) == (1, 1)
    assert receive(client, url) == []


def test_a_redelivered_chunk_skips_what_its_dead_worker_settled(tier):
    chat, client, url = tier
    c = handlers.container()
    job = FanoutJob(
        "01MSG", ROOM, "http://x", '{"type":"message","n":1}', ("a", "b", "c", "d", "e")
    )

    class Crash(Exception):
        pass

    class DiesOnSecondStep:
        def __init__(self, inner):
            self.inner, self.calls = inner, 0

        def send_many(self, ids, data, deadline=None):
            self.calls += 1
            if self.calls == 2:
                raise Crash()
            return self.inner.send_many(ids, data, deadline)

    chat.sender.failing.add("b")
    dying = ChatService(
        c.rooms,
        c.history,
        DiesOnSecondStep(chat.sender),
        c.settings,
        queue=c.queue,
        progress=c.progress,
    )
    with pytest.raises(Crash):
        dying.deliver_chunk(job)
    assert chat.sender.attempts == ["a", "b"]  # step 1 of 2 ids, then the worker died
    chat.sender.failing.clear()
    svc = ChatService(
        c.rooms, c.history, chat.sender, c.settings, queue=c.queue, progress=c.progress
    )
    counts = svc.deliver_chunk(job, redelivered=True)
    # "a" was delivered before the crash: not posted again; "b" had failed: re-queued.
    assert chat.sender.attempts == ["a", "b", "c", "d", "e"]
    assert counts.delivered == 3
    again = requeued(client, url)
    assert [j.recipients for j in again] == [("b",)]


def test_a_gone_member_of_a_big_room_is_pruned_by_the_worker(tier):
    chat, client, url = tier
    ids = members(chat, 8)
    chat.sender.gone.add(ids[5])
    chat.send(ids[0], action="sendAll", roomId=ROOM, message="x")
    work(client, url)
    assert (ROOM, ids[5]) not in chat.memberships()
    # The others are told it left through the queue, like any frame to a big room: the worker
    # posted nothing but the message chunks itself.
    assert [f["type"] for f in chat.sender.take(ids[1])] == ["message"]
    jobs_queued = [jobs.decode(r["body"]) for r in peek(client, url)]
    assert {j.message_id.split("-")[0] for j in jobs_queued} == {"presence"}
    assert sorted(c for j in jobs_queued for c in j.recipients) == sorted(
        c for c in ids if c != ids[5]
    )
    work(client, url)
    leave = {"type": "presence", "event": "leave", "roomId": ROOM, "name": f"user{ids[5]}"}
    for cid in ids:
        if cid != ids[5]:
            frames = [f for f in chat.sender.take(cid) if f["type"] == "presence"]
            assert frames == [leave], cid  # exactly once
    assert receive(client, url) == []


def test_members_gone_together_cost_one_read_of_the_room_and_one_queued_leave_each(
    tier, monkeypatch
):
    chat, client, url = tier
    ids = members(chat, 10)
    gone = (ids[2], ids[3])  # both in the first chunk (ids 1-4)
    chat.sender.gone.update(gone)
    chat.send(ids[0], action="sendAll", roomId=ROOM, message="x")
    rooms = handlers.container().rooms
    reads: list[str] = []
    real = rooms.recipient_ids

    def counting(room_id, now_s):
        reads.append(room_id)
        return real(room_id, now_s)

    monkeypatch.setattr(rooms, "recipient_ids", counting)
    work(client, url)
    assert reads == [ROOM]  # one read of the room for both leaves
    leaves = [jobs.decode(r["body"]) for r in peek(client, url)]
    assert sorted(json.loads(j.frame)["name"] for j in leaves if j.chunk == 0) == sorted(
        f"user{c}" for c in gone
    )
    work(client, url)
    for cid in ids:
        if cid not in gone:
            names = [f["name"] for f in chat.sender.take(cid) if f["type"] == "presence"]
            assert sorted(names) == sorted(f"user{c}" for c in gone), cid


def test_a_leave_in_a_room_at_the_threshold_stays_inline(tier):
    chat, client, url = tier
    ids = members(chat, 7)
    gone = (ids[2], ids[3])  # both in the first chunk: 5 are left, the threshold
    chat.sender.gone.update(gone)
    chat.send(ids[0], action="sendAll", roomId=ROOM, message="x")
    work(client, url)
    assert receive(client, url) == []  # nothing queued: told inline, as in a small room
    for cid in ids:
        if cid not in gone:
            names = [f["name"] for f in chat.sender.take(cid) if f["type"] == "presence"]
            assert sorted(names) == sorted(f"user{c}" for c in gone), cid


def test_a_leave_the_queue_refuses_is_posted_by_the_worker(tier):
    chat, client, url = tier
    ids = members(chat, 8)
    chat.sender.gone.add(ids[5])
    chat.send(ids[0], action="sendAll", roomId=ROOM, message="x")
    records = receive(client, url)
    client.delete_queue(QueueUrl=url)
    handlers.on_fanout({"Records": records}, Context())
    for cid in ids:
        if cid not in (ids[0], ids[5]):
            assert [f["type"] for f in chat.sender.take(cid)] == ["message", "presence"], cid


def test_the_worker_stops_before_its_deadline_and_requeues_the_rest(tier):
    chat, client, url = tier
    c = handlers.container()
    # Time for the first step of two posts (FakeSender ignores the deadline), not the second.
    left = [10_000]
    deadline = Deadline(lambda: left.pop() if left else 100, start_margin_ms=3000)
    svc = ChatService(
        c.rooms,
        c.history,
        chat.sender,
        c.settings,
        deadline=deadline,
        queue=c.queue,
        progress=c.progress,
    )
    job = FanoutJob("01MSG", ROOM, "http://x", '{"type":"message"}', ("a", "b", "c", "d"))
    counts = svc.deliver_chunk(job)
    assert counts.delivered == 2
    again = requeued(client, url)
    assert [j.recipients for j in again] == [("c", "d")]


def test_a_queue_outage_falls_back_to_inline_delivery(tier):
    chat, client, url = tier
    ids = members(chat, 7)
    client.delete_queue(QueueUrl=url)
    reply = chat.send(ids[0], action="sendAll", roomId=ROOM, message="x")
    for cid in ids[1:]:
        assert [f["messageId"] for f in chat.sender.take(cid)] == [reply["messageId"]]


def test_a_record_that_is_not_a_chunk_is_dropped_not_retried(tier):
    answer = handlers.on_fanout(
        {"Records": [{"messageId": "m1", "body": "{}", "attributes": {}}]}, Context()
    )
    assert answer == {"batchItemFailures": []}


def test_chunks_fit_the_sqs_message_limit_beside_a_large_frame():
    ids = [f"{i:016d}=" for i in range(20_000)]
    frame_bytes = 32 * 1024
    chunks = jobs.split(ids, 5000, frame_bytes)
    assert sum(len(c) for c in chunks) == len(ids)
    frame = json.dumps({"type": "message", "message": "x" * (frame_bytes - 40)})
    for c in chunks:
        body = jobs.encode(FanoutJob("m", "r", "http://x", frame, tuple(c)))
        assert len(body.encode()) <= jobs.SQS_MAX_BYTES


def test_metrics_logged(capsys):
    logs.metrics("x", {"a": (1, logs.COUNT)})
    assert "_aws" in capsys.readouterr().out


class CountingSqs:
    """An SQS client that counts GetQueueUrl calls."""

    def __init__(self, client):
        self._client = client
        self.lookups = 0

    def get_queue_url(self, **kwargs):
        self.lookups += 1
        return self._client.get_queue_url(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_the_queue_is_found_by_name_once_and_may_appear_after_the_function(dynamodb):
    """The functions know the queue by name (FANOUT_QUEUE_NAME), so they may run before it
    exists (a deployment under way): an enqueue then refuses its jobs (nothing is lost silently:
    the caller gets them back) and the next one, once the queue exists, finds it; the URL is
    looked up once and kept."""
    client = CountingSqs(boto3.client("sqs", region_name="us-east-1"))
    queue = SqsFanoutQueue(client, "later")
    job = FanoutJob("m1", ROOM, "https://cb", '{"type":"message"}', ("c1", "c2"))
    assert queue.enqueue([job]) == [job]
    url = client.create_queue(QueueName="later")["QueueUrl"]
    assert queue.enqueue([job]) == []
    assert queue.enqueue([job]) == []
    assert client.lookups == 1 + 2 + 1  # three tries of the refused batch, then one lookup
    bodies = [
        m["Body"] for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert [jobs.decode(b) for b in bodies] == [job, job]
