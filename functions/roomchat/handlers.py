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

from . import jobs, logs, protocol
from .errors import BadRequest, ChatError, Internal
from .ports import Deadline
from .settings import Settings
from .usecases import Caller, ChatService, budgets, now_ms, policy
from .wiring import Container, build_container

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
    region = settings.region
    if rc.get("apiId") and region:
        # @connections is served on the API's own execute-api endpoint; with a custom domain
        # requestContext.domainName is that domain (and its base path is not the stage), so
        # it is not derived from domainName. https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
        return f"https://{rc['apiId']}.execute-api.{region}.amazonaws.com/{rc.get('stage')}"
    return f"https://{rc.get('domainName')}/{rc.get('stage')}"


def _deadline(context: Any) -> Deadline | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return Deadline.of_invocation(remaining) if callable(remaining) else None


def _service(
    event: Json, context: Any = None, endpoint: str | None = None, pusher: bool = False
) -> ChatService:
    c = container()
    endpoint = endpoint or _callback_url(event, c.settings)
    return ChatService(
        c.rooms,
        c.history,
        c.sender_for(endpoint),
        c.settings,
        limiter=c.limiter,
        moderation=c.moderation,
        reviewer=c.reviewer,
        deadline=_deadline(context),
        queue=c.queue,
        endpoint=endpoint,
        progress=c.progress,
        changes=c.changes,
        threads=c.threads,
        reactions=c.reactions,
        mentions=c.mentions,
        pins=c.pins,
        clock=c.clock or now_ms,
        attachments=c.attachments,
        notifications=c.notifications,
        notify_queue=c.notify_queue,
        pusher=c.pusher() if pusher else None,
        mobile=c.mobile,
    )


def _caller(event: Json) -> Caller:
    """Who is asking, from the request context only: the connection, and with auth the
    identity the authorizer verified (never anything the frame says)."""
    rc = event.get("requestContext") or {}
    connected_at = rc.get("connectedAt")
    authorizer = rc.get("authorizer") or {}
    token_name = authorizer.get("name")
    sub = authorizer.get("sub")
    rooms = authorizer.get("rooms")
    return Caller(
        token_expires_at=_epoch(authorizer.get("exp")),
        connection_id=str(rc.get("connectionId") or ""),
        connected_at_ms=connected_at if isinstance(connected_at, int) else None,
        token_name=token_name if isinstance(token_name, str) and token_name else None,
        user_id=sub if isinstance(sub, str) and sub else None,
        grants=frozenset(rooms.split(",")) if isinstance(rooms, str) and rooms else frozenset(),
    )


