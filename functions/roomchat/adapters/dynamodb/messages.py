"""A message as an item of the history table: its key (a room's message in the room's own
partition, a thread's reply in the thread's ``thread#<roomId>#<parentId>``), and the codec
every repository of messages shares (history, threads, reactions, mentions).

Besides its text, a message item may carry
- ``replyTo`` (a reply: its parent) and ``inRoom`` (a reply also shown in the room: the item
  has a copy in the room's partition, and every change to one is made to the other);
- ``replyCount``, ``lastReplyAt``, ``lastReplyId`` (a thread's parent);
- the reaction summary: ``rc#<emoji>`` (how many), ``ru#<emoji>`` (a string set of the first
  few identities), ``rk`` (the set of emoji present, which bounds their number) and ``rv``
  (a counter of every change, so clients can order summaries);
- ``mentions`` (JSON: [[identity, name], ...]) and ``mentionsRoom``;
- ``attachments`` (JSON: [[uploadId, name, type, size], ...]), removed with the text.
"""

from __future__ import annotations

import json
from typing import Any

from ...ports import Attachment, Mention, Message, Reaction
from .base import _int, _n, _s, _str

THREAD_PREFIX = "thread#"
REACTION_COUNT = "rc#"
REACTION_USERS = "ru#"
REACTION_KINDS = "rk"
REACTION_VERSION = "rv"


def partition(room_id: str, reply_to: str | None = None) -> str:
    """The partition of a room's messages, or of one thread's replies ('#' is not allowed in
    room ids, so neither can be another room's)."""
    return room_id if reply_to is None else f"{THREAD_PREFIX}{room_id}#{reply_to}"


def message_key(room_id: str, message_id: str, reply_to: str | None = None) -> dict[str, Any]:
    return {"roomId": _s(partition(room_id, reply_to)), "messageId": _s(message_id)}


def key_of(message: Message) -> dict[str, Any]:
    """Where a message lives (a reply: in its thread, also when shown in the room)."""
    return message_key(message.room_id, message.message_id, message.reply_to)


def room_copy_key(message: Message) -> dict[str, Any] | None:
    """The room's copy of a reply sent also to the room; None for any other message."""
    if message.reply_to is None or not message.also_to_room:
        return None
    return message_key(message.room_id, message.message_id)


def _room_of(pk: str) -> str:
    if pk.startswith(THREAD_PREFIX):
        return pk[len(THREAD_PREFIX) :].rsplit("#", 1)[0]
    return pk


def reaction_attributes(item: dict[str, Any]) -> list[str]:
    """The names of the reaction summary's attributes an item has."""
    return [
        k
        for k in item
        if k.startswith((REACTION_COUNT, REACTION_USERS)) or k in (REACTION_KINDS, REACTION_VERSION)
    ]


def _reactions(item: dict[str, Any]) -> tuple[Reaction, ...]:
    found = []
    for key, value in item.items():
        if key.startswith(REACTION_COUNT) and "N" in value:
            emoji = key[len(REACTION_COUNT) :]
            count = int(value["N"])
            if count > 0:  # a count back at 0 whose attribute is not removed yet
                users = item.get(REACTION_USERS + emoji, {}).get("SS", [])
                found.append(Reaction(emoji, count, tuple(sorted(users))))
    return tuple(sorted(found, key=lambda r: r.emoji))


def _mentions(item: dict[str, Any]) -> tuple[Mention, ...]:
    raw = _str(item, "mentions")
    if not raw:
        return ()
    return tuple(Mention(str(uid), str(name)) for uid, name in json.loads(raw))


def mentions_attribute(mentions: tuple[Mention, ...]) -> dict[str, str]:
    pairs = [[m.user_id, m.name] for m in mentions]
    return _s(json.dumps(pairs, ensure_ascii=False, separators=(",", ":")))


def message_of(item: dict[str, Any]) -> Message:
    return Message(
        room_id=_room_of(_str(item, "roomId") or ""),
        message_id=_str(item, "messageId") or "",
        sent_at=_str(item, "sentAt") or "",
        sender=_str(item, "sender") or "",
        message=_str(item, "message") or "",
        client_msg_id=_str(item, "clientMsgId"),
        connection_id=_str(item, "connectionId"),
        author_id=_str(item, "authorId"),
        edited_at=_str(item, "editedAt"),
        deleted_by=_str(item, "deletedBy"),
        deleted_at=_str(item, "deletedAt"),
        reply_to=_str(item, "replyTo"),
        also_to_room=bool(_int(item, "inRoom")),
        reply_count=_int(item, "replyCount") or 0,
        last_reply_at=_str(item, "lastReplyAt"),
        reactions=_reactions(item),
        mentions=_mentions(item),
        mentions_room=bool(_int(item, "mentionsRoom")),
        attachments=_attachments(item),
    )


def _attachments(item: dict[str, Any]) -> tuple[Attachment, ...]:
    """``attachments`` (JSON: [[uploadId, name, type, size], ...])."""
    raw = _str(item, "attachments")
    if not raw:
        return ()
    return tuple(Attachment(str(u), str(n), str(t), int(z)) for u, n, t, z in json.loads(raw))


def attachments_attribute(attachments: tuple[Attachment, ...]) -> dict[str, str]:
    rows = [[a.upload_id, a.name, a.type, a.size] for a in attachments]
    return _s(json.dumps(rows, ensure_ascii=False, separators=(",", ":")))


def item_of(message: Message, expires_at: int | None) -> dict[str, Any]:
    """A new message's item (counters and reactions come later, from their own writes)."""
    item = {
        **key_of(message),
        "sentAt": _s(message.sent_at),
        "sender": _s(message.sender),
        "message": _s(message.message),
    }
    if message.client_msg_id:
        item["clientMsgId"] = _s(message.client_msg_id)
    if message.connection_id:
        item["connectionId"] = _s(message.connection_id)
    if message.author_id:
        item["authorId"] = _s(message.author_id)
    if message.reply_to:
        item["replyTo"] = _s(message.reply_to)
        if message.also_to_room:
            item["inRoom"] = _n(1)
    if message.mentions:
        item["mentions"] = mentions_attribute(message.mentions)
    if message.mentions_room:
        item["mentionsRoom"] = _n(1)
    if message.attachments:
        item["attachments"] = attachments_attribute(message.attachments)
    if expires_at:
        item["expiresAt"] = _n(expires_at)
    return item
