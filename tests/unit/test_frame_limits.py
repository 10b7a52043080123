"""Every frame fits API Gateway's 128 KB message quota, and paging is right across DynamoDB's
1 MB Query pages (moto ends Query pages at 1 MB as DynamoDB does).

The adapter tests take only the ``dynamodb`` client fixture (tables "rooms" and "history"), so
they can run against any DynamoDB that fixture provides.
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomchat import handlers, protocol
from roomchat.adapters.dynamodb import DynamoHistory
from roomchat.errors import TooLarge
from roomchat.ports import Member, Message
from roomchat.protocol import FRAME_BYTES_MAX, REPLY_BYTES_BUDGET
from roomchat.ulid import UlidGenerator

ROOM = "big"
BASE_MS = 1_800_000_000_000


def _store(dynamodb, texts: list[str], room: str = ROOM) -> list[str]:
    """Store messages straight through the adapter; their ids, oldest first."""
    history = DynamoHistory(dynamodb, "history")
    new_id = UlidGenerator()
    ids = []
    for i, text in enumerate(texts):
        msg = Message(room, new_id(BASE_MS + i), "2027-01-15T08:00:00.000Z", "ana", text, None, "A")
        history.append(msg, None, 0)
        ids.append(msg.message_id)
    return ids


def _big_texts(n: int = 120, size: int = 31_000) -> list[str]:
    return [f"{i:04d}" + "x" * (size - 4) for i in range(n)]


def test_a_page_follows_query_pages_past_1_mb(dynamodb):
    # given 120 messages of ~31 KB: one Query page (1 MB) holds ~32 of them
    ids = _store(dynamodb, _big_texts())

    page = DynamoHistory(dynamodb, "history").page(ROOM, 50, None)

    assert [m.message_id for m in page.messages] == ids[-50:]
    assert page.next_cursor == ids[-50]


def test_the_last_page_says_there_is_no_more_only_at_the_start_of_the_room(dynamodb):
    ids = _store(dynamodb, _big_texts(40))
    history = DynamoHistory(dynamodb, "history")

    assert history.page(ROOM, 39, None).next_cursor == ids[1]
    assert history.page(ROOM, 40, None).next_cursor is None
    assert history.page(ROOM, 50, ids[1]).next_cursor is None


def _page_all(chat, limit: int) -> tuple[list[str], list[int]]:
    """Page a room's history through the handler with `before`; (ids, reply sizes)."""
    seen, sizes, before = [], [], None
    while True:
        frame = {"action": "history", "roomId": ROOM, "limit": limit}
        if before:
            frame["before"] = before
        response = chat.raw("A", json.dumps(frame))
        sizes.append(len(response["body"].encode("utf-8")))
        reply = json.loads(response["body"])
        assert reply["type"] == "history", reply
        seen = [m["messageId"] for m in reply["messages"]] + seen
        before = reply["next"]
        if before is None:
            return seen, sizes
        assert reply["messages"], "a page with a cursor must make progress"


def test_paging_120_messages_of_31_kb_returns_all_once_in_order_within_the_budget(chat):
    ids = _store(chat.db, _big_texts())
    chat.join("A", ROOM, "ana")

    seen, sizes = _page_all(chat, limit=100)

    assert seen == ids
    assert max(sizes) <= REPLY_BYTES_BUDGET
    assert len(sizes) >= 120 * 31_000 // REPLY_BYTES_BUDGET  # pages bounded by bytes, not count


def test_page_size_is_measured_on_the_encoded_frame_escapes_included(chat):
    # 9,000 control characters: 9 KB of UTF-8, 54 KB once JSON escapes them as \u0001
    ids = _store(chat.db, ["\x01" * 9_000] * 6)
    chat.join("A", ROOM, "ana")

    seen, sizes = _page_all(chat, limit=100)

    assert seen == ids
    assert max(sizes) <= REPLY_BYTES_BUDGET
    assert len(sizes) == 6  # one 54 KB message per 96 KiB page


def test_joined_recent_is_trimmed_by_bytes_and_next_leads_to_the_rest(chat):
    ids = _store(chat.db, _big_texts(20))

    response = chat.raw("A", json.dumps({"action": "join", "roomId": ROOM, "name": "ana"}))

    assert len(response["body"].encode("utf-8")) <= REPLY_BYTES_BUDGET
    joined = json.loads(response["body"])
    recent = [m["messageId"] for m in joined["recent"]]
    assert recent == ids[-len(recent) :] and 0 < len(recent) < 20
    assert joined["next"] == recent[0]
    older = chat.send("A", action="history", roomId=ROOM, limit=100, before=joined["next"])
    assert [m["messageId"] for m in older["messages"]][-1] == ids[-len(recent) - 1]


