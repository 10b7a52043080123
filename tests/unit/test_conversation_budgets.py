"""One client looping a conversation action is held to that action's budget (policy.BUDGETS):
past it, in the same second, every request is refused as rate_limited and writes nothing, so a
loop cannot flood a room with frames or run up reads and writes everyone's tables share."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest

from roomchat import handlers
from roomchat.adapters.attachments import S3AttachmentStore
from roomchat.adapters.dynamodb import DynamoRateLimiter
from roomchat.adapters.dynamodb.notifications import DynamoNotifications
from roomchat.ports import Room
from roomchat.protocol import LEVELS
from roomchat.settings import READS_PER_SECOND
from roomchat.usecases.policy import BUDGETS
from tests.unit.test_notifications import _sub as web_push
from tests.unit.test_threads import _say

UPLOAD = "01J00000000000000000000000"
SHARED_PER_SECOND = 10  # sendAll's budget (RATE_LIMIT_PER_SECOND's default), for the others


class OneSecond:
    """The stack's limiter, every request counted in one second (a loop that fast)."""

    def __init__(self, inner: DynamoRateLimiter, now_ms: int):
        self.inner, self.now_ms = inner, now_ms

    def allow(self, connection_id: str, now_ms: int, limit: int | None = None) -> bool:
        return self.inner.allow(connection_id, self.now_ms, limit)


def _looping_owner(chat) -> tuple[str, str]:
    """Room 'team' owned by O, a message and a reply in it; then the limits of the stack."""
    chat.users.update({"O": "u-o"})
    handlers.container().rooms.create_room(Room("team", "u-o", "open", "2026-01-01T00:00:00Z"))
    chat.join("O", "team", "olga")
    chat.join("B", "team", "bob")
    mid = _say(chat, "B", "hello @olga", room="team")["messageId"]
    reply = _say(chat, "O", "hi", room="team", replyTo=mid)["messageId"]
    c = handlers.container()
    # Attachments: a bucket, and a file on B's message (attachmentUrl asks for it).
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="files")
    c.attachments = S3AttachmentStore(s3, "files")
    c.settings = replace(c.settings, attachments_bucket="files")
    chat.db.update_item(
        TableName=c.settings.history_table,
        Key={"roomId": {"S": "team"}, "messageId": {"S": mid}},
        UpdateExpression="SET attachments = :a",
        ExpressionAttributeValues={
            ":a": {"S": json.dumps([[UPLOAD, "a.pdf", "application/pdf", 9]])}
        },
    )
    c.settings = replace(c.settings, rate_limit_per_second=SHARED_PER_SECOND)
    limiter = DynamoRateLimiter(chat.db, c.settings.history_table, SHARED_PER_SECOND)
    c.limiter = OneSecond(limiter, 1_000_000)
    c.notifications = DynamoNotifications(chat.db, c.settings.rooms_table)
    return mid, reply


def _frame(action: str, i: int, mid: str, reply: str) -> dict[str, Any]:
    """The i-th request of a loop (alternating where a repeat would change nothing)."""
    on = {"roomId": "team", "messageId": mid}
    return {
        "thread": {"action": "thread", **on},
        "threads": {"action": "threads", "roomId": "team"},
        "mentions": {"action": "mentions"},
        "follow": {"action": "follow", **on, "remove": i % 2 == 0},
        "pin": {"action": "pin", **on, "remove": i % 2 == 1},
        "react": {"action": "react", **on, "emoji": "👍", "remove": i % 2 == 1},
        "markRead": {"action": "markRead", "roomId": "team", "messageId": reply, "replyTo": mid},
        "prepareUpload": {
            "action": "prepareUpload",
            "roomId": "team",
            "name": "a.pdf",
            "type": "application/pdf",
            "size": 9,
        },
        "attachmentUrl": {"action": "attachmentUrl", **on, "uploadId": UPLOAD},
        "registerDevice": {"action": "registerDevice", "webPush": web_push(i)},
        "unregisterDevice": {"action": "unregisterDevice", "deviceId": f"d{i}"},
        "notifyLevel": {"action": "notifyLevel", "roomId": "team", "level": LEVELS[i % 3]},
    }[action]


@pytest.mark.parametrize("action", sorted(BUDGETS))
def test_a_client_looping_a_conversation_action_is_held_to_its_budget(chat, action):
    mid, reply = _looping_owner(chat)
    per_second = BUDGETS[action][1] or SHARED_PER_SECOND
    for i in range(per_second):
        answer = chat.send("O", **_frame(action, i, mid, reply))
        assert answer is None or answer["type"] != "error", answer
    chat.sender.inbox.clear()
    before = chat.items()

    over = chat.send("O", **_frame(action, per_second, mid, reply))

    assert over is not None and over["code"] == "rate_limited", over
    assert chat.items() == before
    assert chat.sender.take("B") == []  # the room heard nothing of it


def test_thread_threads_and_mentions_share_one_read_budget(chat):
    mid, reply = _looping_owner(chat)
    reads = ["thread", "threads", "mentions", "thread", "mentions"][:READS_PER_SECOND]
    for action in reads:
        assert chat.send("O", **_frame(action, 0, mid, reply))["type"] == action
    for action in ("thread", "threads", "mentions"):
        assert chat.send("O", **_frame(action, 0, mid, reply))["code"] == "rate_limited"
    # the read budget is its own: sendAll and react still pass
    assert chat.send("O", action="sendAll", roomId="team", message="still here") is None
    assert chat.send("O", **_frame("react", 0, mid, reply)) is None
