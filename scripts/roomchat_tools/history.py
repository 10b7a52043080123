"""A room's history, read straight from the history table.

    roomchat history --room lobby [--limit 20] [--before <messageId>] [--json]

Queries the newest `limit` messages (before `--before`, a messageId cursor) and prints them oldest
to newest, with the cursor for the page before. Where the table is (target.py):
- by default the running local stack (`make run`), from `.local/stack.json`;
- `--deployed`: the stack `make deploy` applied, from `terraform output -json` (infra/tf.py),
  with your usual AWS credentials;
- or `--table NAME [--endpoint-url URL] [--region R]` explicitly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from roomchat_client.protocol import room_id_problem
from roomchat_tools import target as where
from roomchat_tools.terminal import message_text, printable

if TYPE_CHECKING:
    from roomchat.ports import Message


def message_record(message: Message) -> dict[str, Any]:
    """A stored message as JSON: the protocol's ``message`` frame without its ``type`` (so a
    tombstone has ``"message": null`` with ``deletedBy`` and ``deletedAt``, an edit
    ``editedAt``), as the functions build it."""
    from roomchat.protocol import message_frame

    record = message_frame(message)
    del record["type"]
    return record


def query(
    target: dict[str, Any], room: str, limit: int, before: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The page of `limit` messages before `before` (or the newest), oldest first, and the cursor
    for the page before it (None when there is none): the functions' own history adapter
    (roomchat.adapters.dynamodb.DynamoHistory.page), the Query the `history` action runs."""
    from roomchat.adapters.dynamodb import DynamoHistory

    page = DynamoHistory(where.dynamodb_client(target), target["table"]).page(room, limit, before)
    return [message_record(m) for m in page.messages], page.next_cursor


def _local_time(iso: str) -> str:
    with contextlib.suppress(ValueError):
        dt = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
        return dt.strftime("%Y-%m-%d %H:%M:%S")
    return iso


def render_table(room: str, messages: list[dict[str, Any]], cursor: str | None) -> str:
    if not messages:
        return f"no messages in {room}"
    # Senders and texts are other people's text: control characters are shown escaped.
    rows = [
        (
            printable(_local_time(str(m.get("sentAt", "")))),
            printable(m.get("sender", "")),
            message_text(m),
        )
        for m in messages
    ]
    width_time = max(len("sent"), *(len(r[0]) for r in rows))
    width_sender = max(len("sender"), *(len(r[1]) for r in rows))
    lines = [
        f"{'sent':<{width_time}}  {'sender':<{width_sender}}  message",
        f"{'-' * width_time}  {'-' * width_sender}  {'-' * 7}",
    ]
    for sent, sender, text in rows:
        lines.append(f"{sent:<{width_time}}  {sender:<{width_sender}}  {text}")
    count = f"{len(messages)} message{'' if len(messages) == 1 else 's'}"
    lines.append(f"({count} in {room}, oldest first)")
    if cursor:
        lines.append(f"older: make history ROOM={room} BEFORE={cursor}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print a room's history from the history table.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--room", required=True, help="room id, e.g. lobby")
    parser.add_argument("--limit", type=int, default=20, help="messages per page, 1-100 (20)")
    parser.add_argument("--before", default="", help="messageId cursor: only older messages")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    where.add_arguments(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.limit <= 100:
        parser.error("--limit must be between 1 and 100")
    problem = room_id_problem(args.room)
    if problem:
        parser.error(f"--room: {problem}")
    try:
        messages, cursor = query(where.from_args(args), args.room, args.limit, args.before or None)
    except where.TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # botocore's errors: no credentials, no table, no network
        print(f"error: cannot read the history of {args.room}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"roomId": args.room, "messages": messages, "next": cursor}, indent=2))
    else:
        print(render_table(args.room, messages, cursor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
