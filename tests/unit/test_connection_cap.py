"""A signed-in user's connections are capped (MAX_CONNECTIONS_PER_USER, the Terraform variable
max_connections_per_user): the next $connect is refused with 429 and leaves nothing behind; a
$disconnect frees a place; anonymous connections have no user to count."""

from __future__ import annotations

import dataclasses

import pytest

from roomchat.adapters.dynamodb import DynamoHistory, DynamoRooms
from roomchat.errors import TooManyConnections
from roomchat.usecases import Caller, ChatService
from tests.engines import both_engines
from tests.unit.conftest import FakeSender

CAP = 3


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, max_connections_per_user=CAP)


def test_the_connection_over_the_cap_is_refused_and_a_disconnect_frees_a_place(chat):
    for n in range(CAP + 1):
        chat.users[f"C{n}"] = "u-many"
    assert [chat.connect(f"C{n}")["statusCode"] for n in range(CAP)] == [200] * CAP
    refused = chat.connect(f"C{CAP}")
    assert refused["statusCode"] == 429
    assert "connections open" in refused["body"]
    chat.disconnect("C0")
    assert chat.connect(f"C{CAP}")["statusCode"] == 200
    chat.users["other"] = "u-other"  # another user is not counted with them
    assert chat.connect("other")["statusCode"] == 200


def test_anonymous_connections_are_not_capped(chat):
    assert all(chat.connect(f"A{n}", name="anon")["statusCode"] == 200 for n in range(CAP + 2))


@both_engines
def test_two_connects_racing_for_the_last_place_never_both_pass(dynamodb, settings):
    """Write, then count: whichever order the two connects' steps interleave in, at most the
    cap is ever admitted (both may be refused, never both admitted)."""
    rooms = DynamoRooms(dynamodb, "rooms", "byConnection")
    svc = ChatService(rooms, DynamoHistory(dynamodb, "history"), FakeSender(), settings)
    for n in range(CAP - 1):
        svc.connect(Caller(f"C{n}", user_id="u-race"), None)
    first, second = Caller("X", user_id="u-race"), Caller("Y", user_id="u-race")
    expires = svc.now_s() + 7200
    # both write before either counts: the worst interleaving; then count one after the other
    rooms.add_user_connection("u-race", "X", expires)
    rooms.add_user_connection("u-race", "Y", expires)
    admitted = []
    for caller in (first, second):
        if rooms.user_connections("u-race", svc.now_s()) > CAP:
            rooms.remove_user_connection("u-race", caller.connection_id)
        else:
            admitted.append(caller.connection_id)
    assert admitted == ["Y"] and rooms.user_connections("u-race", svc.now_s()) == CAP
    # both count before either takes itself back: both refused, never both admitted
    rooms.remove_user_connection("u-race", "Y")
    rooms.add_user_connection("u-race", "X", expires)
    rooms.add_user_connection("u-race", "Y", expires)
    counts = [rooms.user_connections("u-race", svc.now_s()) for _ in (first, second)]
    assert all(c > CAP for c in counts)
    for caller in (first, second):
        rooms.remove_user_connection("u-race", caller.connection_id)
    assert rooms.user_connections("u-race", svc.now_s()) == CAP - 1
    # and one at a time, the last place goes to the first
    svc.connect(first, None)
    with pytest.raises(TooManyConnections):
        svc.connect(second, None)
