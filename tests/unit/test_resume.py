"""Resume (issue 23): join/resume with ``after`` and ``history`` with ``after`` replay every
message after a point, in order, within the reply budget, with the changes since; past
retention they say ``recovered: false``; replay meets live delivery without a gap."""

from __future__ import annotations

import dataclasses
import json

import pytest

from roomchat import handlers, protocol
from roomchat.ulid import UlidGenerator, timestamp_ms


def _say(chat, cid: str, text: str, room: str = "lobby") -> str:
    assert chat.send(cid, action="sendAll", roomId=room, message=text) is None
    echo = [f for f in chat.sender.take(cid) if f["type"] == "message"]
    return echo[-1]["messageId"]


def _pair(chat, room: str = "lobby") -> None:
    chat.join("A", room, "ana")
    chat.join("B", room, "bob")


def _away(chat, cid: str) -> None:
    """The connection drops: the server forgets its memberships."""
    chat.disconnect(cid)
    chat.sender.take(cid)


def _resume_all(chat, cid: str, room: str, after: str) -> tuple[list[dict], list[dict]]:
    """A join with ``after``, then ``history`` with ``after`` until ``next`` is null: every
    message replayed and every updated one, in the order received."""
    joined = chat.send(cid, action="join", roomId=room, name="bob", after=after)
    assert joined["type"] == "joined" and joined["recovered"] is True, joined
    messages, updated = list(joined["recent"]), list(joined["updated"])
    cursor = joined["resumeNext"]
    while cursor is not None:
        page = chat.send(cid, action="history", roomId=room, after=cursor)
        assert page["type"] == "history" and page["recovered"] is True, page
        assert len(json.dumps(page).encode()) <= protocol.REPLY_BYTES_BUDGET
        messages += page["messages"]
        updated += page["updated"]
        cursor = page["next"]
    return messages, updated


def test_a_join_with_after_replays_exactly_the_messages_after_it_in_order(chat):
    # given: bob saw the room up to `seen`, then dropped while ana went on
    _pair(chat)
    seen = _say(chat, "A", "before the drop")
    _away(chat, "B")
    sent = [_say(chat, "A", f"missed {i}") for i in range(5)]
    # when
    joined = chat.send("B2", action="join", roomId="lobby", name="bob", after=seen)
    # then
    assert [m["messageId"] for m in joined["recent"]] == sent
    assert joined["recovered"] is True and joined["resumeNext"] is None
    assert joined["updated"] == []


def test_a_backlog_longer_than_a_page_continues_with_history_after_exactly_once(chat):
    # given: 230 messages missed (a page holds at most 100)
    _pair(chat)
    seen = _say(chat, "A", "start")
    _away(chat, "B")
    sent = [_say(chat, "A", f"m{i}") for i in range(230)]
    # when
    messages, _ = _resume_all(chat, "B2", "lobby", seen)
    # then: each once, in order
    assert [m["messageId"] for m in messages] == sent


def test_replay_pages_of_large_messages_stay_within_the_reply_budget(chat):
    _pair(chat)
    seen = _say(chat, "A", "start")
    _away(chat, "B")
    sent = [_say(chat, "A", f"{i:03d}" + "x" * 30_000) for i in range(9)]
    joined = chat.send("B2", action="join", roomId="lobby", name="bob", after=seen)
    assert len(json.dumps(joined).encode()) <= protocol.REPLY_BYTES_BUDGET
    assert 0 < len(joined["recent"]) < 9 and joined["resumeNext"] is not None
    messages, _ = _resume_all(chat, "B3", "lobby", seen)
    assert [m["messageId"] for m in messages] == sent


def test_edits_and_deletes_since_after_come_back_as_updated_messages(chat):
    # given: two messages bob had; while he is away one is edited, one deleted
    _pair(chat)
    kept = _say(chat, "A", "typo")
    gone = _say(chat, "A", "secret")
    _away(chat, "B")
    assert chat.send("A", action="edit", roomId="lobby", messageId=kept, message="fixed") is None
    assert chat.send("A", action="delete", roomId="lobby", messageId=gone) is None
    new = _say(chat, "A", "after")
    # when
    messages, updated = _resume_all(chat, "B2", "lobby", gone)
    # then: the new message, and both older ones as they are now
    assert [m["messageId"] for m in messages] == [new]
    now = {m["messageId"]: m for m in updated}
    assert now[kept]["message"] == "fixed" and "editedAt" in now[kept]
    assert now[gone]["message"] is None and now[gone]["deletedAt"]
    # and the change log holds no text: a delete's removal of it holds there too
    log = chat.db.query(
        TableName="history",
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": "changes#lobby"}},
    )["Items"]
    assert {i["ref"]["S"] for i in log} == {kept, gone}
    assert all(set(i) == {"roomId", "messageId", "ref"} for i in log)


def test_a_change_of_a_message_replayed_anyway_costs_no_extra_read(chat, monkeypatch):
    _pair(chat)
    seen = _say(chat, "A", "seen")
    _away(chat, "B")
    later = _say(chat, "A", "typo")
    chat.send("A", action="edit", roomId="lobby", messageId=later, message="fixed")
    reads = []
    history = handlers.container().history
    original = history.get
    monkeypatch.setattr(history, "get", lambda *a: reads.append(a) or original(*a))
    messages, updated = _resume_all(chat, "B2", "lobby", seen)
    assert [(m["messageId"], m["message"]) for m in messages] == [(later, "fixed")]
    assert updated == [] and reads == []