def _epoch(value: Any) -> int | None:
    """The authorizer's `exp`: a number, or its text (API Gateway passes context values on
    as the authorizer gave them; a string is accepted too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


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


def _refused(error: ChatError) -> None:
    """The log record of a refused request, counted as metrics (rate-limited ones apart)."""
    values = {"refused": (1, logs.COUNT)}
    if error.code == "rate_limited":
        values["rateLimited"] = (1, logs.COUNT)
    logs.metrics("refused", values, code=error.code, detail=error.message)


def _presence_metrics(svc: ChatService) -> None:
    """Fan-out counts of the presence frames an invocation posted (sendAll counts its message
    in its own "sent" record)."""
    c = svc.counts
    if c.members:
        logs.metrics(
            "presence_sent",
            {
                "members": (c.members, logs.COUNT),
                "delivered": (c.delivered, logs.COUNT),
                "pruned": (c.pruned, logs.COUNT),
                "failed": (c.failed, logs.COUNT),
            },
        )


def _serve(svc: ChatService, caller: Caller, action: str, work: Callable[[], Json | None]) -> Any:
    """An action within the caller's token and budgets: refused once the token has expired
    or the budgets are spent; charged afterwards what it read and posted."""
    policy.require_fresh_token(svc, caller)
    budgets.admit(svc, caller, action)
    try:
        return work()
    finally:
        budgets.settle(svc, caller)


def _message_route(
    action: str, run: Callable[[ChatService, Caller, Json], Json | None]
) -> Callable[[Json, Any], Json]:
    """A two-way route: the frame's JSON goes to ``run``; errors become error frames."""

    def handler(event: Json, context: Any) -> Json:
        _bind(event, context, action)
        client_msg_id = room_id = None
        svc: ChatService | None = None
        caller = _caller(event)
        try:
            svc = _service(event, context)
            frame = protocol.parse_body(_body(event))
            if isinstance(frame.get("roomId"), str):
                room_id = frame["roomId"]
                logs.extend(roomId=room_id[:64])
            if isinstance(frame.get("clientMsgId"), str):
                client_msg_id = frame["clientMsgId"][:64]
            reply = _serve(svc, caller, action, lambda: run(svc, caller, frame))
            if action != "sendAll":
                _presence_metrics(svc)
            return _reply(200, reply)
        except ChatError as e:
            if e.room_id is None and room_id is not None and protocol.ROOM_ID_RE.match(room_id):
                e.room_id = room_id  # a well-formed room the request named, e.g. a bad limit
            _refused(e)
            if e.code == "rate_limited" and svc is not None:
                budgets.refused(svc, caller)  # a connection that keeps at it is closed
            return _reply(e.status, protocol.error_frame(e, action, client_msg_id))
        except Exception as e:
            logs.error("unhandled", error=type(e).__name__, trace=traceback.format_exc(limit=20))
            failure = Internal("the server could not handle this request; try again")
            return _reply(500, protocol.error_frame(failure, action, client_msg_id))

    handler.__name__ = f"on_{action}"
    return handler


def _send(svc: ChatService, caller: Caller, frame: Json) -> Json | None:
    # Usually None: the fanned-out message frame is the sender's acknowledgement.
    s = svc.settings
    types = s.attachment_types if s.attachments_bucket else ()
    req = protocol.parse_send(frame, s.max_message_bytes, s.attachment_max_bytes, types)
    return svc.send(caller, req)


def _prepare_upload(svc: ChatService, caller: Caller, frame: Json) -> Json:
    s = svc.settings
    req = protocol.parse_prepare_upload(frame, s.attachment_max_bytes, s.attachment_types)
    return svc.prepare_upload(caller, req)


on_join = _message_route("join", lambda s, c, f: s.join(c, protocol.parse_join(f)))
on_leave = _message_route("leave", lambda s, c, f: s.leave(c, protocol.parse_room(f)))
on_send_all = _message_route("sendAll", _send)
on_history = _message_route("history", lambda s, c, f: s.history_page(c, protocol.parse_history(f)))
on_resume = _message_route("resume", lambda s, c, f: s.resume(c, protocol.parse_resume(f)))
on_members = _message_route("members", lambda s, c, f: s.members(c, protocol.parse_room(f)))
on_create_room = _message_route(
    "createRoom", lambda s, c, f: s.create_room(c, protocol.parse_create_room(f))
)
on_invite = _message_route("invite", lambda s, c, f: s.invite(c, protocol.parse_user(f)))
on_uninvite = _message_route("uninvite", lambda s, c, f: s.uninvite(c, protocol.parse_user(f)))
on_promote = _message_route("promote", lambda s, c, f: s.promote(c, protocol.parse_user(f)))
on_demote = _message_route("demote", lambda s, c, f: s.demote(c, protocol.parse_user(f)))


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

# Conversations: threads (replies are sendAll with replyTo), reactions, mentions and pins.
on_thread = _message_route("thread", lambda s, c, f: s.thread_page(c, protocol.parse_thread(f)))
on_threads = _message_route(
    "threads", lambda s, c, f: s.followed_threads(c, protocol.parse_threads(f))
)
on_follow = _message_route("follow", lambda s, c, f: s.follow_thread(c, protocol.parse_follow(f)))
on_react = _message_route("react", lambda s, c, f: s.react(c, protocol.parse_react(f)))
on_mentions = _message_route(
    "mentions", lambda s, c, f: s.mentions_page(c, protocol.parse_mentions(f))
)
on_pin = _message_route("pin", lambda s, c, f: s.pin(c, protocol.parse_pin(f)))

