"""Lambda entry points, one per WebSocket route. Thin: parse the event, call one use-case, turn
the result or error into a frame and a status code.

Two-way routes (everything but $connect/$disconnect) have a route response, so the ``body`` we
return is sent back to the caller by API Gateway.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Callable
from typing import Any

from . import logs, protocol
from .errors import BadRequest, ChatError, Internal
from .ports import Deadline
from .settings import AuthSettings, Settings
from .usecases import Caller, ChatService
from .wiring import Container, build_container, build_secret_source

_container: Container | None = None

Json = dict[str, Any]


def container() -> Container:
    """Settings and clients, built on the first invocation and reused while the process is warm."""
    global _container
    if _container is None:
        settings = Settings.from_env()
        logs.set_level(settings.log_level)
        _container = build_container(settings)
    return _container


def use_container(c: Container | None) -> None:
    """Replace the dependencies (tests, the local gateway); None rebuilds them from the env."""
    global _container
    _container = c


def _callback_url(event: Json, settings: Settings) -> str:
    if settings.callback_url:
        return settings.callback_url
    rc = event.get("requestContext") or {}
    return f"https://{rc.get('domainName')}/{rc.get('stage')}"


def _deadline(context: Any) -> Deadline | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return Deadline.of_invocation(remaining) if callable(remaining) else None


def _service(event: Json, context: Any = None) -> ChatService:
    c = container()
    sender = c.sender_for(_callback_url(event, c.settings))
    return ChatService(
        c.rooms,
        c.history,
        sender,
        c.settings,
        limiter=c.limiter,
        moderation=c.moderation,
        reviewer=c.reviewer,
        deadline=_deadline(context),
    )


def _caller(event: Json) -> Caller:
    rc = event.get("requestContext") or {}
    connected_at = rc.get("connectedAt")
    authorizer = rc.get("authorizer") or {}
    token_name = authorizer.get("name")
    # The verified token's user id: the same on every device of the user.
    sub = authorizer.get("sub")
    return Caller(
        connection_id=str(rc.get("connectionId") or ""),
        connected_at_ms=connected_at if isinstance(connected_at, int) else None,
        token_name=token_name if isinstance(token_name, str) and token_name else None,
        user_id=sub if isinstance(sub, str) and sub else None,
    )


def _bind(event: Json, context: Any, action: str) -> None:
    rc = event.get("requestContext") or {}
    logs.bind(
        action=action,
        connectionId=rc.get("connectionId"),
        requestId=getattr(context, "aws_request_id", None) or rc.get("requestId"),
        routeKey=rc.get("routeKey"),
    )


def _body(event: Json) -> str | bytes | None:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except ValueError:
            raise BadRequest("binary frame is not valid base64") from None
    return body


def _reply(status: int, frame: Json | None) -> Json:
    response: Json = {"statusCode": status}
    if frame is not None:
        response["body"] = protocol.encode(frame)
    return response


def _message_route(
    action: str, run: Callable[[ChatService, Caller, Json], Json | None]
) -> Callable[[Json, Any], Json]:
    """A two-way route: the frame's JSON goes to ``run``; errors become error frames."""

    def handler(event: Json, context: Any) -> Json:
        _bind(event, context, action)
        client_msg_id = room_id = None
        try:
            frame = protocol.parse_body(_body(event))
            if isinstance(frame.get("roomId"), str):
                room_id = frame["roomId"]
                logs.extend(roomId=room_id[:64])
            if isinstance(frame.get("clientMsgId"), str):
                client_msg_id = frame["clientMsgId"][:64]
            return _reply(200, run(_service(event, context), _caller(event), frame))
        except ChatError as e:
            if e.room_id is None and room_id is not None and protocol.ROOM_ID_RE.match(room_id):
                e.room_id = room_id  # a well-formed room the request named, e.g. a bad limit
            logs.info("refused", code=e.code, detail=e.message)
            return _reply(e.status, protocol.error_frame(e, action, client_msg_id))
        except Exception as e:
            logs.error("unhandled", error=type(e).__name__, trace=traceback.format_exc(limit=20))
            failure = Internal("the server could not handle this request; try again")
            return _reply(500, protocol.error_frame(failure, action, client_msg_id))

    handler.__name__ = f"on_{action}"
    return handler


def _send(svc: ChatService, caller: Caller, frame: Json) -> Json | None:
    # Usually None: the fanned-out message frame is the sender's acknowledgement.
    return svc.send(caller, protocol.parse_send(frame, svc.settings.max_message_bytes))


on_join = _message_route("join", lambda s, c, f: s.join(c, protocol.parse_join(f)))
on_leave = _message_route("leave", lambda s, c, f: s.leave(c, protocol.parse_room(f)))
on_send_all = _message_route("sendAll", _send)
on_history = _message_route("history", lambda s, c, f: s.history_page(c, protocol.parse_history(f)))
on_members = _message_route("members", lambda s, c, f: s.members(c, protocol.parse_room(f)))


