"""What every action's protocol shares: the limits, the checks of common fields, a frame's
JSON (``parse_body``, ``encode``), the error and pong frames, and ``$default``'s answer."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import BadRequest, ChatError, TooLarge, UnknownAction

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
    "resume",
    "thread",
    "threads",
    "follow",
    "react",
    "mentions",
    "pin",
    "prepareUpload",
    "attachmentUrl",
    "registerDevice",
    "unregisterDevice",
    "notifyLevel",
)
USER_ID_MAX = 128  # a token's sub
# joined.unread counts up to this many messages after the reader's marker, then says "more".
UNREAD_CAP = 100
# Where a listing shows a message by a short excerpt (pins, followed threads): its first
# characters.
EXCERPT_CHARS = 200


# ---------------------------------------------------------------------------- JSON


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


def encode(frame: dict[str, Any]) -> str:
    # ensure_ascii=False keeps non-Latin chat text at its real size on the wire.
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def frame_bytes(frame: dict[str, Any]) -> int:
    """The size of a frame on the wire: ``encode``'s UTF-8 bytes, escapes included."""
    return len(encode(frame).encode("utf-8"))


def json_bytes(value: Any) -> int:
    """The UTF-8 size of one value as ``encode`` writes it."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# ---------------------------------------------------------------------------- fields


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


def check_user_id(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > USER_ID_MAX
        or not value.isprintable()
    ):
        raise BadRequest(f"'userId' must be 1-{USER_ID_MAX} printable characters (a user's id)")
    return value


def check_flag(frame: dict[str, Any], key: str) -> bool:
    """An optional boolean field (false when absent)."""
    value = frame.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f"'{key}' must be true or false")
    return value


def excerpt(text: str | None) -> str | None:
    """The first EXCERPT_CHARS characters of a message (None for a deleted one)."""
    if text is None:
        return None
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "\u2026"


# ---------------------------------------------------------------------------- any action


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


def pong_frame() -> dict[str, Any]:
    return {"type": "pong"}


def closing_frame(code: str, message: str) -> dict[str, Any]:
    """The last frame of a connection the server closes (@connections DELETE follows): why,
    as an error code and a sentence the client can show."""
    return {"type": "closing", "code": code, "message": message}


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
