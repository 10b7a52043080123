"""Lambda proxy events for WebSocket APIs, shaped like the ones API Gateway sends.

Reference: "Setting up WebSocket API integrations" / "$connect, $disconnect and message events" in
the API Gateway developer guide; field names and formats follow recorded real events.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping


def new_id() -> str:
    """An id shaped like API Gateway's connection/request ids, e.g. ``L0SM9cOFvHcCIhw=``."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def now_ms() -> int:
    return int(time.time() * 1000)


def request_time(epoch_ms: int) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def iso8601(epoch_ms: int) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000))
    return f"{seconds}.{epoch_ms % 1000:03d}Z"


@dataclass
class ConnectionInfo:
    """What API Gateway knows about one connection, shared by all its events."""

    connection_id: str
    connected_at: int
    source_ip: str
    user_agent: str
    domain_name: str
    stage: str
    api_id: str
    headers: dict[str, str] = field(default_factory=dict)
    multi_headers: dict[str, list[str]] = field(default_factory=dict)
    # What the $connect authorizer allowed: principalId plus its context, on every later event.
    authorizer: dict[str, Any] | None = None


def _request_context(
    conn: ConnectionInfo, *, route_key: str, event_type: str, request_id: str, at_ms: int
) -> dict[str, Any]:
    context = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(at_ms),
        "messageDirection": "IN",
        "stage": conn.stage,
        "connectedAt": conn.connected_at,
        "requestTimeEpoch": at_ms,
        "identity": {"userAgent": conn.user_agent, "sourceIp": conn.source_ip},
        "requestId": request_id,
        "domainName": conn.domain_name,
        "connectionId": conn.connection_id,
        "apiId": conn.api_id,
    }
    if conn.authorizer is not None:
        context["authorizer"] = dict(conn.authorizer)
    return context


def collect_headers(raw: MultiMapping[str], source_ip: str, port: int) -> tuple[dict, dict]:
    """Single- and multi-value header maps, with the X-Forwarded-* headers API Gateway adds."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in raw.items():
        single[name] = value
        multi.setdefault(name, []).append(value)
    for name, value in (
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),
    ):
        single.setdefault(name, value)
        multi.setdefault(name, [value])
    return single, multi


def connect_event(
    conn: ConnectionInfo, query: MultiMapping[str], request_id: str, at_ms: int
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "headers": dict(conn.headers),
        "multiValueHeaders": {k: list(v) for k, v in conn.multi_headers.items()},
        "requestContext": _request_context(
            conn, route_key="$connect", event_type="CONNECT", request_id=request_id, at_ms=at_ms
        ),
        "isBase64Encoded": False,
    }
    if query:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in query.items():
            single[name] = value
            multi.setdefault(name, []).append(value)
        event["queryStringParameters"] = single
        event["multiValueQueryStringParameters"] = multi
    return event


def authorizer_event(
    conn: ConnectionInfo,
    query: MultiMapping[str],
    *,
    region: str,
    account: str,
    request_id: str,
    at_ms: int,
) -> dict[str, Any]:
    """The REQUEST authorizer's event for a WebSocket $connect."""
    event = connect_event(conn, query, request_id, at_ms)
    event.pop("isBase64Encoded", None)
    arn = f"arn:aws:execute-api:{region}:{account}:{conn.api_id}/{conn.stage}/$connect"
    return {"type": "REQUEST", "methodArn": arn, "stageVariables": {}, **event}


def missing_identity(
    sources: tuple[str, ...], query: MultiMapping[str], headers: MultiMapping[str]
) -> str | None:
    """The first identity source absent from the request (API Gateway then answers 401 without
    calling the authorizer), or None."""
    for source in sources:
        if source.startswith("route.request.querystring."):
            value = query.get(source.removeprefix("route.request.querystring."))
        elif source.startswith("route.request.header."):
            value = headers.get(source.removeprefix("route.request.header."))
        else:
            continue  # stage variables and context: not checked here
        if not value:
            return source
    return None


def policy_allows(result: Any) -> bool:
    """An IAM policy from an authorizer allows the call: an Allow on execute-api:Invoke, no Deny."""
    if not isinstance(result, dict):
        return False
    statements = (result.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    effects = set()
    for statement in statements:
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if any(a in ("execute-api:Invoke", "execute-api:*", "*") for a in actions):
            effects.add(statement.get("Effect"))
    return "Allow" in effects and "Deny" not in effects


def message_event(
    conn: ConnectionInfo,
    *,
    route_key: str,
    body: str | bytes,
    request_id: str,
    message_id: str,
    at_ms: int,
) -> dict[str, Any]:
    context = _request_context(
        conn, route_key=route_key, event_type="MESSAGE", request_id=request_id, at_ms=at_ms
    )
    context["messageId"] = message_id
    if isinstance(body, bytes):
        return {
            "requestContext": context,
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    conn: ConnectionInfo, *, request_id: str, at_ms: int, status_code: int, reason: str
) -> dict[str, Any]:
    context = _request_context(
        conn, route_key="$disconnect", event_type="DISCONNECT", request_id=request_id, at_ms=at_ms
    )
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    host = conn.headers.get("Host", conn.domain_name)
    headers = {
        "Host": host,
        "X-Forwarded-For": conn.source_ip,
        "X-Forwarded-Port": conn.headers.get("X-Forwarded-Port", ""),
        "X-Forwarded-Proto": "http",
    }
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def select_route(expression: str, body: str | bytes, route_keys: Mapping[str, Any]) -> str:
    """Evaluate a route selection expression such as ``$request.body.action`` on a frame.

    API Gateway falls back to ``$default`` when the frame is not JSON, the path is missing, or the
    value names no route.
    """
    path = expression.strip()
    if path.startswith("${") and path.endswith("}"):
        path = "$" + path[2:-1]
    prefix = "$request.body."
    if isinstance(body, bytes) or not path.startswith(prefix):
        return "$default"
    try:
        value: Any = json.loads(body)
    except ValueError:
        return "$default"
    for part in path[len(prefix) :].split("."):
        if not isinstance(value, dict) or part not in value:
            return "$default"
        value = value[part]
    if isinstance(value, str) and value in route_keys and not value.startswith("$"):
        return value
    return "$default"


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """The frame API Gateway sends a client when it cannot deliver a message to a route."""
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})
