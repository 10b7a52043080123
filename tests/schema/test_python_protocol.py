"""functions/roomchat/protocol/ agrees with docs/asyncapi.yaml: what the schemas allow, the
Lambda code accepts, and the other way round; every bad frame of the unit tests is refused by
the schemas too; and every server frame protocol.py builds matches its schema.

Where a schema cannot say exactly what the server checks (the document's description lists
them: UTF-8 bytes of a message, `limit: 5.0`, unassigned or rare format characters in a name),
the tests state the exception instead of skipping the field.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from roomchat import errors, protocol
from roomchat.ports import MEMBER, MODERATOR, Mention, Message, Pin, Reaction, Room
from roomchat.settings import ATTACHMENT_MAX_BYTES_DEFAULT, ATTACHMENT_TYPES_DEFAULT
from roomchat.ulid import UlidGenerator
from roomchat.usecases import iso_ms
from tests.schema.support import (
    CLIENT_FRAMES,
    SERVER_FRAMES,
    inline,
    problems,
    strategy,
    validator,
)
from tests.unit.test_errors import BAD_FRAMES

MAX_BYTES = protocol.MESSAGE_BYTES_DEFAULT
# The attachments' defaults, which the schemas list (ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES).
FILE_BYTES = ATTACHMENT_MAX_BYTES_DEFAULT
FILE_TYPES = ATTACHMENT_TYPES_DEFAULT
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
_PARSERS = {
    "join": protocol.parse_join,
    "leave": protocol.parse_room,
    "members": protocol.parse_room,
    "sendAll": lambda frame: protocol.parse_send(frame, MAX_BYTES, FILE_BYTES, FILE_TYPES),
    "history": protocol.parse_history,
    "ping": lambda frame: None,  # on_ping reads nothing but the action
    "createRoom": protocol.parse_create_room,
    "invite": protocol.parse_user,
    "uninvite": protocol.parse_user,
    "promote": protocol.parse_user,
    "demote": protocol.parse_user,
    "delete": protocol.parse_message_ref,
    "edit": lambda frame: protocol.parse_edit(frame, MAX_BYTES),
    "typing": protocol.parse_room,
    "markRead": protocol.parse_message_ref,
    "kick": protocol.parse_kick,
    "disconnectUser": protocol.parse_user,
    "resume": protocol.parse_resume,
    "thread": protocol.parse_thread,
    "threads": protocol.parse_threads,
    "follow": protocol.parse_follow,
    "react": protocol.parse_react,
    "mentions": protocol.parse_mentions,
    "pin": protocol.parse_pin,
    "prepareUpload": lambda frame: protocol.parse_prepare_upload(frame, FILE_BYTES, FILE_TYPES),
    "attachmentUrl": protocol.parse_attachment_url,
    # Where the deployment has SNS platform applications (else `mobile` is refused).
    "registerDevice": lambda f: protocol.parse_register_device(f, mobile=True),
    "unregisterDevice": protocol.parse_device_ref,
    "notifyLevel": protocol.parse_notify_level,
}
# What Python refuses in a name or a userId that the schemas' patterns cannot list (see the
# document).
_NAME_GAP_CATEGORIES = {"Cn", "Cf", "Co", "Cs"}


def python_verdict(frame: Any) -> str:
    """'ok', 'too_large' or 'refused': what the Lambda code makes of a client frame."""
    if not isinstance(frame, dict) or protocol.action_of(frame) not in _PARSERS:
        return "refused"  # $default answers bad_request or unknown_action
    try:
        _PARSERS[frame["action"]](frame)
    except errors.TooLarge:
        return "too_large"
    except errors.BadRequest:
        return "refused"
    return "ok"


def schema_accepts(frame: Any) -> bool:
    return validator("ClientFrame").is_valid(frame)


def _in_gap(text: object) -> bool:
    return isinstance(text, str) and any(
        unicodedata.category(ch) in _NAME_GAP_CATEGORIES for ch in text
    )


def _name_in_gap(frame: dict) -> bool:
    return _in_gap(frame.get("name")) or _in_gap(frame.get("userId"))


def _room_named_twice(frame: dict) -> bool:
    """A `resume` naming a room twice: refused by the server, allowed by the schema (its
    description says so)."""
    rooms = frame.get("rooms") if frame.get("action") == "resume" else None
    ids = [r.get("roomId") for r in rooms if isinstance(r, dict)] if isinstance(rooms, list) else []
    return len(ids) != len(set(ids))


def _upload_attached_twice(frame: dict) -> bool:
    """A `sendAll` naming an upload twice: refused by the server, allowed by the schema (its
    description says so, as for `resume`'s rooms)."""
    files = frame.get("attachments") if frame.get("action") == "sendAll" else None
    if not isinstance(files, list):
        return False
    ids = [f.get("uploadId") for f in files if isinstance(f, dict)]
    return len(ids) != len(set(map(repr, ids)))


def _integral_float(frame: dict, *keys: str) -> bool:
    """`limit: 5.0` or `size: 5.0` (a JSON integer to draft-07, refused by the server: see the
    document), at the top or in an attachment."""
    values = [frame.get(k) for k in keys]
    files = frame.get("attachments")
    if isinstance(files, list):
        values += [f.get("size") for f in files if isinstance(f, dict)]
    return any(isinstance(v, float) and v.is_integer() for v in values)


def _utf8_size(text: Any) -> int:
    return len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else 0


# ---- schema -> Python -----------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(CLIENT_FRAMES))
@SETTINGS
@given(data=st.data())
def test_frames_the_schema_allows_are_accepted_by_the_lambda_code(action: str, data) -> None:
    frame = data.draw(strategy(inline(CLIENT_FRAMES[action])))
    assume(not _name_in_gap(frame) and not _room_named_twice(frame))
    assume(not _upload_attached_twice(frame) and not _integral_float(frame, "size"))
    verdict = python_verdict(frame)
    if _utf8_size(frame.get("message")) > MAX_BYTES:
        assert verdict == "too_large"
    else:
        assert verdict == "ok", frame


# ---- Python -> schema, and both ways on frames near the edge --------------------------------

_room_ids = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9_.:-]{1,64}\Z"),
    st.text(max_size=70),
    st.sampled_from(["lobby\n", "", "r" * 65, "lob by", "conn#A"]),
    st.integers(),
    st.none(),
)
_names = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("ab \t\n\x00\x7f\x85\xa0\u200b\u2028\u3000é🎉"), max_size=36),
    st.none(),
    st.integers(),
)
_ulids = st.integers(0, 2**47).map(lambda ms: UlidGenerator()(ms))
_texts = st.one_of(st.text(max_size=40), st.just(""), st.just("\ud800"), st.none(), st.integers())
_client_msg_ids = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9_.:-]{1,64}\Z"), st.text(max_size=70), st.none(), st.booleans()
)
_limits = st.one_of(
    st.integers(-5, 120),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
)
_befores = st.one_of(_ulids, _ulids.map(lambda u: u + "\n"), st.text(max_size=30), st.none())
_policies = st.one_of(
    st.sampled_from([*protocol.POLICIES, "Open", "public", "", " open"]),
    st.none(),
    st.integers(),
    st.text(max_size=10),
)
_user_ids = st.one_of(
    st.text(max_size=140),
    st.text(
        alphabet=st.sampled_from("ab|- \t\n\x00\x7f\x85\xa0\u200b\u2028\u3000é🎉"), max_size=12
    ),
    st.sampled_from(["", "u" * 128, "u" * 129, "ana sub", " ", "a\nb"]),
    st.none(),
    st.integers(),
)
_types = st.one_of(
    st.sampled_from([*ATTACHMENT_TYPES_DEFAULT, "image/svg+xml", "IMAGE/PNG", "", "image/*"]),
    st.none(),
    st.integers(),
)
_sizes = st.one_of(
    st.integers(-2, 3),
    st.sampled_from([ATTACHMENT_MAX_BYTES_DEFAULT, ATTACHMENT_MAX_BYTES_DEFAULT + 1]),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
)
_file_names = st.one_of(
    _names,
    st.sampled_from(["cat.png", ".", "..", "...", "a/b", "a\\b", 'a"b', " a", "a ", "n" * 101]),
)
_attachment = st.fixed_dictionaries(
    {"uploadId": _ulids, "name": _file_names, "type": _types, "size": _sizes}
)
_attachments = st.one_of(
    st.lists(_attachment, max_size=11),
    st.lists(st.one_of(_attachment, st.integers(), st.none()), max_size=2),
    st.none(),
    st.text(max_size=3),
)
_flags = st.one_of(st.booleans(), st.none(), st.integers(0, 1), st.sampled_from(["true", ""]))
_emoji = st.one_of(
    st.sampled_from(protocol.REACTIONS),
    st.sampled_from(["❤", "👍🏽", "👍👍", "#️⃣", "", " 👍"]),
    st.text(max_size=3),
    st.none(),
    st.integers(),
)


