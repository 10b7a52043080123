"""Access ends with the token: the authorizer passes the token's `exp` on, and once it has
passed every action of the connection is refused with `token_expired` (status 401), before
anything is read or written, telling the client to reconnect with a fresh token."""

from __future__ import annotations

import json
import time

import pytest

from roomchat import handlers
from tests.unit.conftest import ROUTES, Context


def _ok_until(chat, cid: str, exp: int | str) -> None:
    chat.users[cid] = "u-" + cid.lower()
    chat.expiries[cid] = exp


def test_a_live_token_is_served(chat):
    _ok_until(chat, "A", int(time.time()) + 300)
    assert chat.join("A", "lobby", "ana")["type"] == "joined"
    assert chat.send("A", action="sendAll", roomId="lobby", message="hi") is None


@pytest.mark.parametrize("exp_type", [int, str])  # a number, or the same number as text
def test_an_expired_tokens_connection_is_refused_its_next_action(chat, exp_type):
    now = int(time.time())
    _ok_until(chat, "A", exp_type(now + 300))
    chat.join("A", "lobby", "ana")
    chat.join("B", "lobby", "bob")
    chat.sender.take("B")
    chat.expiries["A"] = exp_type(now - 1)  # the same connection, its token now past `exp`
    before = chat.items()
    for action, extra in (
        ("sendAll", {"message": "still here?"}),
        ("typing", {}),
        ("history", {}),
        ("members", {}),
        ("leave", {}),
        ("join", {"name": "ana"}),
    ):
        reply = chat.send("A", action=action, roomId="lobby", **extra)
        assert reply["type"] == "error" and reply["code"] == "token_expired", reply
        assert reply["action"] == action and "fresh token" in reply["message"]
    assert chat.items() == before  # nothing read into a reply, nothing written
    assert chat.sender.take("B") == []  # nothing told to the room


def test_the_refusal_is_a_401(chat):
    _ok_until(chat, "A", int(time.time()) - 5)
    event = chat.event("A", "join", json.dumps({"action": "join", "roomId": "r", "name": "a"}))
    response = ROUTES["join"](event, Context())
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["code"] == "token_expired"


def test_a_connection_without_a_token_has_no_expiry(chat):
    assert chat.join("A", "lobby", "ana")["type"] == "joined"  # anonymous: no `exp` at all


def test_a_malformed_exp_is_ignored_not_trusted():
    # only the authorizer writes the context; a value it never writes is not an expiry
    for value in (True, "soon", None, [1]):
        assert handlers._epoch(value) is None
    assert handlers._epoch(12.7) == 12 and handlers._epoch("42") == 42
