"""DynamoDB throttling and errors, injected in front of a real emulator, through the real
wiring (botocore clients with their standard retry policy)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from roomchat import handlers
from roomchat.settings import Settings
from roomchat.wiring import build_container
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE
from tests.unit.conftest import FakeSender, Harness

ATTEMPTS = 5  # the DynamoDB client's total_max_attempts in roomchat.wiring


@pytest.fixture
def chat(moto_server, fault_proxy, monkeypatch):
    # Keep the retry count real but the backoff short: these tests count attempts, not seconds.
    monkeypatch.setattr(
        "botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, ctx: 0.01
    )
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        rooms_table=f"rooms-{suffix}",
        history_table=f"history-{suffix}",
        rooms_by_connection_index=ROOMS_BY_CONNECTION_INDEX,
        rate_limit_per_second=1000,
    )
    direct = boto3.client("dynamodb", endpoint_url=moto_server[0])
    direct.create_table(TableName=settings.rooms_table, **ROOMS_TABLE)
    direct.create_table(TableName=settings.history_table, **HISTORY_TABLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fault_proxy.url)
    container = build_container(settings)
    sender = FakeSender()
    container.sender_for = lambda endpoint: sender
    handlers.use_container(container)
    harness = Harness(direct, settings, sender)
    harness.join("A", "lobby", "ana")
    harness.join("B", "lobby", "bob")
    sender.take("A")
    sender.take("B")
    fault_proxy.reset()
    yield harness
    handlers.use_container(None)


def test_throttled_history_write_is_retried_and_then_delivered(chat, fault_proxy):
    fault_proxy.fail("PutItem", times=2)

    reply = chat.send("A", action="sendAll", roomId="lobby", message="hi")

    assert reply is None
    assert [f["message"] for f in chat.sender.take("B")] == ["hi"]
    assert len(chat.history_items("lobby")) == 1
    assert (fault_proxy.injected["PutItem"], fault_proxy.calls["PutItem"]) == (2, 3)


def test_history_write_that_keeps_failing_is_internal_and_delivers_nothing(chat, fault_proxy):
    fault_proxy.fail("PutItem", times=ATTEMPTS)

    reply = chat.send("A", action="sendAll", roomId="lobby", message="lost?", clientMsgId="k")

    assert reply["code"] == "internal" and reply["clientMsgId"] == "k"
    assert chat.sender.take("A") == [] and chat.sender.take("B") == []
    assert chat.history_items("lobby") == []
    assert fault_proxy.calls["PutItem"] == ATTEMPTS


def test_the_sender_can_retry_after_an_internal_error_without_duplicates(chat, fault_proxy):
    # given a send whose clientMsgId claim went through (on its 2nd attempt) but whose message
    # write then failed on every attempt
    fault_proxy.fail("PutItem", times=1 + ATTEMPTS)
    first = chat.send("A", action="sendAll", roomId="lobby", message="m", clientMsgId="k")
    assert first["code"] == "internal"

    # when the client retries with the same clientMsgId
    assert chat.send("A", action="sendAll", roomId="lobby", message="m", clientMsgId="k") is None

    # then it is stored and delivered once
    assert [f["message"] for f in chat.sender.take("B")] == ["m"]
    assert len(chat.history_items("lobby")) == 1


def test_throttled_reads_are_retried(chat, fault_proxy):
    fault_proxy.fail("Query", times=3)
    fault_proxy.fail("GetItem", times=2)

    reply = chat.send("A", action="members", roomId="lobby")

    assert reply["members"] == ["ana", "bob"]
    assert fault_proxy.injected["Query"] == 3 and fault_proxy.injected["GetItem"] == 2


def test_read_that_keeps_failing_is_an_internal_error_frame(chat, fault_proxy):
    fault_proxy.fail("GetItem", times=ATTEMPTS)

    reply = chat.send("A", action="history", roomId="lobby")

    assert reply["type"] == "error" and reply["code"] == "internal"


def test_server_errors_are_retried_too(chat, fault_proxy):
    fault_proxy.fail("PutItem", times=2, error=("InternalServerError", 500))

    assert chat.send("A", action="sendAll", roomId="lobby", message="hi") is None
    assert [f["message"] for f in chat.sender.take("B")] == ["hi"]