@st.composite
def near_frames(draw) -> dict[str, Any]:
    action = draw(st.sampled_from([*CLIENT_FRAMES, "dance", None, 7]))
    fields = {
        "roomId": _room_ids,
        "name": _names,
        "message": _texts,
        "clientMsgId": _client_msg_ids,
        "limit": _limits,
        "before": _befores,
        "policy": _policies,
        "userId": _user_ids,
        "messageId": _befores,
        "replyTo": _befores,
        "alsoToRoom": _flags,
        "remove": _flags,
        "emoji": _emoji,
        "type": _types,
        "size": _sizes,
        "uploadId": _befores,
        "attachments": _attachments,
        "thumbnail": _flags,
    }
    frame: dict[str, Any] = {} if action is None else {"action": action}
    for key, values in fields.items():
        if draw(st.booleans()):
            frame[key] = draw(values)
    return frame


@SETTINGS
@given(frame=near_frames())
@example(frame={"action": "join", "roomId": "lobby\n"})
@example(frame={"action": "sendAll", "roomId": "r", "message": "\ud800"})
@example(frame={"action": "history", "roomId": "r", "before": "01HZX3K9Q8V7N6M5K4J3H2G1F0\n"})
@example(frame={"action": "join", "roomId": "r", "name": " \t ana \n"})
@example(frame={"action": "join", "roomId": "r", "name": "a\u202fb"})
@example(frame={"action": "join", "roomId": "r", "name": "ana \u2764\ufe0f"})  # emoji + VS16
@example(frame={"action": "join", "roomId": "r", "name": "a\u034fb\u3164"})
@example(frame={"action": "createRoom", "roomId": "r", "policy": None})
@example(frame={"action": "createRoom", "roomId": "r"})
@example(frame={"action": "invite", "roomId": "r", "userId": "u" * 129})
@example(frame={"action": "promote", "roomId": "r", "userId": " "})
@example(frame={"action": "demote", "roomId": "r", "userId": "a\u3000b"})
@example(frame={"action": "uninvite", "roomId": "r"})
@example(frame={"action": "sendAll", "roomId": "r", "message": "m", "alsoToRoom": True})
@example(frame={"action": "sendAll", "roomId": "r", "message": "m", "alsoToRoom": False})
@example(
    frame={"action": "sendAll", "roomId": "r", "message": "m", "alsoToRoom": True, "replyTo": None}
)
@example(frame={"action": "react", "roomId": "r", "messageId": "0" * 26, "emoji": "❤"})
@example(frame={"action": "react", "roomId": "r", "messageId": "0" * 26, "emoji": "❤️‍🔥"})
@example(frame={"action": "pin", "roomId": "r", "messageId": "0" * 26, "remove": None})
@example(frame={"action": "mentions", "limit": 51})
@example(frame={"action": "threads", "roomId": "r", "limit": 21})
def test_the_schema_and_the_lambda_code_agree_on_every_frame(frame: dict[str, Any]) -> None:
    assume(not _name_in_gap(frame))
    limit = frame.get("limit")
    assume(not (isinstance(limit, float) and limit.is_integer()))  # 5.0: see the document
    assume(not _integral_float(frame, "size") and not _upload_attached_twice(frame))
    verdict = python_verdict(frame)
    if verdict == "too_large":
        assert schema_accepts(frame) or _utf8_size(frame.get("message")) > MAX_BYTES
        return
    assert schema_accepts(frame) == (verdict == "ok"), (frame, verdict)


