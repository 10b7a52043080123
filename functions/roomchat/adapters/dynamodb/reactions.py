"""Reactions, in the history table: who reacted with what, one item per user and emoji in the
message's partition ``react#<roomId>#<messageId>`` (sort key ``<emoji>#<userId>``: a
conditional put makes it one per user per emoji), and the summary on the message's own item
(``messages``: ``rc#<emoji>`` counts, ``ru#<emoji>`` the first users, ``rk`` the emoji present,
``rv`` a version). Counts change only by atomic ``ADD`` after the user's own item changed, so
they stay exact whatever runs at the same time."""

from __future__ import annotations

import re
from typing import Any

from ...conversation_ports import Reacted
from ...ports import Message
from ...protocol import REACTION_KINDS_MAX, REACTION_USERS_LISTED
from .base import Table, _int, _n, _s
from .messages import (
    REACTION_COUNT,
    REACTION_KINDS,
    REACTION_USERS,
    REACTION_VERSION,
    key_of,
    message_of,
    reaction_attributes,
    room_copy_key,
)

REACT_PREFIX = "react#"
_ALIVE = "attribute_exists(#mid) AND attribute_not_exists(#da)"


def _names(emoji: str) -> dict[str, str]:
    return {
        "#c": REACTION_COUNT + emoji,
        "#u": REACTION_USERS + emoji,
        "#k": REACTION_KINDS,
        "#v": REACTION_VERSION,
        "#mid": "messageId",
        "#da": "deletedAt",
    }


class DynamoReactions(Table):
    """conversation_ports.ReactionsRepository."""

    kind = "history"

    def _mine(self, message: Message, emoji: str, user_id: str) -> dict[str, Any]:
        return {
            "roomId": _s(f"{REACT_PREFIX}{message.room_id}#{message.message_id}"),
            "messageId": _s(f"{emoji}#{user_id}"),
        }

    def _summarize(
        self, message: Message, update: str, condition: str, values: dict[str, Any], emoji: str
    ) -> Reacted | None:
        """One change of the summary (and the same on a reply's room copy); None when its
        condition failed."""
        used = set(re.findall(r"#\w+", f"{update} {condition}"))
        names = {k: v for k, v in _names(emoji).items() if k in used}
        resp = self._write(
            "UpdateItem",
            Key=key_of(message),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        if resp is None:
            return None
        attributes = resp["Attributes"]
        room_key = room_copy_key(message)
        if room_key is not None:
            in_update = set(re.findall(r"#\w+", update))
            mirror_names = {k: v for k, v in _names(emoji).items() if k in in_update | {"#mid"}}
            self._write(
                "UpdateItem",
                Key=room_key,
                UpdateExpression=update,
                ConditionExpression="attribute_exists(#mid)",
                ExpressionAttributeNames=mirror_names,
                ExpressionAttributeValues={k: v for k, v in values.items() if k in update},
            )
        return Reacted("done", message_of(attributes), _int(attributes, REACTION_VERSION) or 0)

    def add(self, message: Message, emoji: str, user_id: str, expires_at: int | None) -> Reacted:
        mine = self._mine(message, emoji, user_id)
        item = dict(mine)
        if expires_at:
            item["expiresAt"] = _n(expires_at)
        if (
            self._write("PutItem", Item=item, ConditionExpression="attribute_not_exists(messageId)")
            is None
        ):
            return Reacted("same")
        values = {
            ":one": _n(1),
            ":e": {"SS": [emoji]},
            ":ev": _s(emoji),
            ":u": {"SS": [user_id]},
            ":kinds": _n(REACTION_KINDS_MAX),
            ":listed": _n(REACTION_USERS_LISTED),
        }
        room_for_kind = "(attribute_not_exists(#k) OR contains(#k, :ev) OR size(#k) < :kinds)"
        listed = "(attribute_not_exists(#u) OR size(#u) < :listed)"
        done = self._summarize(
            message,
            "ADD #c :one, #u :u, #k :e, #v :one",
            f"{_ALIVE} AND {room_for_kind} AND {listed}",
            values,
            emoji,
        )
        if done is None:  # the list of who is full: counted, not listed
            del values[":u"], values[":listed"]
            done = self._summarize(
                message,
                "ADD #c :one, #k :e, #v :one",
                f"{_ALIVE} AND {room_for_kind}",
                values,
                emoji,
            )
        if done is not None:
            return done
        self._request("DeleteItem", Key=mine)  # not counted: the user's item goes too
        now = self._read(key_of(message))
        return Reacted("gone" if not now or "deletedAt" in now else "full")

    def remove(self, message: Message, emoji: str, user_id: str) -> Reacted:
        old = self._request(
            "DeleteItem", Key=self._mine(message, emoji, user_id), ReturnValues="ALL_OLD"
        ).get("Attributes")
        if not old:
            return Reacted("same")
        done = self._summarize(
            message,
            "ADD #c :minus, #v :one DELETE #u :u",
            _ALIVE,
            {":minus": _n(-1), ":one": _n(1), ":u": {"SS": [user_id]}},
            emoji,
        )
        if done is None:
            return Reacted("gone")
        if done.message is not None and all(r.emoji != emoji for r in done.message.reactions):
            # Back at zero: the emoji leaves the summary (and frees its place among the kinds),
            # unless someone reacted with it meanwhile.
            self._summarize(
                message,
                "REMOVE #c, #u DELETE #k :e",
                "#c <= :zero",
                {":e": {"SS": [emoji]}, ":zero": _n(0)},
                emoji,
            )
        return done

    def clear(self, message: Message) -> int:
        mine = list(
            self._query(
                "history",
                KeyConditionExpression="roomId = :r",
                ExpressionAttributeValues={
                    ":r": _s(f"{REACT_PREFIX}{message.room_id}#{message.message_id}")
                },
                ProjectionExpression="roomId, messageId",
                ConsistentRead=True,
            )
        )
        for item in mine:
            self._request("DeleteItem", Key=item)
        for key in (key_of(message), room_copy_key(message)):
            if key is None:
                continue
            names = reaction_attributes(self._read(key) or {})
            if names:
                placeholders = {f"#a{i}": name for i, name in enumerate(names)}
                self._request(
                    "UpdateItem",
                    Key=key,
                    UpdateExpression="REMOVE " + ", ".join(placeholders),
                    ExpressionAttributeNames=placeholders,
                )
        return len(mine)