def test_a_point_older_than_retention_answers_recovered_false_with_the_latest_page(
    chat, monkeypatch
):
    # given: history kept one day, and a resume point two days old
    settings = dataclasses.replace(handlers.container().settings, history_retention_days=1)
    monkeypatch.setattr(handlers.container(), "settings", settings)
    _pair(chat)
    latest = [_say(chat, "A", f"m{i}") for i in range(3)]
    old_ms = timestamp_ms(latest[0]) - 2 * 86_400_000
    ancient = UlidGenerator()(old_ms)
    # when
    joined = chat.send("B2", action="join", roomId="lobby", name="bob", after=ancient)
    page = chat.send("B2", action="history", roomId="lobby", after=ancient)
    # then: the client is told, and gets the latest page to start again from
    assert joined["recovered"] is False and joined["resumeNext"] is None
    assert [m["messageId"] for m in joined["recent"]] == latest
    assert page["recovered"] is False and page["next"] is None
    assert [m["messageId"] for m in page["messages"]] == latest


def test_a_message_stored_while_the_replay_reads_arrives_live_so_there_is_no_gap(chat, monkeypatch):
    # given: bob resumes; ana's message is stored just after the replay has read the history
    _pair(chat)
    seen = _say(chat, "A", "seen")
    _away(chat, "B")
    history = handlers.container().history
    original = history.page_after
    raced: list[str] = []

    def read_then_send(*args):
        page = original(*args)
        if not raced:
            raced.append(_say(chat, "A", "during the replay"))
        return page

    monkeypatch.setattr(history, "page_after", read_then_send)
    # when
    joined = chat.send("B2", action="join", roomId="lobby", name="bob", after=seen)
    # then: not in the replay (it was read before), so posted to bob live
    assert raced[0] not in [m["messageId"] for m in joined["recent"]]
    live = [f["messageId"] for f in chat.sender.take("B2") if f["type"] == "message"]
    assert live == raced


def test_resume_joins_each_room_in_one_reply_and_refuses_one_without_the_others(chat):
    # given: bob was in two rooms; a third is invitation-only
    chat.users.update({"A": "u-ana", "B": "u-bob", "B2": "u-bob"})
    _pair(chat, "one")
    _pair(chat, "two")
    assert chat.send("A", action="createRoom", roomId="vip", policy="private")["type"] == (
        "roomCreated"
    )
    one = _say(chat, "A", "one-a", "one")
    two = _say(chat, "A", "two-a", "two")
    _away(chat, "B")
    missed_one = _say(chat, "A", "one-b", "one")
    # when
    reply = chat.send(
        "B2",
        action="resume",
        name="bob",
        rooms=[
            {"roomId": "one", "after": one},
            {"roomId": "vip"},
            {"roomId": "two", "after": two},
        ],
    )
    # then
    assert reply["type"] == "resumed"
    first, refused, second = reply["rooms"]
    assert first["type"] == "joined" and [m["messageId"] for m in first["recent"]] == [missed_one]
    assert refused == {
        "type": "error",
        "code": "forbidden",
        "message": refused["message"],
        "action": "resume",
        "roomId": "vip",
    }
    assert second["type"] == "joined" and second["recent"] == [] and second["recovered"]
    assert ("vip", "B2") not in chat.memberships()
    assert {("one", "B2"), ("two", "B2")} <= chat.memberships()


def test_rooms_of_a_resume_share_one_reply_budget(chat):
    _pair(chat, "one")
    _pair(chat, "two")
    seen = {room: _say(chat, "A", "seen", room) for room in ("one", "two")}
    _away(chat, "B")
    for i in range(6):
        for room in ("one", "two"):
            _say(chat, "A", f"{i}" + "y" * 20_000, room)
    rooms = [{"roomId": r, "after": seen[r]} for r in ("one", "two")]
    reply = chat.send("B2", action="resume", name="bob", rooms=rooms)
    assert len(json.dumps(reply, ensure_ascii=False).encode()) <= protocol.REPLY_BYTES_BUDGET
    # each room got a share: neither starved, both continue later
    for frame in reply["rooms"]:
        assert frame["recent"] and frame["resumeNext"] is not None


def test_one_resume_counts_each_room_it_joins_against_the_rate_limit(chat, monkeypatch):
    # given: a connection with 3 requests left (counted by the limiter, whatever the second)
    calls: list[str] = []
    limiter = handlers.container().limiter
    monkeypatch.setattr(
        limiter, "allow", lambda cid, now, limit=None: len(calls.append(cid) or calls) <= 3
    )
    rooms = [{"roomId": f"r{i}"} for i in range(5)]
    reply = chat.send("C", action="resume", name="cy", rooms=rooms)
    codes = [f.get("code", f["type"]) for f in reply["rooms"]]
    assert codes.count("joined") == 3 and codes.count("rate_limited") == 2
    assert len({r for r, c in chat.memberships() if c == "C"}) == 3


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ({"action": "resume"}, "'rooms' must be a list"),
        ({"action": "resume", "rooms": []}, "'rooms' must be a list"),
        ({"action": "resume", "rooms": [{"roomId": f"r{i}"} for i in range(11)]}, "1-10"),
        ({"action": "resume", "rooms": [{"roomId": "a"}, {"roomId": "a"}]}, "named twice"),
        ({"action": "resume", "rooms": ["lobby"]}, "must be an object"),
        ({"action": "resume", "rooms": [{"roomId": "a", "after": "nope"}]}, "'after'"),
        ({"action": "join", "roomId": "a", "name": "x", "after": 5}, "'after'"),
        ({"action": "history", "roomId": "a", "after": "x"}, "'after'"),
        (
            {"action": "history", "roomId": "a", "after": "0" * 26, "before": "0" * 26},
            "not both",
        ),
    ],
)
def test_bad_resume_requests_are_refused_and_write_nothing(chat, frame, words):
    before = chat.items()
    reply = chat.send("Z", **frame)
    assert reply["type"] == "error" and reply["code"] == "bad_request"
    assert words in reply["message"]
    assert chat.items() == before