def test_integral_floats_are_the_one_documented_difference_for_limit() -> None:
    frame = {"action": "history", "roomId": "r", "limit": 5.0}
    assert schema_accepts(frame) and python_verdict(frame) == "refused"


# ---- the unit tests' bad frames ----------------------------------------------------------------


@pytest.mark.parametrize(("body", "code", "action"), BAD_FRAMES)
def test_every_bad_frame_of_the_unit_tests_is_refused_by_the_schema(body, code, action) -> None:
    try:
        frame = json.loads(body)
    except ValueError:
        return  # not JSON at all: no schema can accept it
    if code in ("bad_request", "unknown_action"):
        assert not schema_accepts(frame), body
    else:  # refused for the state of the room (not_member), not for its shape
        assert schema_accepts(frame), body


# ---- frames protocol.py builds -------------------------------------------------------------

_valid_room_ids = st.from_regex(r"\A[A-Za-z0-9_.:-]{1,64}\Z")
# Printable by construction (str.isprintable: no category C or Z but the ASCII space), so the
# draws below seldom need a retry: filtering random text for these made almost every example
# invalid (Hypothesis gave up on most, and the test took minutes).
_printable = st.characters(codec="utf-8", exclude_categories=("C", "Z")) | st.just(" ")
_valid_user_ids = st.text(_printable, min_size=1, max_size=128).filter(lambda u: not _in_gap(u))
_valid_names = (
    st.text(_printable, min_size=1, max_size=32).map(str.strip).filter(lambda n: len(n) > 0)
)


