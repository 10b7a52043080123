"""Property-based tests over whole handler invocations: whatever a client sends, the handler
answers with a well-formed frame, never raises, and an error answer has written nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomchat import handlers
from tests.unit.conftest import ROUTES, Context

FRAME_TYPES = {
    *("joined", "left", "message", "history", "members", "pong", "error"),
    *("roomCreated", "role"),
    *("deleted", "edited", "typing", "read", "kicked", "disconnected", "presence"),
    *("thread", "threads", "following", "reaction", "mentions", "pinned"),
}
ERROR_CODES = {
    *("bad_request", "unknown_action", "not_member", "forbidden", "too_large", "internal"),
    *("rate_limited", "not_found"),
}
HANDLERS = [*ROUTES.values(), handlers.on_default]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
room_ids = st.sampled_from(["lobby", "elsewhere", "", "r" * 65, "conn#A", "x y", "ü"]) | st.text()
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Z", "C"]),
    max_size=64,
) | st.sampled_from(["\u202e", "\ud800", "a" * 40_000, "😀" * 9000, "\x00", ""])
frames = st.fixed_dictionaries(
    {"action": st.sampled_from([*ROUTES, "dance", ""]) | json_values},
    optional={
        "roomId": room_ids | json_values,
        "name": odd_text | json_values,
        "message": odd_text | json_values,
        "clientMsgId": odd_text | json_values,
        "limit": st.integers(-5, 200) | json_values,
        "before": st.sampled_from(["01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope"]) | json_values,
        "messageId": st.sampled_from(["01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope"]) | json_values,
        "replyTo": st.sampled_from(["01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope"]) | json_values,
        "emoji": st.sampled_from(["👍", "❤️", "❤", "👍👍", "x"]) | json_values,
        "remove": json_values,
        "alsoToRoom": json_values,
    },
)


def _check(chat, handler, body: str | None) -> None:
    before = chat.items()
    event = chat.event("A", "fuzz", body)
    response = handler(event, Context())

    assert isinstance(response["statusCode"], int)
    if "body" not in response:
        return
    frame = json.loads(response["body"])
    assert frame["type"] in FRAME_TYPES
    if frame["type"] == "error":
        assert frame["code"] in ERROR_CODES and frame["code"] != "internal", frame
        assert isinstance(frame["message"], str) and frame["message"]
        assert chat.items() == before
        assert response["statusCode"] >= 400


@FUZZ
@given(handler=st.sampled_from(HANDLERS), body=st.text(max_size=300) | st.none())
def test_any_text_body_gets_a_well_formed_answer(chat, handler, body):
    chat.join("A", "lobby", "ana")
    _check(chat, handler, body)


@FUZZ
@given(handler=st.sampled_from(HANDLERS), frame=frames)
def test_any_json_frame_gets_a_well_formed_answer(chat, handler, frame):
    chat.join("A", "lobby", "ana")
    _check(chat, handler, json.dumps(frame))
