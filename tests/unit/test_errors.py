"""Bad input and failures: the right error frame, and nothing written to either table."""

from __future__ import annotations

import json

import pytest

from roomchat import handlers
from roomchat.errors import StorageError
from roomchat.ports import Appended
from tests.unit.conftest import Context


@pytest.fixture
def member(chat):
    chat.join("A", "lobby", "ana")
    chat.sender.take("A")
    return chat


BAD_FRAMES = [
    # (raw body, expected code, expected action in the error frame)
    ("this is not json", "bad_request", None),
    ("", "bad_request", None),
    ("[1, 2, 3]", "bad_request", None),
    ('"just a string"', "bad_request", None),
    ('{"roomId": "lobby"}', "bad_request", None),
    ('{"action": 42}', "bad_request", None),
    ('{"action": "dance"}', "unknown_action", None),
    ('{"action": "sendAll"}', "bad_request", "sendAll"),
    ('{"action": "sendAll", "roomId": "lobby"}', "bad_request", "sendAll"),
    ('{"action": "sendAll", "roomId": "lobby", "message": ""}', "bad_request", "sendAll"),
    ('{"action": "sendAll", "roomId": "lobby", "message": 5}', "bad_request", "sendAll"),
    ('{"action": "sendAll", "roomId": "lobby", "message": ["x"]}', "bad_request", "sendAll"),
    ('{"action": "sendAll", "roomId": "lob by", "message": "x"}', "bad_request", "sendAll"),
    ('{"action": "sendAll", "roomId": "conn#A", "message": "x"}', "bad_request", "sendAll"),
    (
        '{"action": "sendAll", "roomId": "' + "r" * 65 + '", "message": "x"}',
        "bad_request",
        "sendAll",
    ),
    ('{"action": "sendAll", "roomId": "lobby", "message": "\\ud800"}', "bad_request", "sendAll"),
    (
        '{"action": "sendAll", "roomId": "lobby", "message": "x", "clientMsgId": "a b"}',
        "bad_request",
        "sendAll",
    ),
    ('{"action": "sendAll", "roomId": "elsewhere", "message": "x"}', "not_member", "sendAll"),
    ('{"action": "join"}', "bad_request", "join"),
    ('{"action": "join", "roomId": 7, "name": "ana"}', "bad_request", "join"),
    ('{"action": "join", "roomId": "lobby", "name": "   "}', "bad_request", "join"),
    ('{"action": "join", "roomId": "lobby", "name": "' + "n" * 33 + '"}', "bad_request", "join"),
    ('{"action": "join", "roomId": "lobby", "name": "tab\\there"}', "bad_request", "join"),
    ('{"action": "leave", "roomId": ""}', "bad_request", "leave"),
    ('{"action": "leave", "roomId": "elsewhere"}', "not_member", "leave"),
    ('{"action": "history", "roomId": "lobby", "limit": 0}', "bad_request", "history"),
    ('{"action": "history", "roomId": "lobby", "limit": 101}', "bad_request", "history"),
    ('{"action": "history", "roomId": "lobby", "limit": "10"}', "bad_request", "history"),
    ('{"action": "history", "roomId": "lobby", "limit": true}', "bad_request", "history"),
    ('{"action": "history", "roomId": "lobby", "limit": 2.5}', "bad_request", "history"),
    ('{"action": "history", "roomId": "lobby", "before": "nope"}', "bad_request", "history"),
    ('{"action": "history", "roomId": "elsewhere"}', "not_member", "history"),
    ('{"action": "members"}', "bad_request", "members"),
    ('{"action": "members", "roomId": "elsewhere"}', "not_member", "members"),
]


@pytest.mark.parametrize(("body", "code", "action"), BAD_FRAMES)
def test_bad_frame_gets_its_error_code_and_writes_nothing(member, body, code, action):
    before = member.items()

    response = member.raw("A", body)

    frame = json.loads(response["body"])
    assert frame["type"] == "error"
    assert frame["code"] == code
    assert frame["action"] == action
    assert isinstance(frame["message"], str) and frame["message"]
    assert response["statusCode"] >= 400
    assert member.items() == before
    assert member.sender.take("A") == []


def test_error_names_the_room_when_the_request_named_a_valid_one(member):
    reply = member.send("A", action="history", roomId="lobby", limit=500)
    assert reply["code"] == "bad_request" and reply["roomId"] == "lobby"

    reply = member.send("A", action="history", roomId="not valid!", limit=5)
    assert reply["code"] == "bad_request" and "roomId" not in reply


def test_oversize_message_is_too_large_and_writes_nothing(member):
    before = member.items()
    big = "é" * (member.settings.max_message_bytes // 2 + 1)  # 2 UTF-8 bytes each

    reply = member.send("A", action="sendAll", roomId="lobby", message=big, clientMsgId="big")

    assert reply["code"] == "too_large"
    assert str(member.settings.max_message_bytes) in reply["message"]
    assert reply["clientMsgId"] == "big"
    assert member.items() == before


def test_message_at_the_byte_limit_is_accepted(member):
    exact = "x" * member.settings.max_message_bytes

    assert member.send("A", action="sendAll", roomId="lobby", message=exact) is None
    assert member.sender.take("A")[0]["message"] == exact


def test_unknown_action_error_names_the_known_ones(member):
    reply = member.send("A", action="dance")

    assert reply["code"] == "unknown_action"
    assert "'dance'" in reply["message"] and "sendAll" in reply["message"]


class FailingHistory:
    def __init__(self):
        self.calls = 0

    def append(self, message, expires_at, idem_expires_at) -> Appended:
        self.calls += 1
        raise StorageError("PutItem history failed: ProvisionedThroughputExceededException")

    def page(self, room_id, limit, before):
        raise StorageError("Query history failed: ProvisionedThroughputExceededException")


def test_history_write_failure_tells_sender_internal_and_delivers_nothing(member):
    member.join("B", "lobby", "bob")
    member.sender.take("A")
    member.sender.take("B")
    handlers.container().history = FailingHistory()

    reply = member.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="c9")

    assert reply["code"] == "internal"
    assert reply["clientMsgId"] == "c9"
    assert member.sender.take("A") == [] and member.sender.take("B") == []


def test_unexpected_exception_becomes_an_internal_error_frame(member):
    class Exploding:
        def page(self, *a, **k):
            raise RuntimeError("boom")

    handlers.container().history = Exploding()

    response = member.raw("A", json.dumps({"action": "history", "roomId": "lobby"}))

    assert response["statusCode"] == 500
    frame = json.loads(response["body"])
    assert frame["code"] == "internal" and "boom" not in frame["message"]


def test_disconnect_failure_is_logged_not_raised(chat, capsys):
    class BrokenRooms:
        def memberships_of(self, cid):
            raise StorageError("Query rooms index failed: InternalServerError")

    handlers.container().rooms = BrokenRooms()

    assert chat.disconnect("A")["statusCode"] == 500
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(r["event"] == "unhandled" and r["connectionId"] == "A" for r in logged)


def test_logs_are_json_with_the_invocation_context(member, capsys):
    member.send("A", action="sendAll", roomId="lobby", message="hi")

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [sent] = [r for r in records if r["event"] == "sent"]
    assert sent["connectionId"] == "A" and sent["roomId"] == "lobby"
    assert sent["action"] == "sendAll" and sent["requestId"] == Context.aws_request_id
    assert (sent["members"], sent["delivered"], sent["pruned"], sent["failed"]) == (1, 1, 0, 0)