def _edit(svc: ChatService, caller: Caller, frame: Json) -> Json | None:
    return svc.edit(caller, protocol.parse_edit(frame, svc.settings.max_message_bytes))


def _typing(svc: ChatService, caller: Caller, frame: Json) -> None:
    svc.typing(caller, protocol.parse_room(frame))


on_delete = _message_route("delete", lambda s, c, f: s.delete(c, protocol.parse_message_ref(f)))
on_edit = _message_route("edit", _edit)
on_typing = _message_route("typing", _typing)
on_mark_read = _message_route(
    "markRead", lambda s, c, f: s.mark_read(c, protocol.parse_message_ref(f))
)
on_kick = _message_route("kick", lambda s, c, f: s.kick(c, protocol.parse_kick(f)))
on_disconnect_user = _message_route(
    "disconnectUser", lambda s, c, f: s.disconnect_user(c, protocol.parse_user(f))
)


def on_ping(event: Json, context: Any) -> Json:
    return _reply(200, protocol.pong_frame())


def on_default(event: Json, context: Any) -> Json:
    _bind(event, context, "$default")
    try:
        body = _body(event)
    except BadRequest as e:
        error: ChatError = e
    else:
        error = protocol.classify_default(body)
    logs.info("refused", code=error.code, detail=error.message)
    return _reply(error.status, protocol.error_frame(error, None))


def on_connect(event: Json, context: Any) -> Json:
    """Accept the handshake (2xx) or refuse it; ``?name=`` becomes the connection's default name."""
    _bind(event, context, "$connect")
    query = event.get("queryStringParameters") or {}
    caller = _caller(event)
    try:
        # A verified token's name wins, so a ?name= beside it is ignored rather than judged.
        raw_name = None if caller.token_name else query.get("name")
        name = protocol.check_name(raw_name) if raw_name is not None else None
        _service(event).connect(caller, name)
    except ChatError as e:
        logs.info("refused", code=e.code, detail=e.message)
        return _reply(e.status, protocol.error_frame(e, "$connect"))
    except Exception as e:
        logs.error("unhandled", error=type(e).__name__, trace=traceback.format_exc(limit=20))
        return {"statusCode": 500}
    logs.info("connected", name=name)
    return {"statusCode": 200}


def on_disconnect(event: Json, context: Any) -> Json:
    """Leave every room; API Gateway ignores the answer, so failures are only logged."""
    _bind(event, context, "$disconnect")
    try:
        svc = _service(event, context)
        rooms = svc.disconnect(_caller(event))
    except Exception as e:
        logs.error("unhandled", error=type(e).__name__, trace=traceback.format_exc(limit=20))
        return {"statusCode": 500}
    logs.info("disconnected", rooms=rooms, pruned=svc.counts.pruned)
    return {"statusCode": 200}


# ---------------------------------------------------------------------------- $connect authorizer

_secret_source: Callable[[], bytes] | None = None


def _secret() -> bytes:
    """The HMAC secret, from the source the composition root builds once per process."""
    global _secret_source
    if _secret_source is None:
        _secret_source = build_secret_source(AuthSettings.from_env())
    return _secret_source()


def use_secret_source(source: Callable[[], bytes] | None) -> None:
    """Replace the authorizer's secret source (tests); None rebuilds it from the env."""
    global _secret_source
    _secret_source = source


def _policy(effect: str, principal: str, resource: str, context: Json | None = None) -> Json:
    answer: Json = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        answer["context"] = context
    return answer


def on_authorize(event: Json, context: Any) -> Json:
    """REQUEST authorizer for $connect: ``?token=`` must be a valid signed token.

    No token raises ``Unauthorized`` (API Gateway answers 401); a bad or expired one gets a Deny
    policy (403). The token's ``name`` reaches every later event as requestContext.authorizer.
    """
    import time

    from .auth import InvalidToken, verify

    _bind(event, context, "$authorize")
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        logs.info("refused", code="unauthorized", detail="missing token")
        raise Exception("Unauthorized")  # the exact text API Gateway maps to 401
    resource = event.get("methodArn", "*")
    secret = _secret()
    try:
        claims = verify(token, secret, int(time.time()))
    except InvalidToken as e:
        logs.info("refused", code="forbidden", detail=str(e))
        return _policy("Deny", "anonymous", resource)
    except Exception as e:
        # Whatever a client puts in ?token= is its problem, never a 500 of ours.
        logs.error("token_check_failed", error=type(e).__name__)
        return _policy("Deny", "anonymous", resource)
    allowed = {"sub": claims["sub"]}
    if claims.get("name"):
        allowed["name"] = claims["name"]
    logs.info("authorized", sub=claims["sub"])
    return _policy("Allow", claims["sub"], resource, allowed)