# Attachments: a presigned upload, then a presigned download for members.
on_prepare_upload = _message_route("prepareUpload", _prepare_upload)
on_attachment_url = _message_route(
    "attachmentUrl", lambda s, c, f: s.attachment_url(c, protocol.parse_attachment_url(f))
)


# Notifications for away members: devices and each room's level (the pushes: on_notify).
def _register(svc: ChatService, caller: Caller, frame: Json) -> Json:
    s = svc.settings
    req = protocol.parse_register_device(frame, s.push_allow_loopback, bool(s.sns_platform_apps))
    return svc.register_device(caller, req)


on_register_device = _message_route("registerDevice", _register)
on_unregister_device = _message_route(
    "unregisterDevice", lambda s, c, f: s.unregister_device(c, protocol.parse_device_ref(f))
)
on_notify_level = _message_route(
    "notifyLevel", lambda s, c, f: s.set_notify_level(c, protocol.parse_notify_level(f))
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
    _refused(error)
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
        _refused(e)
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
    _presence_metrics(svc)
    return {"statusCode": 200}


# ---------------------------------------------------------------------------- the fan-out tier


def on_fanout(event: Json, context: Any) -> Json:
    """The `fanout` worker: SQS records, each one chunk of a big room's recipients (roomchat.jobs).

    Answers with the records that failed (the event source mapping's ReportBatchItemFailures):
    only those become visible again, the others are deleted.
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    A record that is not a chunk can never succeed, so it is logged and dropped, not retried.
    """
    _bind(event, context, "fanout")
    # Where to post is the worker's own configuration, never the queue message's: whoever can
    # put a message on the queue must not choose where this role's signed posts (and the
    # room's messages) go. A chunk's `endpoint` is informational only.
    endpoint = container().settings.callback_url
    failures: list[Json] = []
    for record in event.get("Records") or []:
        record_id = record.get("messageId")
        try:
            job = jobs.decode(record.get("body") or "")
        except jobs.BadJob as e:
            logs.error("fanout_bad_record", sqsMessageId=record_id, detail=str(e)[:300])
            continue
        logs.extend(roomId=job.room_id[:64], messageId=job.message_id)
        if endpoint is None:  # kept on the queue (then its dead-letter queue) until configured
            logs.error("fanout_without_callback_url", sqsMessageId=record_id)
            failures.append({"itemIdentifier": record_id})
            continue
        if job.endpoint != endpoint:
            logs.warning("fanout_endpoint_ignored", queued=job.endpoint[:200], used=endpoint)
        try:
            receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
            _service(event, context, endpoint=endpoint).deliver_chunk(job, redelivered=receives > 1)
        except Exception as e:
            logs.error(
                "fanout_chunk_failed",
                sqsMessageId=record_id,
                error=type(e).__name__,
                trace=traceback.format_exc(limit=20),
            )
            failures.append({"itemIdentifier": record_id})
    return {"batchItemFailures": failures}


def on_notify(event: Json, context: Any) -> Json:
    """The `notify` worker: SQS records, each one stored message to consider for pushes
    (usecases.notifications.deliver). The only function that loads the Web Push libraries.
    Failed records are retried (batchItemFailures); a record that is not a job is dropped."""
    _bind(event, context, "notify")
    failures: list[Json] = []
    for record in event.get("Records") or []:
        record_id = record.get("messageId")
        try:
            job = jobs.decode_notify(record.get("body") or "")
        except jobs.BadJob as e:
            logs.error("notify_bad_record", sqsMessageId=record_id, detail=str(e)[:300])
            continue
        try:
            _service(event, context, endpoint="-", pusher=True).notify(job)
        except Exception as e:
            logs.error(
                "notify_failed",
                sqsMessageId=record_id,
                error=type(e).__name__,
                trace=traceback.format_exc(limit=20),
            )
            failures.append({"itemIdentifier": record_id})
    return {"batchItemFailures": failures}


# The $connect authorizer lives in roomchat.authorizer (its own zip, with PyJWT).
