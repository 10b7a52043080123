"""Smaller defects found by checking the code against AWS's documented behaviour: malformed
tokens, the rate limit on join/leave and on retries, log context on fan-out threads, the
fan-out deadline, the authorizer's secret rotation, and the storage layout staying in the
adapter."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import threading
import time
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from roomchat import handlers, logs, usecases
from roomchat.adapters.connections import ManagementApiSender, SharedExecutor
from roomchat.adapters.dynamodb import DynamoRateLimiter, DynamoRooms
from roomchat.adapters.secrets import CachedParameter
from roomchat.errors import StorageError
from roomchat.ports import Deadline, Delivery
from tests.unit.conftest import Context

# ---------------------------------------------------------------- the authorizer


# Malformed tokens and key rotation: tests/unit/test_tokens.py.


class FakeSsm:
    def __init__(self):
        self.value, self.calls, self.fail = "one", 0, False

    def get_parameter(self, Name, WithDecryption):
        self.calls += 1
        if self.fail:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetParameter")
        return {"Parameter": {"Value": self.value}}


def test_the_cached_secret_is_read_again_after_its_ttl_and_kept_when_a_refresh_fails():
    ssm, now = FakeSsm(), [0.0]
    secret = CachedParameter(lambda: ssm, "/p", ttl_seconds=300, clock=lambda: now[0])

    assert secret() == b"one"
    ssm.value = "two"
    now[0] = 299
    assert (secret(), ssm.calls) == (b"one", 1)  # cached within the TTL
    now[0] = 301
    assert secret() == b"two"  # rotated secret picked up
    ssm.value, ssm.fail = "three", True
    now[0] = 700
    assert secret() == b"two"  # SSM throttled: the secret in hand still works
    assert secret() == b"two" and ssm.calls == 3  # and SSM is not asked on every call
    ssm.fail = False
    now[0] = 731
    assert secret() == b"three"


def test_without_any_secret_in_hand_a_failed_read_is_an_error():
    ssm = FakeSsm()
    ssm.fail = True
    with pytest.raises(StorageError, match="ThrottlingException"):
        CachedParameter(lambda: ssm, "/p", ttl_seconds=300)()


def test_handlers_read_no_environment_or_ssm_themselves():
    source = inspect.getsource(handlers)
    assert "os.environ" not in source and "ssm" not in source.lower().replace("ssm ", "")


# ---------------------------------------------------------------- rate limits


class SettableSecondLimiter(DynamoRateLimiter):
    """The real limiter, counting every request in the second the test chooses."""

    second_ms = 1_800_000_000_500

    def allow(self, connection_id: str, now_ms: int) -> bool:
        return super().allow(connection_id, self.second_ms)


@pytest.fixture
def limited(chat, settings):
    """One request a second per connection."""
    handlers.container().settings = replace(settings, rate_limit_per_second=1)
    handlers.container().limiter = SettableSecondLimiter(chat.db, "history", per_second=1)
    return chat


def _but_strikes(items: dict) -> dict:
    """Every item but the refusals' strike counts: a refusal for rate counts one against its
    connection (closed after STRIKES_BEFORE_CLOSE in a minute, docs/limits.md), and writes
    nothing else."""
    return {
        table: [i for i in found if not i["roomId"]["S"].startswith("rate#strike#")]
        for table, found in items.items()
    }


def test_join_over_the_rate_limit_writes_nothing_and_tells_no_one(limited):
    limited.join("B", "lobby", "bob")  # B's own budget
    limited.join("A", "side", "ana")  # A's one request this second
    limited.sender.take("B")
    before = limited.items()

    reply = limited.send("A", action="join", roomId="lobby", name="ana")

    assert reply["code"] == "rate_limited" and reply["action"] == "join"
    assert _but_strikes(limited.items()) == before
    assert limited.sender.take("B") == []


def test_leave_over_the_rate_limit_writes_nothing_and_tells_no_one(limited):
    limited.join("B", "lobby", "bob")
    limited.join("A", "lobby", "ana")
    limited.sender.take("B")
    before = limited.items()

    reply = limited.send("A", action="leave", roomId="lobby")

    assert reply["code"] == "rate_limited" and reply["action"] == "leave"
    assert _but_strikes(limited.items()) == before
    assert limited.sender.take("B") == []


def test_a_retry_over_the_rate_limit_is_answered_with_the_stored_message(limited):
    # given a message stored with clientMsgId k1 (the join and the send in different seconds)
    limited.join("A", "lobby", "ana")
    limited.join("B", "lobby", "bob")
    handlers.container().limiter.second_ms += 1000
    limited.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="k1")
    [first] = [f for f in limited.sender.take("A") if f["type"] == "message"]
    limited.sender.take("B")

    # when the client retries it within the same second (over the limit)
    reply = limited.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="k1")

    # then it is acknowledged with the stored message, to the sender only
    assert reply == first
    assert limited.sender.take("B") == []
    assert len(limited.history_items("lobby")) == 1
    # and a new message over the limit is still refused
    other = limited.send("A", action="sendAll", roomId="lobby", message="more", clientMsgId="k2")
    assert other["code"] == "rate_limited"


# ---------------------------------------------------------------- fan-out threads


def _error(code: str, status: int) -> ClientError:
    response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PostToConnection")


class SlowClient:
    """Posts take ``seconds``; ids in ``stuck`` hang until released; ``failing`` ids fail."""

    def __init__(self, seconds=0.0, stuck=(), failing=()):
        self.seconds, self.stuck, self.failing = seconds, set(stuck), set(failing)
        self.release = threading.Event()
        self.started: list[str] = []

    def post_to_connection(self, ConnectionId, Data):
        self.started.append(ConnectionId)
        if ConnectionId in self.stuck:
            self.release.wait(10)
        time.sleep(self.seconds)
        if ConnectionId in self.failing:
            raise _error("InternalServerError", 500)
        return {}


def test_fan_out_log_lines_keep_the_invocation_context(capsys):
    sender = ManagementApiSender(SlowClient(failing={"b", "c"}), SharedExecutor(4))
    logs.bind(requestId="req-9", connectionId="A", action="sendAll")
    logs.extend(roomId="lobby")

    sender.send_many(["a", "b", "c", "d"], b"x")

    failed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["target"] for r in failed if r["event"] == "post_failed") == ["b", "c"]
    for record in failed:
        assert (record["requestId"], record["connectionId"], record["roomId"]) == (
            "req-9",
            "A",
            "lobby",
        )


def test_posts_not_started_before_the_margin_are_counted_timed_out():
    started_at = time.monotonic()

    def remaining_ms():  # an invocation with 3.5 s left when the fan-out starts
        return int(3500 - (time.monotonic() - started_at) * 1000)

    client = SlowClient(seconds=0.2)
    sender = ManagementApiSender(client, SharedExecutor(2))
    ids = [f"c{i}" for i in range(20)]

    outcomes = sender.send_many(ids, b"x", deadline=Deadline(remaining_ms))

    delivered = [c for c, o in outcomes.items() if o is Delivery.DELIVERED]
    timed_out = [c for c, o in outcomes.items() if o is Delivery.TIMED_OUT]
    assert len(delivered) + len(timed_out) == 20
    assert 0 < len(delivered) < 20 and sorted(client.started) == sorted(delivered)


class CountdownContext(Context):
    """A Lambda context whose remaining time runs out like a real invocation's."""

    def __init__(self, timeout_ms: int):
        self.deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def test_a_fan_out_running_out_of_time_logs_its_counts_and_returns_in_time(chat, capsys):
    # given a room whose members' posts are slow, one of them hanging
    for i in range(47):
        DynamoRooms(chat.db, "rooms", "byConnection").put_member(
            usecases.Member("lobby", f"m{i:02d}", f"n{i}", "2027-01-01T00:00:00.000Z", 2**31)
        )
    chat.join("A", "lobby", "ana")
    client = SlowClient(seconds=0.5, stuck={"m03"})
    handlers.container().sender_for = lambda endpoint: ManagementApiSender(
        client, SharedExecutor(4)
    )
    capsys.readouterr()
    timeout_ms = 6000  # posts start while 1.5 s are left, are waited for while 0.6 s are
    event = chat.event(
        "A", "sendAll", json.dumps({"action": "sendAll", "roomId": "lobby", "message": "hi"})
    )

    # when
    started = time.monotonic()
    try:
        handlers.on_send_all(event, CountdownContext(timeout_ms))
        took_ms = (time.monotonic() - started) * 1000
    finally:
        client.release.set()

    # then it returned before the function's timeout, and logged what it did
    assert took_ms < timeout_ms
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [sent] = [r for r in records if r["event"] == "sent"]
    assert sent["members"] == 48
    assert sent["timedOut"] > 1 and sent["delivered"] > 0  # the stuck post and unstarted ones
    assert sent["delivered"] + sent["failed"] + sent["timedOut"] + sent["pruned"] == 48
    assert len(client.started) < 48


def test_a_short_function_timeout_still_posts():
    # a function configured with a 2 s timeout: the default 3 s margin would refuse every post
    deadline = Deadline.of_invocation(lambda: 1900)
    sender = ManagementApiSender(SlowClient(), SharedExecutor(2))

    outcomes = sender.send_many(["a", "b", "c"], b"x", deadline=deadline)

    assert set(outcomes.values()) == {Delivery.DELIVERED}
    assert Deadline.of_invocation(lambda: 15_000).start_margin_ms == 3000


# ---------------------------------------------------------------- the storage layout


def test_use_cases_know_nothing_of_how_connections_are_stored():
    for module in pkgutil.iter_modules(usecases.__path__, usecases.__name__ + "."):
        source = inspect.getsource(importlib.import_module(module.name))
        assert "conn#" not in source and "PROFILE" not in source, module.name


def test_memberships_of_returns_room_memberships_only(chat):
    chat.connect("A", name="ana")
    chat.join("A", "lobby", "ana")
    chat.join("A", "side", "ana")

    found = DynamoRooms(chat.db, "rooms", "byConnection").memberships_of("A")

    assert sorted(m.room_id for m in found) == ["lobby", "side"]