@st.composite
def messages(draw, room_id: str | None = None) -> Message:
    return Message(
        room_id=room_id or draw(_valid_room_ids),
        message_id=draw(_ulids),
        sent_at=iso_ms(draw(st.integers(0, 253402300799999))),
        sender=draw(_valid_names),
        message=draw(st.text(min_size=1, max_size=50)),
        client_msg_id=draw(st.one_of(st.none(), _valid_room_ids)),
        author_id=draw(st.one_of(st.none(), _valid_room_ids)),
    )


def _check(frame: dict[str, Any]) -> None:
    """The frame matches its type's schema, and as sent (encoded) exactly one server frame."""
    assert problems(SERVER_FRAMES[frame["type"]], frame) == []
    assert validator("ServerFrame").is_valid(json.loads(protocol.encode(frame)))


@SETTINGS
@given(room_id=_valid_room_ids, data=st.data())
def test_frames_built_by_protocol_py_match_their_schemas(room_id: str, data) -> None:
    recent = data.draw(st.lists(messages(room_id), max_size=3))
    name = data.draw(_valid_names)
    _check(protocol.message_frame(data.draw(messages(room_id))))
    cursor = data.draw(st.one_of(st.none(), _ulids))
    members = data.draw(st.integers(1, 10_000))
    you = data.draw(_valid_room_ids)
    last_read = data.draw(st.one_of(st.none(), _ulids))
    unread = data.draw(st.integers(0, 500))
    _check(protocol.joined_frame(room_id, name, members, recent, cursor, you, last_read, unread))
    # issue 13's frames: the life of a message and moderation
    msg = data.draw(messages(room_id))
    at = iso_ms(data.draw(st.integers(0, 253402300799999)))
    _check(protocol.deleted_frame(room_id, msg.message_id, you, at))
    _check(protocol.message_frame(replace(msg, deleted_by=you, deleted_at=at)))
    _check(protocol.edited_frame(replace(msg, edited_at=at)))
    _check(protocol.message_frame(replace(msg, edited_at=at)))
    _check(protocol.typing_frame(room_id, name, you))
    _check(protocol.read_frame(room_id, msg.message_id))
    until = data.draw(st.one_of(st.none(), st.integers(0, 2**40)))
    names = data.draw(st.lists(_valid_names, max_size=3))
    _check(protocol.kicked_frame(room_id, you, names, until, data.draw(st.booleans())))
    _check(protocol.disconnected_frame(you, data.draw(st.integers(0, 100))))
    _check(protocol.left_frame(room_id))
    _check(protocol.presence_frame(data.draw(st.sampled_from(["join", "leave"])), room_id, name))
    _check(protocol.history_frame(room_id, recent, data.draw(st.one_of(st.none(), _ulids))))
    _check(protocol.members_frame(room_id, data.draw(st.lists(_valid_names, max_size=5))))
    _check(protocol.pong_frame())
    owner = data.draw(_valid_user_ids)
    created = iso_ms(data.draw(st.integers(0, 253402300799999)))
    policy = data.draw(st.sampled_from(protocol.POLICIES))
    _check(protocol.room_created_frame(Room(room_id, owner, policy, created)))
    role = data.draw(st.sampled_from([MEMBER, MODERATOR, None]))
    _check(protocol.role_frame(room_id, data.draw(_valid_user_ids), role))
    _check_conversation_frames(data, room_id, msg, name, you, at)


