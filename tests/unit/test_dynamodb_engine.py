"""The DynamoDB adapters against what the real engine enforces: 1 MB Query pages, the 400 KB
item limit and request validation. Each test runs on moto and on AWS's DynamoDB Local
(roomchat_tools.local.dynamodb_local); the last ones check DynamoDB Local itself, so that a
change of engine that loosened them would be seen.

- Query pages end at 1 MB, before `Limit`; the caller must follow LastEvaluatedKey:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
- Items are at most 400 KB: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
- Key attributes cannot be empty strings, and every ExpressionAttributeValue must be used:
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from roomchat.adapters.dynamodb import DynamoHistory, DynamoRooms
from roomchat.errors import StorageError
from roomchat.ports import Member, Message
from roomchat.ulid import new_ulid
from tests.engines import both_engines, local_engine_only

# ~31 KB messages: about 33 of them fill a 1 MB Query page.
LARGE_MESSAGE_BYTES = 31 * 1024
LARGE_MESSAGES = 120


def _message(room: str, at_ms: int, text: str) -> Message:
    return Message(room, new_ulid(at_ms), "2026-11-21T00:00:00.000Z", "ana", text, None, "A")


def _store_large_messages(history: DynamoHistory, room: str) -> list[str]:
    start = time.time_ns() // 1_000_000
    ids = []
    for i in range(LARGE_MESSAGES):
        text = f"{i:03d}" + "x" * (LARGE_MESSAGE_BYTES - 3)
        ids.append(history.append(_message(room, start + i, text), None, 0).message.message_id)
    return ids


@both_engines
def test_history_of_large_messages_pages_back_to_the_first_message(dynamodb):
    """120 messages of ~31 KB (3.7 MB, so DynamoDB ends Query pages at 1 MB long before the
    count limit): paging back with `before` until `next` is null yields each message exactly
    once, oldest to newest. Stopping at the first short page would lose ~90 of them."""
    # given
    history = DynamoHistory(dynamodb, "history")
    stored = _store_large_messages(history, "big")

    # when
    seen: list[str] = []
    before = None
    for _ in range(LARGE_MESSAGES + 1):  # a cursor that never ends fails below, not for ever
        page = history.page("big", 100, before)
        ids = [message.message_id for message in page.messages]
        assert ids == sorted(ids), "each page must be oldest to newest"
        seen = ids + seen
        before = page.next_cursor
        if before is None:
            break

    # then
    assert len(seen) == len(set(seen)), "a message came back twice"
    assert seen == stored, f"got {len(seen)} of {len(stored)} messages"


@both_engines
def test_a_message_item_over_400_kb_is_refused_and_nothing_is_stored(dynamodb):
    history = DynamoHistory(dynamodb, "history")

    with pytest.raises(StorageError, match="ValidationException"):
        history.append(_message("lobby", 1, "x" * 401 * 1024), None, 0)

    assert history.page("lobby", 10, None).messages == []


@both_engines
def test_an_empty_key_value_is_a_storage_error_and_writes_nothing(dynamodb):
    rooms = DynamoRooms(dynamodb, "rooms", "byConnection")

    with pytest.raises(StorageError, match="ValidationException"):
        rooms.put_member(Member("", "c1", "ana", "2026-01-01T00:00:00.000Z", 2**31))

    assert dynamodb.scan(TableName="rooms")["Items"] == []


@local_engine_only
def test_the_engine_ends_a_query_page_at_1_mb(dynamodb):
    """Not the adapters: DynamoDB Local itself, so the paging test above meets real pages."""
    for i in range(40):
        dynamodb.put_item(
            TableName="history",
            Item={"roomId": {"S": "r"}, "messageId": {"S": f"{i:04d}"}, "m": {"S": "x" * 31744}},
        )

    page = dynamodb.query(
        TableName="history",
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": "r"}},
    )

    assert 30 <= len(page["Items"]) < 40
    assert page["LastEvaluatedKey"]["messageId"] == page["Items"][-1]["messageId"]


@local_engine_only
def test_the_engine_refuses_an_unused_expression_value(dynamodb):
    """moto accepts this request; DynamoDB refuses it. Every adapter request runs on DynamoDB
    Local too (test_repositories, test_fanout_reads, the history tests), so none sends one."""
    with pytest.raises(ClientError) as refused:
        dynamodb.query(
            TableName="history",
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": "r"}, ":unused": {"S": "x"}},
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
