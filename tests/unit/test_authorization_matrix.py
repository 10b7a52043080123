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

Conversations (issue 22): reply (sendAll with replyTo), thread, follow and react act on that
message too; threads lists the followed threads; mentions lists across rooms (no room: nothing
to refuse, the listing shows only what the caller may read, tests/unit/test_mentions.py); pin
is for the owner and moderators, refused like kick. Attachments (issue 24): prepareUpload and
attachmentUrl (of a file on that message) are for the room's readers.

Moderation (issue 13) acts on user u-target-member (an invited member, not joined) and on a
message of theirs stored in the room: delete and edit of that message (not the caller's own),
typing, markRead, kick, ban (kick with a ban) and disconnectUser. Targets the rules protect
(the owner, a moderator against a moderator, oneself) have their own tests in
tests/unit/test_moderation_roles.py.
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
from roomchat.adapters.attachments import S3AttachmentStore
from roomchat.adapters.dynamodb import (
    DynamoHistory,
    DynamoModeration,
    DynamoRateLimiter,
    DynamoRooms,
)
from roomchat.ports import MEMBER, MODERATOR, Attachment, Member, Message, Room
from roomchat.settings import Settings
from roomchat.ulid import new_ulid
from roomchat.wiring import Container
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE
from tests.unit.conftest import ROUTES, Context, FakeSender, conversation_stores

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
    "delete",
    "edit",
    "typing",
    "markRead",
    "kick",
    "ban",
    "disconnectUser",
    "reply",
    "thread",
    "threads",
    "follow",
    "react",
    "mentions",
    "pin",
    "prepareUpload",
    "attachmentUrl",
)
# The route each action of the table calls (ban is kick with a ban, reply a sendAll).
ROUTE = {"ban": "kick", "reply": "sendAll"}
# The actions on a message of u-target-member's stored in the cell's room.
ON_A_MESSAGE = (
    "delete",
    "edit",
    "markRead",
    "reply",
    "thread",
    "follow",
    "react",
    "pin",
    "attachmentUrl",
)
# The upload attached to that message (attachmentUrl asks for it).
UPLOAD_ID = "01J00000000000000000000000"
READERS_JWT = {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"}
READERS_NONE = {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "oooNN"}
EVERYONE = {"none": "ooooo", "open": "ooooo", "private": "ooooo", "announce": "ooooo"}
NOBODY = {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"}

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
        # Another's message: its owner and moderators (a room with a record); readers only.
        "delete": {"none": "FFFNN", "open": "ooFNN", "private": "ooFNN", "announce": "ooFNN"},
        "edit": {"none": "FFFNN", "open": "FFFNN", "private": "FFFNN", "announce": "FFFNN"},
        "typing": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"},
        "markRead": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "oooNN"},
        # One refusal whatever the reason (as may_not_manage): tells nothing about the room.
        "kick": {"none": "FFFFF", "open": "ooFFF", "private": "ooFFF", "announce": "ooFFF"},
        "ban": {"none": "FFFFF", "open": "ooFFF", "private": "ooFFF", "announce": "ooFFF"},
        "disconnectUser": {
            "none": "FFFFF",
            "open": "ooFFF",
            "private": "ooFFF",
            "announce": "ooFFF",
        },
        # A reply is a post: as sendAll (announce rooms: owner and moderators).
        "reply": {"none": "oooNN", "open": "oooNN", "private": "oooNN", "announce": "ooFNN"},
        "thread": READERS_JWT,
        "threads": READERS_JWT,
        "follow": READERS_JWT,
        "react": READERS_JWT,  # announce rooms too: a reaction is no post
        "mentions": EVERYONE,
        "pin": {"none": "FFFFF", "open": "ooFFF", "private": "ooFFF", "announce": "ooFFF"},
        # Attachments (issue 24): the room's readers, announce rooms too (a file is posted
        # by sendAll, which announce rooms refuse; a download is a read).
        "prepareUpload": READERS_JWT,
        "attachmentUrl": READERS_JWT,
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
        # Without sign-in nobody is owner or moderator: own messages only (tests/unit).
        "delete": {"none": "FFFNN", "open": "FFFNN", "private": "NNNNN", "announce": "FFFNN"},
        "edit": {"none": "FFFNN", "open": "FFFNN", "private": "NNNNN", "announce": "FFFNN"},
        "typing": {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "oooNN"},
        "markRead": {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "oooNN"},
        "kick": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "ban": {"none": "FFFFF", "open": "FFFFF", "private": "FFFFF", "announce": "FFFFF"},
        "disconnectUser": {
            "none": "FFFFF",
            "open": "FFFFF",
            "private": "FFFFF",
            "announce": "FFFFF",
        },
        "reply": {"none": "oooNN", "open": "oooNN", "private": "NNNNN", "announce": "FFFNN"},
        "thread": READERS_NONE,
        "threads": READERS_NONE,
        "follow": READERS_NONE,
        "react": READERS_NONE,
        "mentions": EVERYONE,
        "pin": NOBODY,
        "prepareUpload": READERS_NONE,
        "attachmentUrl": READERS_NONE,
    },
}
CODES = {"F": "forbidden", "N": "not_member"}
CELLS = list(itertools.product(MODES, ACTIONS, POLICIES, ROLES))
CALLER, TARGET, OWNER = "u-caller", "u-target", "u-owner"