def test_joined_next_is_null_when_recent_reaches_the_start_of_the_room(chat):
    ids = _store(chat.db, ["hello", "there"])

    joined = chat.join("A", ROOM, "ana")

    assert [m["messageId"] for m in joined["recent"]] == ids
    assert joined["next"] is None
    assert chat.join("B", "empty", "bob")["next"] is None


def test_joined_next_counts_recent_on_join_too(chat, settings):
    ids = _store(chat.db, [f"m{i}" for i in range(25)])

    joined = chat.join("A", ROOM, "ana")

    assert len(joined["recent"]) == settings.recent_on_join == 20
    assert joined["next"] == ids[5]


def test_with_no_recent_messages_next_takes_in_the_newest(chat, settings):
    handlers.container().settings = replace(settings, recent_on_join=0)
    ids = _store(chat.db, ["a", "b", "c"])

    joined = chat.join("A", ROOM, "ana")

    assert joined["recent"] == [] and joined["next"] is not None
    page = chat.send("A", action="history", roomId=ROOM, before=joined["next"])
    assert [m["messageId"] for m in page["messages"]] == ids
    assert chat.join("A", "empty", "ana")["next"] is None


# ---------------------------------------------------------------- the largest possible frames

LONGEST_ROOM = "r" * 64
WIDEST_NAME = "😀" * protocol.NAME_MAX  # 4 bytes of UTF-8 each
LONGEST_ID = "c" * 64


