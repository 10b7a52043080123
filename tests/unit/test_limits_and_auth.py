"""Per-connection rate limit and the signed-token authorizer on $connect."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from roomchat import handlers, protocol
from roomchat.adapters.dynamodb import DynamoHistory, DynamoRateLimiter, DynamoRooms
from roomchat.auth import InvalidToken, sign, verify
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


SECRET = b"s3cret-for-tests"


def _token(now_s=1_800_000_000, **claims):
    return sign({"sub": "user-1", "exp": now_s + 60, **claims}, SECRET)


def test_token_round_trip_keeps_the_claims():
    claims = verify(_token(name="ana"), SECRET, 1_800_000_000)
    assert claims["sub"] == "user-1" and claims["name"] == "ana"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "missing"),
        (None, "missing"),
        ("v2.e30.x", "not a v1"),
        ("v1.only-two", "not a v1"),
        (_token()[:-2] + "AA", "bad signature"),
        (_token().replace("v1.", "v1.x", 1), "bad signature"),
        (sign({"sub": "u", "exp": 1_799_999_999}, SECRET), "expired"),
        (sign({"sub": "u", "exp": 1_800_000_060}, b"other secret"), "bad signature"),
        (sign({"exp": 1_800_000_060}, SECRET), "no subject"),
        (sign({"sub": "u", "exp": 1_800_000_060, "name": "x" * 40}, SECRET), "name"),
        ("v1." + "a" * 3000 + ".b", "too long"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(token, reason):
    with pytest.raises(InvalidToken, match=reason):
        verify(token, SECRET, 1_800_000_000)


ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/test/$connect"


def _authorize(query):
    return handlers.on_authorize({"methodArn": ARN, "queryStringParameters": query}, Context())


def test_authorizer_allows_a_good_token_and_passes_the_name(monkeypatch):
    import time

    monkeypatch.setenv("AUTH_SECRET", SECRET.decode())
    monkeypatch.setattr(handlers, "_secret_source", None)

    answer = _authorize({"token": _token(int(time.time()), name="ana")})

    [statement] = answer["policyDocument"]["Statement"]
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}
    assert answer["principalId"] == "user-1"
    assert answer["context"] == {"sub": "user-1", "name": "ana"}


def test_authorizer_denies_bad_and_expired_tokens(monkeypatch):
    monkeypatch.setenv("AUTH_SECRET", SECRET.decode())
    monkeypatch.setattr(handlers, "_secret_source", None)

    for token in ["garbage", _token(1_000_000_000)]:
        answer = _authorize({"token": token})
        assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        assert "context" not in answer


def test_authorizer_without_a_token_is_unauthorized(monkeypatch):
    monkeypatch.setenv("AUTH_SECRET", SECRET.decode())
    monkeypatch.setattr(handlers, "_secret_source", None)

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _authorize({})
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _authorize(None)


def test_authorizer_reads_the_secret_from_ssm(monkeypatch):
    import time

    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("ssm").put_parameter(
            Name="/roomchat/secret", Value=SECRET.decode(), Type="SecureString"
        )
        monkeypatch.delenv("AUTH_SECRET", raising=False)
        monkeypatch.setenv("AUTH_SECRET_PARAMETER", "/roomchat/secret")
        monkeypatch.setattr(handlers, "_secret_source", None)

        answer = _authorize({"token": _token(int(time.time()))})

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


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
