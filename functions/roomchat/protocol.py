"""The wire protocol: request validation and server frames. Pure functions, no I/O.

Every client frame is a JSON object with an ``action``; every server frame a JSON object with a
``type``. Validation raises the project's errors (``BadRequest``, ``TooLarge``, ...) with text a
person can act on; nothing here touches storage, so a refused request has written nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, ChatError, TooLarge, UnknownAction
from .ulid import is_ulid

# \Z, not $: $ also matches before a final newline, which would let "lobby\n" through.
ROOM_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
CLIENT_MSG_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
NAME_MAX = 32
HISTORY_LIMIT_MAX = 100
HISTORY_LIMIT_DEFAULT = 50
# API Gateway's WebSocket frame limit; a message may use at most this many UTF-8 bytes.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html ("WebSocket frame size")
MESSAGE_BYTES_DEFAULT = 32 * 1024
# API Gateway's WebSocket message payload quota: no frame we send (route reply or @connections
# post) may be larger. Same page as above ("Message payload size", 128 KB, not adjustable).
FRAME_BYTES_MAX = 128 * 1024
# What a reply carrying many messages (history, joined.recent) or names (members) may use of it,
# measured on the encoded frame: room to spare under FRAME_BYTES_MAX.
REPLY_BYTES_BUDGET = 96 * 1024
# A message as JSON text in our frames. JSON escapes control characters as \u00XX (6 bytes for
# 1), so a 32 KB message could take 192 KB on the wire; on AWS the client's own frame (32 KB,
# escaped the same way) already bounds it, and this makes the bound ours: any one message frame
# fits a reply with REPLY_BYTES_BUDGET, so a page always makes progress.
MESSAGE_JSON_BYTES_MAX = 64 * 1024

ACTIONS = (
    "join",
    "leave",
    "sendAll",
    "history",
    "members",
    "ping",
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
    "disconnectUser",
)
POLICIES = ("open", "private", "announce")
USER_ID_MAX = 128  # a token's sub
# Ten years: longer bans are "forever".
BAN_SECONDS_MAX = 10 * 365 * 86400
# joined.unread counts up to this many messages after the reader's marker, then says "more".
UNREAD_CAP = 100


# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class JoinRequest:
    room_id: str
    name: str | None


@dataclass(frozen=True)
class RoomRequest:
    """leave and members: only a room."""

    room_id: str


@dataclass(frozen=True)
class SendRequest:
    room_id: str
    message: str
    client_msg_id: str | None


@dataclass(frozen=True)
class HistoryRequest:
    room_id: str
    limit: int
    before: str | None


@dataclass(frozen=True)
class CreateRoomRequest:
    room_id: str
    policy: str


@dataclass(frozen=True)
class UserRequest:
    """invite, uninvite, promote, demote, disconnectUser: a room and the user (a token's sub,
    or a connection id without sign-in) it is about."""

    room_id: str
    user_id: str


@dataclass(frozen=True)
class MessageRef:
    """delete and markRead: one message of a room."""

    room_id: str
    message_id: str


@dataclass(frozen=True)
class EditRequest:
    room_id: str
    message_id: str
    message: str


@dataclass(frozen=True)
class KickRequest:
    room_id: str
    user_id: str
    ban_seconds: int | None  # None: no ban
    forever: bool  # a ban with no end


def parse_body(body: str | bytes | None) -> dict[str, Any]:
    """The client frame as a JSON object, or ``BadRequest``."""
    if body is None or body == "" or body == b"":
        raise BadRequest("empty frame: send a JSON object with an 'action'")
    try:
        frame = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise BadRequest("frame must be a JSON object with an 'action'")
    return frame


def action_of(frame: dict[str, Any]) -> str | None:
    action = frame.get("action")
    return action if isinstance(action, str) else None


def check_room_id(value: object) -> str:
    if value is None:
        raise BadRequest("'roomId' is required")
    if not isinstance(value, str) or not ROOM_ID_RE.match(value):
        raise BadRequest("'roomId' must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return value


def check_name(value: object) -> str:
    if not isinstance(value, str):
        raise BadRequest("'name' must be a string of 1-32 printable characters")
    name = value.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise BadRequest("'name' must be 1-32 printable characters")
    return name


def check_message(value: object, max_bytes: int) -> str:
    if value is None:
        raise BadRequest("'message' is required")
    if not isinstance(value, str):
        raise BadRequest("'message' must be a string")
    if not value:
        raise BadRequest("'message' must not be empty")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        # Lone surrogates (from \ud800-style JSON escapes) cannot be stored or delivered.
        raise BadRequest("'message' is not valid Unicode text") from None
    if size > max_bytes:
        raise TooLarge(f"'message' is {size} bytes; the limit is {max_bytes} bytes of UTF-8")
    escaped = json_bytes(value)
    if escaped > MESSAGE_JSON_BYTES_MAX:
        raise TooLarge(
            f"'message' takes {escaped} bytes as JSON (control characters are escaped); "
            f"the limit is {MESSAGE_JSON_BYTES_MAX}"
        )
    return value


def _optional_client_msg_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_MSG_ID_RE.match(value):
        raise BadRequest("'clientMsgId' must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return value


def _limit(value: object) -> int:
    if value is None:
        return HISTORY_LIMIT_DEFAULT
    # bool is an int in Python; true/false is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'limit' must be a whole number from 1 to {HISTORY_LIMIT_MAX}")
    if not 1 <= value <= HISTORY_LIMIT_MAX:
        raise BadRequest(f"'limit' must be from 1 to {HISTORY_LIMIT_MAX}")
    return value


def _before(value: object) -> str | None:
    if value is None:
        return None
    if not is_ulid(value):
        raise BadRequest("'before' must be a messageId from an earlier history page")
    return value  # type: ignore[return-value]


def parse_join(frame: dict[str, Any]) -> JoinRequest:
    room_id = check_room_id(frame.get("roomId"))
    name = frame.get("name")
    return JoinRequest(room_id, None if name is None else check_name(name))


def parse_room(frame: dict[str, Any]) -> RoomRequest:
    return RoomRequest(check_room_id(frame.get("roomId")))


def parse_send(frame: dict[str, Any], max_bytes: int) -> SendRequest:
    room_id = check_room_id(frame.get("roomId"))
    client_msg_id = _optional_client_msg_id(frame.get("clientMsgId"))
    return SendRequest(room_id, check_message(frame.get("message"), max_bytes), client_msg_id)


def parse_history(frame: dict[str, Any]) -> HistoryRequest:
    room_id = check_room_id(frame.get("roomId"))
    return HistoryRequest(room_id, _limit(frame.get("limit")), _before(frame.get("before")))


def parse_create_room(frame: dict[str, Any]) -> CreateRoomRequest:
    room_id = check_room_id(frame.get("roomId"))
    policy = frame.get("policy", "open")
    if policy not in POLICIES:
        raise BadRequest("'policy' must be one of: " + ", ".join(POLICIES))
    return CreateRoomRequest(room_id, policy)


def check_user_id(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > USER_ID_MAX
        or not value.isprintable()
    ):
        raise BadRequest(f"'userId' must be 1-{USER_ID_MAX} printable characters (a user's id)")
    return value


def parse_user(frame: dict[str, Any]) -> UserRequest:
    return UserRequest(check_room_id(frame.get("roomId")), check_user_id(frame.get("userId")))


def _message_id(value: object) -> str:
    if value is None:
        raise BadRequest("'messageId' is required")
    if not is_ulid(value):
        raise BadRequest("'messageId' must be the messageId of a message in the room")
    return value  # type: ignore[return-value]


def parse_message_ref(frame: dict[str, Any]) -> MessageRef:
    return MessageRef(check_room_id(frame.get("roomId")), _message_id(frame.get("messageId")))


def parse_edit(frame: dict[str, Any], max_bytes: int) -> EditRequest:
    room_id = check_room_id(frame.get("roomId"))
    message_id = _message_id(frame.get("messageId"))
    return EditRequest(room_id, message_id, check_message(frame.get("message"), max_bytes))


def parse_kick(frame: dict[str, Any]) -> KickRequest:
    room_id = check_room_id(frame.get("roomId"))
    user_id = check_user_id(frame.get("userId"))
    ban = frame.get("ban")
    if ban is None or ban is False:
        return KickRequest(room_id, user_id, None, False)
    if ban == "forever" or ban is True:
        return KickRequest(room_id, user_id, None, True)
    if isinstance(ban, int) and not isinstance(ban, bool) and 1 <= ban <= BAN_SECONDS_MAX:
        return KickRequest(room_id, user_id, ban, False)
    raise BadRequest(f"'ban' must be a number of seconds from 1 to {BAN_SECONDS_MAX} or 'forever'")


def classify_default(body: str | bytes | None) -> ChatError:
    """Why a frame reached ``$default``: not JSON, no action, or an action we don't serve."""
    try:
        frame = parse_body(body)
    except BadRequest as e:
        return e
    action = frame.get("action")
    if action is None:
        return BadRequest("frame has no 'action'; one of: " + ", ".join(ACTIONS))
    if not isinstance(action, str):
        return BadRequest("'action' must be a string; one of: " + ", ".join(ACTIONS))
    return UnknownAction(f"unknown action {action[:64]!r}; one of: " + ", ".join(ACTIONS))


