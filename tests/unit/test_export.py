"""roomchat export: history to JSON lines through the functions' own history adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roomchat.adapters.dynamodb import DynamoHistory
from roomchat.ports import Message
from roomchat.ulid import new_ulid
from roomchat_tools import export

TABLE_ARGS = ["--table", "history", "--region", "us-east-1"]


def _store(db, room: str, count: int, start_ms: int = 1_700_000_000_000) -> list[str]:
    history = DynamoHistory(db, "history")
    ids = []
    for i in range(count):
        now = start_ms + i
        message = Message(
            room_id=room,
            message_id=new_ulid(now),
            sent_at=f"2023-11-14T22:13:{i % 60:02d}.000Z",
            sender="ana",
            message=f"message {i} żółw",
            client_msg_id=f"c{i}",
            connection_id="A",
        )
        history.append(message, expires_at=None, idem_expires_at=now // 1000 + 600)
        ids.append(message.message_id)
    return ids


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_room_exports_every_message_oldest_first_across_pages(dynamodb, tmp_path):
    # given: more messages than one page of the history action (100)
    ids = _store(dynamodb, "lobby", 230)
    _store(dynamodb, "other", 3)
    out = tmp_path / "lobby.jsonl"

    assert export.main(["--room", "lobby", "--out", str(out), *TABLE_ARGS]) == 0

    lines = _lines(out)
    assert [line["messageId"] for line in lines] == ids  # all of them, in time order
    assert {line["roomId"] for line in lines} == {"lobby"}
    assert lines[0] == {
        "roomId": "lobby",
        "messageId": ids[0],
        "sentAt": "2023-11-14T22:13:00.000Z",
        "sender": "ana",
        "message": "message 0 żółw",
        "clientMsgId": "c0",
        "authorId": "A",  # the protocol's message frame, as the history action sends it
    }


def test_all_rooms_skips_rate_limit_and_idempotency_partitions(chat, tmp_path):
    # given: real sends (which also write idempotency marks and rate-limit counters)
    chat.connect("A")
    chat.join("A", "lobby", "ana")
    chat.join("A", "side.room", "ana")
    chat.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="m1")
    chat.send("A", action="sendAll", roomId="side.room", message="there")
    partitions = {i["roomId"]["S"] for i in chat.db.scan(TableName="history")["Items"]}
    assert any("#" in p for p in partitions)  # the marks and counters exist
    out = tmp_path / "all.jsonl"

    assert export.main(["--all", "--out", str(out), *TABLE_ARGS]) == 0

    lines = _lines(out)
    assert [(line["roomId"], line["message"]) for line in lines] == [
        ("lobby", "hi"),
        ("side.room", "there"),
    ]
    assert export.rooms(chat.db, "history") == ["lobby", "side.room"]


def test_an_empty_room_exports_nothing(dynamodb, tmp_path, capsys):
    out = tmp_path / "none.jsonl"
    assert export.main(["--room", "empty", "--out", str(out), *TABLE_ARGS]) == 0
    assert out.read_text() == ""
    assert "exported 0 messages" in capsys.readouterr().err


def test_a_bad_room_id_is_refused_before_reading(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        export.main(["--room", "no#rooms", *TABLE_ARGS])
    assert refused.value.code == 2
    assert "--room must be" in capsys.readouterr().err


def test_a_missing_table_is_an_error_not_a_crash(dynamodb, capsys):
    assert export.main(["--room", "lobby", "--table", "nope", "--region", "us-east-1"]) == 1
    assert "cannot export history" in capsys.readouterr().err


def test_the_history_command_pages_through_the_history_adapter(dynamodb, capsys):
    """`roomchat history` reads pages through DynamoHistory.page (the history action's Query):
    the same messages, cursors and record shape as the export."""
    from roomchat_tools import history

    ids = _store(dynamodb, "lobby", 7)
    pages = []
    before: list[str] = []
    while True:
        assert (
            history.main(["--room", "lobby", "--limit", "3", "--json", *TABLE_ARGS, *before]) == 0
        )
        page = json.loads(capsys.readouterr().out)
        pages.append([m["messageId"] for m in page["messages"]])
        if not page["next"]:
            break
        assert page["next"] == page["messages"][0]["messageId"]
        before = ["--before", page["next"]]

    assert pages == [ids[4:7], ids[1:4], ids[0:1]]
    assert page["messages"][0] == {
        "roomId": "lobby",
        "messageId": ids[0],
        "sentAt": "2023-11-14T22:13:00.000Z",
        "sender": "ana",
        "message": "message 0 żółw",
        "clientMsgId": "c0",
        "authorId": "A",  # the protocol's message frame, as the history action sends it
    }
