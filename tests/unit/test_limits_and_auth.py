"""Per-connection rate limit, and a verified token's name in the chat."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from roomchat import handlers, protocol
from roomchat.adapters.dynamodb import DynamoHistory, DynamoRateLimiter, DynamoRooms
from roomchat.errors import RateLimited
from roomchat.ulid import UlidGenerator
from roomchat.usecases import Caller, ChatService
from tests.unit.conftest import Context, FakeSender

NOW_MS = 1_800_000_000_123


def test_rate_limiter_allows_n_per_second_per_connection(dynamodb):
    limiter = DynamoRateLimiter(dynamodb, "history", per_second=3)

    first_second = [limiter.allow("A", NOW_MS + i) for i in range(5)]

    assert first_second == [True, True, True, False, False]
    assert limiter.allow("B", NOW_MS)  # another connection has its own budget
    assert limiter.allow("A", NOW_MS + 1000)  # the next second starts afresh


@pytest.fixture
def service(dynamodb, settings):
    sender = FakeSender()
    svc = ChatService(
        DynamoRooms(dynamodb, "rooms", "byConnection"),
        DynamoHistory(dynamodb, "history"),
        sender,
        replace(settings, rate_limit_per_second=2),
        limiter=DynamoRateLimiter(dynamodb, "history", per_second=2),
        clock=lambda: now[0],
        new_id=UlidGenerator(),  # its own, so the fixed clock leaves the shared one alone
    )
    now = [NOW_MS - 1000]  # the join counts against the second before the sends
    caller = Caller("A", NOW_MS - 1000)
    svc.join(caller, protocol.JoinRequest("lobby", "ana"))
    now[0] = NOW_MS
    sender.take("A")
    return svc, caller, sender


def test_a_sender_over_the_limit_is_refused_and_nothing_is_stored_or_sent(service):
    svc, caller, sender = service
    send = protocol.SendRequest("lobby", "hi", None)
    svc.send(caller, send)
    svc.send(caller, send)

    with pytest.raises(RateLimited) as refused:
        svc.send(caller, send)

    assert refused.value.code == "rate_limited"
    assert len(sender.take("A")) == 2
    assert len(svc.history.page("lobby", 10, None).messages) == 2


def test_rate_limited_reply_frame(chat, settings):
    handlers.container().settings = replace(settings, rate_limit_per_second=1)
    handlers.container().limiter = DynamoRateLimiter(chat.db, "history", per_second=1)
    chat.join("A", "lobby", "ana")
    replies = [chat.send("A", action="sendAll", roomId="lobby", message="x") for _ in range(3)]

    # at most one per second gets through; three sends can straddle at most two seconds
    refused = [r for r in replies if r is not None]
    assert len(refused) >= 1
    assert all(r["code"] == "rate_limited" and r["action"] == "sendAll" for r in refused)


# The token authorizer itself: tests/unit/test_tokens.py.


def test_a_token_name_makes_a_bad_query_name_irrelevant(chat):
    event = chat.event("A", "$connect", queryStringParameters={"name": "x" * 40})
    event["requestContext"]["authorizer"] = {"principalId": "user-1", "name": "ana"}

    assert handlers.on_connect(event, Context())["statusCode"] == 200
    assert chat.send("A", action="join", roomId="lobby")["name"] == "ana"


def test_name_from_the_token_wins_over_the_name_sent(chat):
    event = chat.event(
        "A",
        "join",
        json.dumps({"action": "join", "roomId": "lobby", "name": "mallory"}),
        requestContext={
            **chat.event("A", "join")["requestContext"],
            "authorizer": {"principalId": "user-1", "name": "ana"},
        },
    )

    reply = json.loads(handlers.on_join(event, Context())["body"])

    assert reply["name"] == "ana"