# ---------------------------------------------------------------------------- frames


def message_frame(msg: Any) -> dict[str, Any]:
    """The frame every member of the room receives (the sender's ack too). A deleted message
    (a tombstone) has ``message: null`` and says who deleted it and when; an edited one has
    ``editedAt``. ``authorId`` lets a client tell its own messages (compare ``joined.you``)."""
    frame = {
        "type": "message",
        "roomId": msg.room_id,
        "messageId": msg.message_id,
        "sentAt": msg.sent_at,
        "sender": msg.sender,
        "message": None if msg.deleted else msg.message,
        "clientMsgId": msg.client_msg_id,
        "authorId": msg.author,
    }
    if msg.edited_at and not msg.deleted:
        frame["editedAt"] = msg.edited_at
    if msg.deleted:
        frame["deletedBy"] = msg.deleted_by
        frame["deletedAt"] = msg.deleted_at
    return frame


def deleted_frame(room_id: str, message_id: str, by: str, at: str) -> dict[str, Any]:
    return {
        "type": "deleted",
        "roomId": room_id,
        "messageId": message_id,
        "deletedBy": by,
        "deletedAt": at,
    }


def edited_frame(msg: Any) -> dict[str, Any]:
    return {
        "type": "edited",
        "roomId": msg.room_id,
        "messageId": msg.message_id,
        "message": msg.message,
        "editedAt": msg.edited_at,
    }