def test_the_table_covers_every_cell():
    assert len(CELLS) == 1040
    for mode, action, policy, _ in CELLS:
        assert len(EXPECTED[mode][action][policy]) == len(ROLES)


@pytest.fixture(scope="module")
def world():
    """One set of moto tables for the whole matrix; every cell has its own room."""
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(TableName="rooms", **ROOMS_TABLE)
        db.create_table(TableName="history", **HISTORY_TABLE)
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="attachments")
        settings = Settings(
            rooms_table="rooms",
            history_table="history",
            rooms_by_connection_index=ROOMS_BY_CONNECTION_INDEX,
            rate_limit_per_second=100_000,
            attachments_bucket="attachments",
        )
        rooms = DynamoRooms(db, "rooms", ROOMS_BY_CONNECTION_INDEX)
        history = DynamoHistory(db, "history")
        sender = FakeSender()
        handlers.use_container(
            Container(
                settings=settings,
                rooms=rooms,
                history=history,
                sender_for=lambda endpoint: sender,
                limiter=DynamoRateLimiter(db, "history", 100_000),
                moderation=DynamoModeration(db, "history"),
                **conversation_stores(db, settings),
                attachments=S3AttachmentStore(s3, "attachments"),
            )
        )
        yield rooms, history
        handlers.use_container(None)


def _set_up(
    world: tuple[DynamoRooms, DynamoHistory],
    room: str,
    policy: str,
    role: str,
    mode: str,
    cid: str,
    with_message: bool,
) -> str:
    """The cell's room; the messageId of a message of u-target-member's in it."""
    rooms, history = world
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
    now = int(time.time() * 1000)
    if not with_message:
        return new_ulid(now)  # no such message (createRoom refuses a room with messages)
    message = Message(
        room_id=room,
        message_id=new_ulid(now),
        sent_at="2026-01-01T00:00:00.000Z",
        sender="target",
        message="their words",
        connection_id="c-target",
        author_id=TARGET + "-member",
        attachments=(Attachment(UPLOAD_ID, "notes.pdf", "application/pdf", 1000),),
    )
    history.append(message, expires_at=None, idem_expires_at=now // 1000 + 60)
    return message.message_id


def _frame(action: str, room: str, message_id: str) -> dict:
    frame = {"action": ROUTE.get(action, action), "roomId": room}
    if action in ("sendAll", "reply"):
        frame["message"] = "hello"
    if action == "join":
        frame["name"] = "caller"
    if action == "createRoom":
        frame["policy"] = "private"
    if action in ON_A_MESSAGE and action != "reply":
        frame["messageId"] = message_id
    if action == "reply":
        frame["replyTo"] = message_id
    if action == "react":
        frame["emoji"] = "👍"
    if action == "mentions":
        del frame["roomId"]
    if action == "prepareUpload":
        frame.update(name="notes.pdf", type="application/pdf", size=1000)
    if action == "attachmentUrl":
        frame["uploadId"] = UPLOAD_ID
    if action == "edit":
        frame["message"] = "not theirs"
    if action == "ban":
        frame["ban"] = "forever"
    target = {
        "invite": "-new",
        "uninvite": "-member",
        "promote": "-member",
        "demote": "-moderator",
        "kick": "-member",
        "ban": "-member",
        "disconnectUser": "-member",
    }
    if action in target:
        frame["userId"] = TARGET + target[action]
    return frame


def _invoke(action: str, frame: dict, cid: str, mode: str) -> dict | None:
    action = ROUTE.get(action, action)
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
    with_message = action in ON_A_MESSAGE
    message_id = _set_up(world, room, policy, role, mode, cid, with_message)
    expected = EXPECTED[mode][action][policy][ROLES.index(role)]

    reply = _invoke(action, _frame(action, room, message_id), cid, mode)

    if expected == "o":
        assert reply is None or reply.get("type") != "error", reply
    else:
        assert reply is not None and reply["type"] == "error", reply
        assert reply["code"] == CODES[expected], reply
        if expected == "N":
            # Word for word what a room that does not exist answers.
            other = f"x-{uuid.uuid4().hex[:12]}"
            ghost = _invoke(action, _frame(action, other, message_id), cid, mode)
            assert {**reply, "roomId": other, "message": ghost["message"]} == ghost
            assert reply["message"] == ghost["message"].replace(other, room)
