"""Who may do what: every action x role x room policy x auth mode, against the real handlers
and use-cases on moto tables. The expected answer of every cell comes from EXPECTED below;
the cells are generated from the product of the axes, so none can be left out.

Roles (of the caller, user "u-caller"):
  owner      the room record names them; joined
  moderator  a moderator role row; joined
  member     an invited-member role row; joined
  invited    an invited-member role row; not joined
  stranger   nothing; not joined
Policies: none (no room record: today's rooms), open, private, announce.
Auth modes: jwt (the authorizer's context names the user) and none (no identity: the role
rows exist but name a user the anonymous caller cannot be).

Answers: o = accepted, F = error `forbidden`, N = error `not_member` (the answer a room that does
not exist gives, so a private room's stranger learns nothing).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid

import boto3
import pytest
from moto import mock_aws

from roomchat import handlers
from roomchat.adapters.dynamodb import DynamoHistory, DynamoRateLimiter, DynamoRooms
from roomchat.ports import MEMBER, MODERATOR, Member, Room
from roomchat.settings import Settings
from roomchat.wiring import Container
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE
from tests.unit.conftest import ROUTES, Context, FakeSender

ROLES = ("owner", "moderator", "member", "invited", "stranger")
POLICIES = ("none", "open", "private", "announce")
MODES = ("jwt", "none")
ACTIONS = (
    "join",
    "leave",
    "sendAll",
    "history",
    "members",
    "createRoom",
    "invite",
    "uninvite",
    "promote",
    "demote",
)

# EXPECTED[mode][action][policy]: the answers for the roles in ROLES' order.
EXPECTED = {
    "jwt": {
        "join": {"none": "ooooo", "open": "ooooo", "private": "ooooF", "announce": "ooooo"},
        "leave": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"},
        "sendAll": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "ooFNN"},
        "history": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"},
        "members": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"},
        # The room id is taken by a record, or (no record) by the caller's own membership.
        "createRoom": {"none": "FFFoo", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "invite": {"none": "FFFFF", "open": "ooFFF", "private": "ooFFF", "announce": "ooFFF"},
        "uninvite": {"none": "FFFFF", "open": "ooFFF", "private": "ooFFF", "announce": "ooFFF"},
        "promote": {"none": "FFFFF", "open": "oFFFF", "private": "oFFFF", "announce": "oFFFF"},
        "demote": {"none": "FFFFF", "open": "oFFFF", "private": "oFFFF", "announce": "oFFFF"},
    },
    "none": {
        "join": {"none": "ooooo", "open": "ooooo", "private": "FFFFF", "announce": "ooooo"},
        "leave": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"},
        "sendAll": {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "FFFNN"},
        "history": {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "oooNN"},
        "members": {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "oooNN"},
        "createRoom": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "invite": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "uninvite": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "promote": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "demote": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
    },
}
CODES = {"F": "forbidden", "N": "not_member"}
CELLS = list(itertools.product(MODES, ACTIONS, POLICIES, ROLES))
CALLER, TARGET, OWNER = "u-caller", "u-target", "u-owner"


def test_the_table_covers_every_cell():
    assert len(CELLS) == 400
    for mode, action, policy, _ in CELLS:
        assert len(EXPECTED[mode][action][policy]) == len(ROLES)


@pytest.fixture(scope="module")
def world():
    """One set of moto tables for the whole matrix; every cell has its own room."""
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(TableName="rooms", **ROOMS_TABLE)
        db.create_table(TableName="history", **HISTORY_TABLE)
        settings = Settings(
            rooms_table="rooms",
            history_table="history",
            rooms_by_connection_index=ROOMS_BY_CONNECTION_INDEX,
            rate_limit_per_second=100_000,
        )
        rooms = DynamoRooms(db, "rooms", ROOMS_BY_CONNECTION_INDEX)
        sender = FakeSender()
        handlers.use_container(
            Container(
                settings=settings,
                rooms=rooms,
                history=DynamoHistory(db, "history"),
                sender_for=lambda endpoint: sender,
                limiter=DynamoRateLimiter(db, "history", 100_000),
            )
        )
        yield rooms
        handlers.use_container(None)


def _set_up(rooms: DynamoRooms, room: str, policy: str, role: str, mode: str, cid: str) -> None:
    owner = CALLER if role == "owner" else OWNER
    if policy != "none":
        rooms.create_room(Room(room, owner, policy, "2026-01-01T00:00:00.000Z"))
    if role == "moderator":
        rooms.put_role(room, CALLER, MODERATOR)
    if role in ("member", "invited"):
        rooms.put_role(room, CALLER, MEMBER)
    # The targets of invite (nobody yet), uninvite/promote (an invited member), demote (a
    # moderator); the actions name one target each, chosen below.
    rooms.put_role(room, TARGET + "-member", MEMBER)
    rooms.put_role(room, TARGET + "-moderator", MODERATOR)
    if role in ("owner", "moderator", "member"):
        expires = int(time.time()) + 3600
        user = CALLER if mode == "jwt" else None
        rooms.put_member(Member(room, cid, "caller", "2026-01-01T00:00:00.000Z", expires, user))
        rooms.attach_room(cid, room, expires)


def _frame(action: str, room: str) -> dict:
    frame = {"action": action, "roomId": room}
    if action == "sendAll":
        frame["message"] = "hello"
    if action == "join":
        frame["name"] = "caller"
    if action == "createRoom":
        frame["policy"] = "private"
    target = {"invite": "-new", "uninvite": "-member", "promote": "-member", "demote": "-moderator"}
    if action in target:
        frame["userId"] = TARGET + target[action]
    return frame


def _invoke(action: str, frame: dict, cid: str, mode: str) -> dict | None:
    rc = {
        "routeKey": action,
        "eventType": "MESSAGE",
        "connectionId": cid,
        "connectedAt": int(time.time() * 1000),
        "requestId": "r",
        "domainName": "abc.example",
        "stage": "test",
    }
    if mode == "jwt":
        rc["authorizer"] = {"principalId": CALLER, "sub": CALLER, "name": "caller"}
    event = {"requestContext": rc, "body": json.dumps(frame), "isBase64Encoded": False}
    response = ROUTES[action](event, Context())
    return json.loads(response["body"]) if "body" in response else None


@pytest.mark.parametrize(("mode", "action", "policy", "role"), CELLS)
def test_cell(world, mode, action, policy, role):
    room = f"m-{uuid.uuid4().hex[:12]}"
    cid = f"c-{uuid.uuid4().hex[:12]}"
    _set_up(world, room, policy, role, mode, cid)
    expected = EXPECTED[mode][action][policy][ROLES.index(role)]

    reply = _invoke(action, _frame(action, room), cid, mode)

    if expected == "o":
        assert reply is None or reply.get("type") != "error", reply
    else:
        assert reply is not None and reply["type"] == "error", reply
        assert reply["code"] == CODES[expected], reply
        if expected == "N":
            # Word for word what a room that does not exist answers.
            other = f"x-{uuid.uuid4().hex[:12]}"
            ghost = _invoke(action, _frame(action, other), cid, mode)
            assert {**reply, "roomId": other, "message": ghost["message"]} == ghost
            assert reply["message"] == ghost["message"].replace(other, room)