def typing_frame(room_id: str, name: str, user_id: str) -> dict[str, Any]:
    return {"type": "typing", "roomId": room_id, "name": name, "userId": user_id}


def read_frame(room_id: str, last_read: str) -> dict[str, Any]:
    return {"type": "read", "roomId": room_id, "lastRead": last_read}


def kicked_frame(
    room_id: str, user_id: str, names: list[str], until: int | None, banned: bool
) -> dict[str, Any]:
    """To the room (the kicked user's connections included) and the moderator. ``bannedUntil``
    is epoch seconds, null with ``banned`` true for a ban with no end."""
    return {
        "type": "kicked",
        "roomId": room_id,
        "userId": user_id,
        "names": names,
        "banned": banned,
        "bannedUntil": until,
    }


def disconnected_frame(user_id: str, connections: int) -> dict[str, Any]:
    return {"type": "disconnected", "userId": user_id, "connections": connections}


def joined_frame(
    room_id: str,
    name: str,
    members: int,
    recent: list[Any],
    next_cursor: str | None,
    you: str = "",
    last_read: str | None = None,
    unread: int = 0,
) -> dict[str, Any]:
    """``next`` is the ``before`` cursor for the history older than ``recent`` (null when
    ``recent`` reaches the start of the room). ``you`` is the caller's authorId; ``lastRead``
    its read marker (null when none) and ``unread`` the messages after it, counted up to
    UNREAD_CAP (``unreadCapped`` true: "100+")."""
    return {
        "type": "joined",
        "roomId": room_id,
        "name": name,
        "members": members,
        "recent": [message_frame(m) for m in recent],
        "next": next_cursor,
        "you": you,
        "lastRead": last_read,
        "unread": min(unread, UNREAD_CAP),
        "unreadCapped": unread > UNREAD_CAP,
    }


