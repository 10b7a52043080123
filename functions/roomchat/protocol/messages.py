"""sendAll, history, delete, edit, typing and markRead: their requests and frames.

A message of a thread (a reply) is addressed by its room, its messageId and ``replyTo``, its
parent's messageId: sendAll with ``replyTo`` writes one, and delete, edit, markRead (and the
conversation actions: react, pin) take the same ``replyTo`` to act on one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..ulid import is_ulid
from .common import (
    CLIENT_MSG_ID_RE,
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    check_flag,
    check_message,
    check_room_id,
)


@dataclass(frozen=True)
class SendRequest:
    room_id: str
    message: str
    client_msg_id: str | None
    # A reply: its thread's parent (a message of the room); shown in the room too or not.
    reply_to: str | None = None
    also_to_room: bool = False
    # Files uploaded with prepareUpload (protocol.attachments.AttachmentRef); the message's
    # text may then be empty.
    attachments: tuple[Any, ...] = ()


@dataclass(frozen=True)
class HistoryRequest:
    room_id: str
    limit: int
    before: str | None
    # A resume's continuation: the page of messages after this one (oldest first) instead.
    after: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """delete and markRead: one message of a room."""

    room_id: str
    message_id: str
    reply_to: str | None = None  # the message is a reply in this parent's thread


@dataclass(frozen=True)
class EditRequest:
    room_id: str
    message_id: str
    message: str
    reply_to: str | None = None


def _optional_client_msg_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_MSG_ID_RE.match(value):
        raise BadRequest("'clientMsgId' must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return value


def check_limit(
    value: object, default: int = HISTORY_LIMIT_DEFAULT, most: int = HISTORY_LIMIT_MAX
) -> int:
    if value is None:
        return default
    # bool is an int in Python; true/false is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'limit' must be a whole number from 1 to {most}")
    if not 1 <= value <= most:
        raise BadRequest(f"'limit' must be from 1 to {most}")
    return value


def check_before(value: object, what: str = "history page") -> str | None:
    if value is None:
        return None
    if not is_ulid(value):
        raise BadRequest(f"'before' must be a messageId from an earlier {what}")
    return value  # type: ignore[return-value]


def check_message_id(value: object) -> str:
    if value is None:
        raise BadRequest("'messageId' is required")
    if not is_ulid(value):
        raise BadRequest("'messageId' must be the messageId of a message in the room")
    return value  # type: ignore[return-value]


def check_reply_to(value: object) -> str | None:
    if value is None:
        return None
    if not is_ulid(value):
        raise BadRequest("'replyTo' must be the messageId of a message in the room")
    return value  # type: ignore[return-value]


def parse_send(
    frame: dict[str, Any],
    max_bytes: int,
    attachment_max_bytes: int = 0,
    attachment_types: tuple[str, ...] = (),
) -> SendRequest:
    room_id = check_room_id(frame.get("roomId"))
    client_msg_id = _optional_client_msg_id(frame.get("clientMsgId"))
    reply_to = check_reply_to(frame.get("replyTo"))
    also_to_room = check_flag(frame, "alsoToRoom")
    if also_to_room and reply_to is None:
        raise BadRequest("'alsoToRoom' is for replies: send it with 'replyTo'")
    attachments: tuple[Any, ...] = ()
    if frame.get("attachments") is not None:
        from .attachments import check_attachments

        if not attachment_types:
            raise BadRequest("attachments are not enabled on this server")
        attachments = check_attachments(
            frame["attachments"], attachment_max_bytes, attachment_types
        )
    if attachments and "message" not in frame:
        text = ""  # a message of files only
    else:
        text = check_message(frame.get("message"), max_bytes)
    return SendRequest(room_id, text, client_msg_id, reply_to, also_to_room, attachments)


def parse_history(frame: dict[str, Any]) -> HistoryRequest:
    room_id = check_room_id(frame.get("roomId"))
    before = check_before(frame.get("before"))
    after = frame.get("after")
    if after is not None and not is_ulid(after):
        raise BadRequest("'after' must be the 'next' of a resumed page (a messageId)")
    if before is not None and after is not None:
        raise BadRequest("send 'before' (older pages) or 'after' (newer pages), not both")
    return HistoryRequest(room_id, check_limit(frame.get("limit")), before, after)


def parse_message_ref(frame: dict[str, Any]) -> MessageRef:
    return MessageRef(
        check_room_id(frame.get("roomId")),
        check_message_id(frame.get("messageId")),
        check_reply_to(frame.get("replyTo")),
    )


def parse_edit(frame: dict[str, Any], max_bytes: int) -> EditRequest:
    room_id = check_room_id(frame.get("roomId"))
    message_id = check_message_id(frame.get("messageId"))
    reply_to = check_reply_to(frame.get("replyTo"))
    return EditRequest(
        room_id, message_id, check_message(frame.get("message"), max_bytes), reply_to
    )


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
    _conversation_fields(frame, msg)
    return frame


def _conversation_fields(frame: dict[str, Any], msg: Any) -> None:
    """What threads, reactions and mentions add to a message frame, only when there is any:
    ``replyTo`` (and ``alsoToRoom``) on a reply, ``replyCount``/``lastReplyAt`` on a parent,
    the ``reactions`` summary, and whom it ``mentions``. A tombstone names no one."""
    if msg.reply_to:
        frame["replyTo"] = msg.reply_to
        if msg.also_to_room:
            frame["alsoToRoom"] = True
    if msg.reply_count:
        frame["replyCount"] = msg.reply_count
        frame["lastReplyAt"] = msg.last_reply_at
    if msg.deleted:
        return
    if msg.reactions:
        from .reactions import summary

        frame["reactions"] = summary(msg.reactions)
    if msg.mentions:
        frame["mentions"] = [{"userId": m.user_id, "name": m.name} for m in msg.mentions]
    if msg.mentions_room:
        frame["mentionsRoom"] = True
    if msg.attachments:
        from .attachments import attachment_entry

        frame["attachments"] = [
            attachment_entry(a.upload_id, a.name, a.type, a.size) for a in msg.attachments
        ]


def located(frame: dict[str, Any], reply_to: str | None) -> dict[str, Any]:
    """A frame about one message, with ``replyTo`` when the message is a reply."""
    if reply_to:
        frame["replyTo"] = reply_to
    return frame


def history_frame(room_id: str, messages: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {
        "type": "history",
        "roomId": room_id,
        "messages": [message_frame(m) for m in messages],
        "next": next_cursor,
    }


def deleted_frame(
    room_id: str, message_id: str, by: str, at: str, reply_to: str | None = None
) -> dict[str, Any]:
    frame = {
        "type": "deleted",
        "roomId": room_id,
        "messageId": message_id,
        "deletedBy": by,
        "deletedAt": at,
    }
    return located(frame, reply_to)


def edited_frame(msg: Any) -> dict[str, Any]:
    frame = {
        "type": "edited",
        "roomId": msg.room_id,
        "messageId": msg.message_id,
        "message": msg.message,
        "editedAt": msg.edited_at,
    }
    return located(frame, msg.reply_to)


def typing_frame(room_id: str, name: str, user_id: str) -> dict[str, Any]:
    return {"type": "typing", "roomId": room_id, "name": name, "userId": user_id}


def read_frame(room_id: str, last_read: str, reply_to: str | None = None) -> dict[str, Any]:
    """The caller's read marker: in the room, or (``replyTo``) in that thread."""
    return located({"type": "read", "roomId": room_id, "lastRead": last_read}, reply_to)
