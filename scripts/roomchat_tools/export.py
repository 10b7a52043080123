"""Export history to JSON lines: one room, or every room.

    roomchat export --room lobby [--out lobby.jsonl]
    roomchat export --all [--out history.jsonl]
    (where: the local stack by default, --deployed, or --table NAME [--endpoint-url] [--region])

Each line is one message, oldest first within a room:
{"roomId", "messageId", "sentAt", "sender", "message", "clientMsgId"?}. Pages are read through the
functions' own history adapter (roomchat.adapters.dynamodb.DynamoHistory.page), the same Query the
`history` action runs, so paging is not written twice.

Finding every room: the history table's partition key *is* the room, and DynamoDB cannot list
partition keys without reading the items, so `--all` Scans the table once, projecting roomId,
then exports each room it found with Queries. That Scan is billed for every item it reads, so
`--all` is an operator's action: about 0.5 read request unit per 4 KB of table, i.e. some 131,000
units (about $0.02 on demand, https://aws.amazon.com/dynamodb/pricing/on-demand/) per GB, plus
the same again for the per-room Queries. For a large table, DynamoDB's own export to S3
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.HowItWorks.html)
reads nothing from the table; it needs point-in-time recovery, which history has.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from roomchat.adapters.dynamodb import DynamoHistory
from roomchat.ports import Message
from roomchat.protocol import ROOM_ID_RE
from roomchat_tools import target as where
from roomchat_tools.history import message_record

PAGE = 100  # the largest page the history action serves


def room_messages(history: DynamoHistory, room: str) -> list[Message]:
    """Every message of one room, oldest first, read page by page back in time."""
    pages: list[list[Message]] = []
    before: str | None = None
    while True:
        page = history.page(room, PAGE, before)
        pages.append(page.messages)
        if not page.next_cursor:
            break
        before = page.next_cursor
    return [m for page in reversed(pages) for m in page]


def rooms(db: Any, table: str) -> list[str]:
    """Every room with history: one Scan projecting roomId (see the module docstring for its
    cost). Partitions that are not rooms (rate-limit counters, idempotency marks) are skipped."""
    found: set[str] = set()
    kwargs: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "roomId",
    }
    for page in db.get_paginator("scan").paginate(**kwargs):
        for item in page.get("Items", []):
            room = item["roomId"]["S"]
            if ROOM_ID_RE.fullmatch(room):
                found.add(room)
    return sorted(found)


def line(message: Message) -> str:
    return json.dumps(message_record(message), ensure_ascii=False)


def export(db: Any, table: str, room_ids: list[str], out: IO[str]) -> Iterator[tuple[str, int]]:
    """Write every message of each room to ``out``; yields (room, messages written)."""
    history = DynamoHistory(db, table)
    for room in room_ids:
        messages = room_messages(history, room)
        for message in messages:
            out.write(line(message) + "\n")
        yield room, len(messages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Export history to JSON lines (one message a line).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--room", help="the room to export, e.g. lobby")
    which.add_argument("--all", action="store_true", help="every room (Scans the table once)")
    parser.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    where.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.room is not None and not ROOM_ID_RE.fullmatch(args.room):
        parser.error("--room must be 1-64 characters of letters, digits, '_', '.', ':' or '-'")
    try:
        target = where.from_args(args)
        db = where.dynamodb_client(target)
        room_ids = rooms(db, target["table"]) if args.all else [args.room]
        out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
        try:
            total = 0
            for room, count in export(db, target["table"], room_ids, out):
                total += count
                print(f"{room}: {count} messages", file=sys.stderr)
        finally:
            if args.out:
                out.close()
    except where.TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # botocore's errors: no credentials, no table, no network
        print(f"error: cannot export history: {exc}", file=sys.stderr)
        return 1
    print(f"exported {total} messages from {len(room_ids)} room(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
