"""The operator's moderation path: kick (and ban), disconnect a user, delete any message.

    roomchat moderate kick --room lobby --user <authorId> [--ban SECONDS|forever]
    roomchat moderate disconnect --room lobby --user <authorId>
    roomchat moderate delete --room lobby --message <messageId>

Runs the same use-cases as the Lambda functions (`roomchat.usecases.ChatService` with the
`OPERATOR` caller, which `usecases.policy.may` allows what room moderators will be allowed), with
the operator's own credentials, against:
- by default the running local stack (`make run`), from `.local/stack.json`;
- or `--rooms-table`, `--history-table`, `--callback-url` (the API's @connections endpoint,
  `https://<api>.execute-api.<region>.amazonaws.com/<stage>`), `--region` [`--endpoint-url`].
A `<authorId>` is what message frames carry: a token's user id, or a connection id without sign-in.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from roomchat_tools import stackfile


class ModerateError(RuntimeError):
    """Printed as `error: ...` with exit status 1."""


def _target(args: argparse.Namespace) -> dict[str, Any]:
    if args.rooms_table or args.history_table or args.callback_url:
        if not (args.rooms_table and args.history_table and args.callback_url):
            raise ModerateError("give --rooms-table, --history-table and --callback-url together")
        return {
            "rooms_table": args.rooms_table,
            "history_table": args.history_table,
            "callback_url": args.callback_url,
            "endpoint_url": args.endpoint_url,
            "region": args.region,
            "local": False,
        }
    try:
        info = stackfile.running()
    except stackfile.StackFileError as exc:
        raise ModerateError(f"{exc}; start it with `make run`, or name the tables") from None
    return {
        "rooms_table": info["rooms_table"],
        "history_table": info["history_table"],
        "callback_url": info["callback_url"],
        "endpoint_url": stackfile.dynamodb_endpoint(info),
        "region": info.get("region", "us-east-1"),
        "local": True,
    }


def service(target: dict[str, Any]) -> Any:
    """A ChatService over the target's tables and @connections API."""
    import boto3

    from roomchat.adapters.connections import ManagementApiSender, SharedExecutor
    from roomchat.adapters.dynamodb import DynamoHistory, DynamoModeration, DynamoRooms
    from roomchat.settings import Settings
    from roomchat.usecases import ChatService

    credentials: dict[str, str] = {}
    if target["local"]:  # the emulator takes any credentials; real ones must never reach it
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    session = boto3.session.Session(region_name=target["region"], **credentials)
    dynamodb = session.client("dynamodb", endpoint_url=target["endpoint_url"])
    management = session.client("apigatewaymanagementapi", endpoint_url=target["callback_url"])
    settings = Settings(rooms_table=target["rooms_table"], history_table=target["history_table"])
    return ChatService(
        DynamoRooms(dynamodb, settings.rooms_table, settings.rooms_by_connection_index),
        DynamoHistory(dynamodb, settings.history_table),
        ManagementApiSender(management, SharedExecutor(8)),
        settings,
        moderation=DynamoModeration(dynamodb, settings.history_table),
    )


def _ban(value: str) -> str | int:
    if value == "forever":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--ban takes a number of seconds or 'forever'") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="roomchat moderate", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("what", choices=["kick", "disconnect", "delete"])
    parser.add_argument("--room", required=True)
    parser.add_argument("--user", help="the user's authorId (kick, disconnect)")
    parser.add_argument("--message", help="the messageId (delete)")
    parser.add_argument("--ban", type=_ban, help="kick: ban for SECONDS, or 'forever'")
    parser.add_argument("--rooms-table")
    parser.add_argument("--history-table")
    parser.add_argument("--callback-url")
    parser.add_argument("--endpoint-url")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)

    from roomchat import logs, protocol
    from roomchat.errors import ChatError
    from roomchat.usecases import OPERATOR

    logs.set_level("WARNING")  # the use-cases' info lines are for CloudWatch, not this terminal
    try:
        frame: dict[str, Any] = {"roomId": args.room}
        if args.what == "delete":
            frame["messageId"] = args.message
            svc = service(_target(args))
            result = svc.delete(OPERATOR, protocol.parse_message_ref(frame))
        else:
            frame["userId"] = args.user
            if args.what == "kick":
                if args.ban is not None:
                    frame["ban"] = args.ban
                request = protocol.parse_kick(frame)
                result = service(_target(args)).kick(OPERATOR, request)
            else:
                result = service(_target(args)).disconnect_user(
                    OPERATOR, protocol.parse_user(frame)
                )
    except (ChatError, ModerateError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