def _widest_message() -> str:
    """The message that takes the most bytes as JSON and is still accepted."""
    text = "\x01" * (protocol.MESSAGE_JSON_BYTES_MAX // 6 - 1)
    return protocol.check_message(text, protocol.MESSAGE_BYTES_DEFAULT)


def _message(text: str, i: int = 0) -> Message:
    return Message(
        LONGEST_ROOM, UlidGenerator()(BASE_MS + i), "2027-01-15T08:00:00.000Z", WIDEST_NAME,
        text, LONGEST_ID, "A",
    )  # fmt: skip


def test_a_message_that_escapes_past_the_json_limit_is_too_large():
    # 30,000 bytes of UTF-8 (under 32 KB), 180,000 bytes as JSON: over 128 KB on the wire
    with pytest.raises(TooLarge, match="as JSON"):
        protocol.check_message("\x01" * 30_000, protocol.MESSAGE_BYTES_DEFAULT)


def test_the_largest_message_presence_and_error_frames_fit_the_quota():
    widest = _message(_widest_message())
    assert protocol.frame_bytes(protocol.message_frame(widest)) <= REPLY_BYTES_BUDGET
    presence = protocol.presence_frame("leave", LONGEST_ROOM, WIDEST_NAME)
    assert protocol.frame_bytes(presence) < 1024
    error = TooLarge("x" * 300, room_id=LONGEST_ROOM)
    assert protocol.frame_bytes(protocol.error_frame(error, "sendAll", LONGEST_ID)) < 1024


def test_history_and_joined_frames_of_the_widest_messages_stay_within_the_budget():
    messages = [_message(_widest_message(), i) for i in range(protocol.HISTORY_LIMIT_MAX)]

    for budget, build in [
        (
            protocol.history_budget(LONGEST_ROOM),
            lambda kept: protocol.history_frame(LONGEST_ROOM, kept, "0" * 26),
        ),
        (
            protocol.joined_budget(LONGEST_ROOM, WIDEST_NAME, 10**9),
            lambda kept: protocol.joined_frame(LONGEST_ROOM, WIDEST_NAME, 10**9, kept, "0" * 26),
        ),
    ]:
        kept, used = [], 0
        for msg in messages:  # what DynamoHistory.page keeps of them
            size = budget.size_of(msg)
            if used + size - 1 > budget.max_bytes:
                break
            kept.append(msg)
            used += size
        assert kept, "one message always fits"
        assert protocol.frame_bytes(build(kept)) <= REPLY_BYTES_BUDGET < FRAME_BYTES_MAX
        assert protocol.frame_bytes(build([*kept, messages[len(kept)]])) > REPLY_BYTES_BUDGET


def test_the_members_of_a_huge_room_are_bounded_and_say_how_many_are_left_out():
    names = [f"{i:05d}" + "😀" * 27 for i in range(20_000)]  # 32 characters, 113 bytes each

    frame = protocol.members_frame_within(LONGEST_ROOM, names)

    assert protocol.frame_bytes(frame) <= REPLY_BYTES_BUDGET
    assert frame["members"] == names[: len(frame["members"])]
    assert len(frame["members"]) + frame["omitted"] == len(names)
    small = protocol.members_frame_within("lobby", ["ana", "bob"])
    assert small == {"type": "members", "roomId": "lobby", "members": ["ana", "bob"]}


def test_members_reply_of_a_room_past_the_budget_through_the_handler(chat):
    from roomchat.adapters.dynamodb import DynamoRooms

    rooms = DynamoRooms(chat.db, "rooms", "byConnection")
    for i in range(1_200):  # 1,200 x 32 four-byte characters: ~157 KB of names
        rooms.put_member(Member("huge", f"c{i:04d}", "😀" * 32, f"2027-01-15T08:{i:06d}", 2**31))
    chat.join("A", "huge", "ana")

    response = chat.raw("A", json.dumps({"action": "members", "roomId": "huge"}))

    assert len(response["body"].encode("utf-8")) <= REPLY_BYTES_BUDGET
    frame = json.loads(response["body"])
    assert len(frame["members"]) + frame["omitted"] == 1_201


# ---------------------------------------------------------------- the property, over any messages


class ListQuery:
    """A history partition in memory, answering Query pages (newest first) the way DynamoDB
    does: at most ``Limit`` items, and ``LastEvaluatedKey`` while items remain."""

    def __init__(self, items: list[dict]):
        self.items = sorted(items, key=lambda i: i["messageId"]["S"], reverse=True)

    def query(self, **kwargs):
        before = kwargs["ExpressionAttributeValues"].get(":b", {"S": "~"})["S"]
        rest = [i for i in self.items if i["messageId"]["S"] < before]
        if "ExclusiveStartKey" in kwargs:
            start = kwargs["ExclusiveStartKey"]["messageId"]["S"]
            rest = [i for i in rest if i["messageId"]["S"] < start]
        page = rest[: kwargs["Limit"]]
        answer = {"Items": page}
        if len(rest) > len(page):
            answer["LastEvaluatedKey"] = {k: page[-1][k] for k in ("roomId", "messageId")}
        return answer


_pieces = st.tuples(
    st.sampled_from(["x", "é", "😀", "\x01", '"', "\\", "\n", "\u2028", " "]),
    st.integers(1, 11_000),
)


def _accepted(text: str) -> bool:
    try:
        protocol.check_message(text, protocol.MESSAGE_BYTES_DEFAULT)
    except TooLarge:
        return False
    return True


texts = (
    st.lists(_pieces, min_size=1, max_size=3)
    .map(lambda parts: "".join(ch * n for ch, n in parts))
    .filter(_accepted)
)


@settings(max_examples=40, deadline=None)
@given(messages=st.lists(texts, min_size=1, max_size=25), limit=st.integers(1, 100))
def test_any_history_pages_to_its_start_within_the_budget(messages, limit):
    new_id = UlidGenerator()
    items = [
        {
            "roomId": {"S": LONGEST_ROOM},
            "messageId": {"S": new_id(BASE_MS + i)},
            "sentAt": {"S": "2027-01-15T08:00:00.000Z"},
            "sender": {"S": WIDEST_NAME},
            "message": {"S": text},
            "clientMsgId": {"S": LONGEST_ID},
        }
        for i, text in enumerate(messages)
    ]
    history = DynamoHistory(ListQuery(items), "history")
    seen: list[str] = []
    before = None
    while True:
        page = history.page(LONGEST_ROOM, limit, before, protocol.history_budget(LONGEST_ROOM))
        frame = protocol.history_frame(LONGEST_ROOM, page.messages, page.next_cursor)
        assert protocol.frame_bytes(frame) <= REPLY_BYTES_BUDGET
        assert len(page.messages) <= limit
        seen = [m.message_id for m in page.messages] + seen
        if page.next_cursor is None:
            break
        assert page.messages
        before = page.next_cursor
    assert seen == [i["messageId"]["S"] for i in items]
    recent = history.page(
        LONGEST_ROOM, 20, None, protocol.joined_budget(LONGEST_ROOM, WIDEST_NAME, 10**6)
    )
    joined = protocol.joined_frame(
        LONGEST_ROOM, WIDEST_NAME, 10**6, recent.messages, recent.next_cursor
    )
    assert protocol.frame_bytes(joined) <= REPLY_BYTES_BUDGET
