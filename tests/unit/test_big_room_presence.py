"""In rooms above the fan-out tier's threshold, typing and presence are dropped, never posted
inline per member (docs/limits.md): one member's typing or join/leave loop in a 5,000-member
room must not cost 10,000 posts a second. Below it they are posted as before."""

from __future__ import annotations

import dataclasses

import pytest

THRESHOLD = 3


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, fanout_tier_threshold=THRESHOLD)


def _fill(chat, room: str, n: int) -> list[str]:
    cids = [f"C{i}" for i in range(n)]
    for cid in cids:
        chat.join(cid, room, cid.lower())
    for cid in cids:
        chat.sender.take(cid)
    return cids


def _posted(chat, cids: list[str]) -> list[dict]:
    return [f for cid in cids for f in chat.sender.take(cid)]


def test_below_the_threshold_typing_and_presence_reach_every_member(chat):
    cids = _fill(chat, "small", THRESHOLD - 1)
    assert chat.send(cids[0], action="typing", roomId="small") is None
    assert [f["type"] for f in _posted(chat, cids[1:])] == ["typing"]
    chat.join("N", "small", "newcomer")
    assert {f["type"] for f in _posted(chat, cids)} == {"presence"}
    chat.send("N", action="leave", roomId="small")
    assert [(f["type"], f["event"]) for f in _posted(chat, cids)] == [("presence", "leave")] * 2


def test_above_the_threshold_typing_and_presence_are_dropped(chat, capsys):
    cids = _fill(chat, "big", THRESHOLD + 2)
    chat.sender.attempts.clear()
    capsys.readouterr()
    assert chat.send(cids[0], action="typing", roomId="big") is None  # accepted, not posted
    chat.join("N", "big", "newcomer")  # a join, a re-join under a new name, a leave
    chat.join("N", "big", "renamed")
    chat.send("N", action="leave", roomId="big")
    chat.disconnect(cids[1])
    assert chat.sender.attempts == [] and _posted(chat, cids) == []
    # typing 1, join 1, rename 2 (the old name leaves, the new joins), leave 1, disconnect 1
    assert capsys.readouterr().out.count('"ephemeral_dropped"') == 6
    # messages still reach everyone (inline here: no queue in the unit tests)
    chat.send(cids[0], action="sendAll", roomId="big", message="hello")
    assert len([f for f in _posted(chat, cids) if f["type"] == "message"]) == THRESHOLD + 1