def _check_conversation_frames(data, room_id, msg, name, you, at) -> None:
    """Issue 22's frames, and a message frame with everything threads, reactions and
    mentions add."""
    parent_id = data.draw(_ulids)
    emoji = data.draw(st.lists(st.sampled_from(protocol.REACTIONS), unique=True, max_size=4))
    users = data.draw(st.lists(_valid_room_ids, max_size=protocol.REACTION_USERS_LISTED))
    reactions = tuple(Reaction(e, data.draw(st.integers(1, 10**6)), tuple(users)) for e in emoji)
    mentions = tuple(
        Mention(data.draw(_valid_room_ids), n)
        for n in data.draw(st.lists(_valid_names, max_size=3))
    )
    full = replace(
        msg,
        reply_to=parent_id,
        also_to_room=data.draw(st.booleans()),
        reply_count=data.draw(st.integers(0, 10**6)),
        last_reply_at=at,
        reactions=reactions,
        mentions=mentions,
        mentions_room=data.draw(st.booleans()),
    )
    _check(protocol.message_frame(full))
    _check(protocol.message_frame(replace(full, deleted_by=you, deleted_at=at)))
    live = protocol.message_frame(full)
    live["thread"] = {"replyCount": data.draw(st.integers(1, 100)), "lastReplyAt": at}
    _check(live)
    _check(protocol.deleted_frame(room_id, msg.message_id, you, at, parent_id))
    _check(protocol.edited_frame(replace(msg, edited_at=at, reply_to=parent_id)))
    _check(protocol.read_frame(room_id, msg.message_id, parent_id))
    replies = data.draw(st.lists(messages(room_id), max_size=3))
    unread = data.draw(st.integers(0, 100))
    following = data.draw(st.booleans())
    last = data.draw(st.one_of(st.none(), _ulids))
    cursor = data.draw(st.one_of(st.none(), _ulids))
    _check(protocol.thread_frame(room_id, full, replies, cursor, following, last, unread))
    _check(protocol.following_frame(room_id, parent_id, following))
    entry = protocol.followed_entry(data.draw(st.sampled_from([msg, full])), last, unread)
    _check(protocol.threads_frame(room_id, [entry], cursor))
    added = data.draw(st.booleans())
    version = data.draw(st.integers(0, 10**6))
    _check(protocol.reaction_frame(full, emoji[0] if emoji else "👍", you, name, added, version))
    _check(protocol.mentions_frame([*replies, full], cursor))
    pin = Pin(msg.message_id, you, at, data.draw(st.one_of(st.none(), _ulids)))
    pinned_msg = data.draw(st.sampled_from([None, msg, full, replace(msg, message="x" * 300)]))
    pin_entry = protocol.pin_entry(pin, pinned_msg)
    _check(protocol.pinned_frame(room_id, pin_entry, added))
    _check(protocol.joined_frame(room_id, name, 1, [], None, you, None, 0, [pin_entry]))


@pytest.mark.parametrize(
    "error",
    [
        errors.BadRequest("'roomId' is required"),
        errors.UnknownAction("unknown action 'dance'"),
        errors.NotMember("you are not in room 'r'", room_id="r"),
        errors.Forbidden("only the owner or a moderator of room 'r' may do that", room_id="r"),
        errors.Forbidden("sign in to create rooms"),
        errors.TooLarge("'message' is 40000 bytes", room_id="r"),
        errors.RateLimited("slow down", room_id="r"),
        errors.Internal("try again"),
    ],
    ids=lambda e: e.code,
)
@pytest.mark.parametrize("action", [None, "sendAll"])
def test_error_frames_match_their_schema(error: errors.ChatError, action: str | None) -> None:
    _check(protocol.error_frame(error, action))
    _check(protocol.error_frame(error, action, client_msg_id="c-1"))


def test_server_frame_schemas_refuse_what_protocol_py_never_sends() -> None:
    """The server frame schemas are closed: an extra or a missing property is an error."""
    assert not validator("ServerFrame").is_valid({"type": "pong", "extra": 1})
    assert not validator("ServerFrame").is_valid({"type": "left"})
    assert not validator("ServerFrame").is_valid(
        {"type": "presence", "event": "wave", "roomId": "r", "name": "a"}
    )
    role = {"type": "role", "roomId": "r", "userId": "u", "role": "member"}
    assert validator("ServerFrame").is_valid(role)
    assert not validator("ServerFrame").is_valid({**role, "role": "owner"})  # never a role row
    assert not validator("ServerFrame").is_valid({k: v for k, v in role.items() if k != "role"})


def test_a_members_frame_trimmed_to_fit_matches_its_schema() -> None:
    """Once, not per example above: ~4,000 names checked three times cost ~50 s over the run."""
    many = [f"member{i:04d}-" + "x" * 18 for i in range(4000)]  # ~4,000 x 32-char names
    trimmed = protocol.members_frame_within("lobby", many)
    assert trimmed.get("omitted", 0) > 0
    _check(trimmed)
