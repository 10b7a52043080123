"""sendAll, history, delete, edit, typing and markRead: their requests and frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..ulid import is_ulid
from .common import (
    CLIENT_MSG_ID_RE,
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    check_message,
    check_room_id,
)


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
class MessageRef:
    """delete and markRead: one message of a room."""

    room_id: str
    message_id: str


@dataclass(frozen=True)
class EditRequest:
    room_id: str
    message_id: str
    message: str


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


def _message_id(value: object) -> str:
    if value is None:
        raise BadRequest("'messageId' is required")
    if not is_ulid(value):
        raise BadRequest("'messageId' must be the messageId of a message in the room")
    return value  # type: ignore[return-value]


def parse_send(frame: dict[str, Any], max_bytes: int) -> SendRequest:
    room_id = check_room_id(frame.get("roomId"))
    client_msg_id = _optional_client_msg_id(frame.get("clientMsgId"))
    return SendRequest(room_id, check_message(frame.get("message"), max_bytes), client_msg_id)


def parse_history(frame: dict[str, Any]) -> HistoryRequest:
    room_id = check_room_id(frame.get("roomId"))
    return HistoryRequest(room_id, _limit(frame.get("limit")), _before(frame.get("before")))


def parse_message_ref(frame: dict[str, Any]) -> MessageRef:
    return MessageRef(check_room_id(frame.get("roomId")), _message_id(frame.get("messageId")))


def parse_edit(frame: dict[str, Any], max_bytes: int) -> EditRequest:
    room_id = check_room_id(frame.get("roomId"))
    message_id = _message_id(frame.get("messageId"))
    return EditRequest(room_id, message_id, check_message(frame.get("message"), max_bytes))


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


def history_frame(room_id: str, messages: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {
        "type": "history",
        "roomId": room_id,
        "messages": [message_frame(m) for m in messages],
        "next": next_cursor,
    }


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