def left_frame(room_id: str) -> dict[str, Any]:
    return {"type": "left", "roomId": room_id}


def presence_frame(event: str, room_id: str, name: str) -> dict[str, Any]:
    return {"type": "presence", "event": event, "roomId": room_id, "name": name}


def history_frame(room_id: str, messages: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {
        "type": "history",
        "roomId": room_id,
        "messages": [message_frame(m) for m in messages],
        "next": next_cursor,
    }


def members_frame(room_id: str, names: list[str]) -> dict[str, Any]:
    return {"type": "members", "roomId": room_id, "members": names}


def room_created_frame(room: Any) -> dict[str, Any]:
    return {
        "type": "roomCreated",
        "roomId": room.room_id,
        "policy": room.policy,
        "owner": room.owner,
        "createdAt": room.created_at,
    }


def role_frame(room_id: str, user_id: str, role: str | None) -> dict[str, Any]:
    """The answer to invite/uninvite/promote/demote: the user's role now (null: none)."""
    return {"type": "role", "roomId": room_id, "userId": user_id, "role": role}


def pong_frame() -> dict[str, Any]:
    return {"type": "pong"}


def error_frame(
    error: ChatError, action: str | None, client_msg_id: str | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "error",
        "code": error.code,
        "message": error.message,
        "action": action,
    }
    if error.room_id is not None:
        frame["roomId"] = error.room_id
    if client_msg_id is not None:
        frame["clientMsgId"] = client_msg_id
    return frame


def encode(frame: dict[str, Any]) -> str:
    # ensure_ascii=False keeps non-Latin chat text at its real size on the wire.
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def frame_bytes(frame: dict[str, Any]) -> int:
    """The size of a frame on the wire: ``encode``'s UTF-8 bytes, escapes included."""
    return len(encode(frame).encode("utf-8"))


def json_bytes(value: Any) -> int:
    """The UTF-8 size of one value as ``encode`` writes it."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# A cursor is a messageId (a 26-character ULID); sizing an envelope with one in place of null
# makes the measure an upper bound whether or not the page ends up having a ``next``.
_CURSOR_PLACEHOLDER = "0" * 26


@dataclass(frozen=True)
class ByteBudget:
    """What the messages of one reply may use: a list of n messages takes the sum of their
    ``size_of`` (each message frame's bytes plus one comma) minus one, at most ``max_bytes``."""

    max_bytes: int
    size_of: Callable[[Any], int]


def _message_entry_bytes(msg: Any) -> int:
    return frame_bytes(message_frame(msg)) + 1


def history_budget(room_id: str, budget: int = REPLY_BYTES_BUDGET) -> ByteBudget:
    """The bytes a history page's messages may use for its frame to stay within ``budget``."""
    envelope = frame_bytes(history_frame(room_id, [], _CURSOR_PLACEHOLDER))
    return ByteBudget(budget - envelope, _message_entry_bytes)


def joined_budget(
    room_id: str, name: str, members: int, budget: int = REPLY_BYTES_BUDGET
) -> ByteBudget:
    """The bytes ``joined.recent`` may use for the joined frame to stay within ``budget``."""
    envelope = frame_bytes(
        joined_frame(
            room_id,
            name,
            members,
            [],
            _CURSOR_PLACEHOLDER,
            "u" * 128,
            _CURSOR_PLACEHOLDER,
            UNREAD_CAP,
        )
    )
    return ByteBudget(budget - envelope, _message_entry_bytes)


def members_frame_within(
    room_id: str, names: list[str], budget: int = REPLY_BYTES_BUDGET
) -> dict[str, Any]:
    """The members frame of the longest prefix of ``names`` that fits ``budget`` bytes; when
    names had to be left out it says how many in ``omitted`` (a room of thousands of members
    with long non-Latin names would not fit 128 KB)."""
    omitted_field = len(',"omitted":') + len(str(len(names)))
    used = frame_bytes(members_frame(room_id, [])) + omitted_field
    kept: list[str] = []
    for name in names:
        used += json_bytes(name) + (1 if kept else 0)
        if used > budget:
            break
        kept.append(name)
    frame = members_frame(room_id, kept)
    if len(kept) < len(names):
        frame["omitted"] = len(names) - len(kept)
    return frame
