"""A room's history, read straight from the history table.

    roomchat history --room lobby [--limit 20] [--before <messageId>] [--json]

Queries the newest `limit` messages (before `--before`, a messageId cursor) and prints them oldest
to newest, with the cursor for the page before. Where the table is:
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
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roomchat_tools import stackfile
from roomchat_tools.terminal import printable

if TYPE_CHECKING:
    from roomchat.ports import Message


class HistoryError(RuntimeError):
    """Printed as `error: ...` with exit status 1."""


def local_target() -> dict[str, Any]:
    """Table, endpoint and region of the running local stack."""
    hint = "start it with `make run` (or use --deployed for the stack `make deploy` created)"
    try:
        info = stackfile.running()
    except stackfile.StackFileError as exc:
        raise HistoryError(f"{exc}; {hint}") from None
    endpoint = info["emulator_endpoint"]
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=3).close()
    except OSError as exc:
        raise HistoryError(
            f"the local stack's emulator at {endpoint} does not answer ({exc})"
        ) from None
    return {
        "table": info["history_table"],
        "endpoint_url": endpoint,
        "region": info.get("region", "us-east-1"),
        "local": True,
    }


def deployed_target(workdir: Path | None) -> dict[str, Any]:
    """Table and region from the deployed stack's Terraform outputs."""
    from roomchat_tools.infra import tf

    workdir = workdir or _deploy_workdir()
    if not (workdir / "terraform.tfstate").exists() and not (workdir / ".terraform").exists():
        raise HistoryError(
            f"no deployed stack found in {workdir}: deploy with `make deploy` first, "
            "or pass --tf-workdir / --table"
        )
    try:
        outputs = tf.Stack(workdir).outputs()
    except (tf.TerraformError, FileNotFoundError) as exc:
        raise HistoryError(f"cannot read terraform outputs from {workdir}: {exc}") from None
    table = outputs.get("history_table_name")
    if not table:
        raise HistoryError(f"terraform outputs in {workdir} have no history_table_name")
    arn = str(outputs.get("history_table_arn", ""))
    region = arn.split(":")[3] if arn.count(":") >= 5 else None
    return {"table": table, "endpoint_url": None, "region": region, "local": False}


def _deploy_workdir() -> Path:
    """Where `make deploy` keeps its Terraform working copy (infra/deploy.py decides)."""
    with contextlib.suppress(ImportError, AttributeError):
        from roomchat_tools.infra import deploy  # type: ignore[attr-defined]

        return Path(deploy.WORKDIR)
    return stackfile.local_dir() / "deploy"


def dynamodb_client(target: dict[str, Any]) -> Any:
    """A low-level DynamoDB client for the target (dummy credentials for the local emulator)."""
    import boto3

    kwargs: dict[str, Any] = {}
    if target.get("region"):
        kwargs["region_name"] = target["region"]
    if target.get("local"):
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    if target.get("endpoint_url"):
        kwargs["endpoint_url"] = target["endpoint_url"]
    return boto3.client("dynamodb", **kwargs)


def message_record(message: Message) -> dict[str, Any]:
    """A stored message as JSON: the fields of the protocol's ``message`` frame."""
    record: dict[str, Any] = {
        "roomId": message.room_id,
        "messageId": message.message_id,
        "sentAt": message.sent_at,
        "sender": message.sender,
        "message": message.message,
    }
    if message.client_msg_id:
        record["clientMsgId"] = message.client_msg_id
    return record


def query(
    target: dict[str, Any], room: str, limit: int, before: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The page of `limit` messages before `before` (or the newest), oldest first, and the cursor
    for the page before it (None when there is none): the functions' own history adapter
    (roomchat.adapters.dynamodb.DynamoHistory.page), the Query the `history` action runs."""
    from roomchat.adapters.dynamodb import DynamoHistory

    page = DynamoHistory(dynamodb_client(target), target["table"]).page(room, limit, before)
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
            printable(m.get("message", "")),
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
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--deployed", action="store_true", help="the stack `make deploy` created")
    where.add_argument("--table", default="", help="history table name (with --endpoint-url...)")
    parser.add_argument("--endpoint-url", default="", help="with --table: DynamoDB endpoint")
    parser.add_argument("--region", default="", help="with --table: AWS region")
    parser.add_argument("--tf-workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.limit <= 100:
        parser.error("--limit must be between 1 and 100")
    try:
        if args.table:
            target = {
                "table": args.table,
                "endpoint_url": args.endpoint_url or None,
                "region": args.region or None,
                "local": False,
            }
        elif args.deployed:
            target = deployed_target(args.tf_workdir)
        else:
            target = local_target()
        messages, cursor = query(target, args.room, args.limit, args.before or None)
    except HistoryError as exc:
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
