"""The @connections management API of the local gateway, with AWS's error shapes.

``POST/GET/DELETE /<stage>/@connections/{id}``, answered as API Gateway answers them (410
GoneException for an unknown connection, 413 PayloadTooLargeException over the 128 KB message
payload quota, the error type in ``x-amzn-ErrorType``), so boto3's ``apigatewaymanagementapi``
client, the functions' lean poster and the AWS CLI work against it
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html).
Injected faults (``faults.py``) are applied before the call.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping

from aiohttp import WSCloseCode, web

from roomchat_tools.local import events
from roomchat_tools.local.faults import FAULT_ERROR_TYPES
from roomchat_tools.local.websocket import Gone, WebSocketEndpoint

log = logging.getLogger("devstack.gateway")


def aws_error(status: int, error_type: str, message: str | None) -> web.Response:
    """An error shaped as API Gateway sends it; botocore reads the type from the header."""
    return web.Response(
        status=status,
        body=json.dumps({"message": message}).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


# (method, headers, api id, stage, connection id) -> (status, error type, message) refusing
# the request, or None: the caller's IAM check (iam_check.RoleGuards.authorize_connections).
Authorize = Callable[[str, Mapping[str, str], str, str, str], tuple[int, str, str] | None]


class ConnectionsApi:
    """Posts to, describes and deletes the connections of one WebSocket endpoint; with
    ``authorize``, only for callers whose IAM policy allows it, as API Gateway checks
    ``execute-api:ManageConnections``."""

    def __init__(self, endpoint: WebSocketEndpoint, authorize: Authorize | None = None) -> None:
        self.endpoint = endpoint
        self.authorize = authorize

    async def handle(self, request: web.Request) -> web.Response:
        endpoint = self.endpoint
        connection_id = request.match_info["connection_id"]
        if self.authorize is not None and request.method in ("POST", "GET", "DELETE"):
            api = endpoint.api
            refused = self.authorize(
                request.method, request.headers, api.api_id, api.stage, connection_id
            )
            if refused is not None:
                return aws_error(*refused)
        data = await request.read() if request.method == "POST" else b""
        if request.method in ("POST", "GET", "DELETE") and not endpoint.throttle.allow_callback():
            # The account's requests/s, shared with the routes: PostToConnection's 429.
            return aws_error(429, "LimitExceededException", "Rate exceeded")
        fault = endpoint.faults.take(connection_id, request.method)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                return aws_error(fault.status, FAULT_ERROR_TYPES[fault.status], "injected fault")
        # Looked up after any injected delay: the connection may have gone meanwhile.
        conn = endpoint.connections.get(connection_id)
        if request.method == "POST":
            endpoint.usage["posts"] += 1
            max_post_bytes = endpoint.settings.max_post_bytes
            if len(data) > max_post_bytes:
                log.error(
                    "@connections POST of %d bytes to %s refused: over the %d-byte message "
                    "payload quota",
                    len(data),
                    connection_id,
                    max_post_bytes,
                )
                return aws_error(413, "PayloadTooLargeException", "Request entity too large")
            if conn is None:
                return aws_error(410, "GoneException", None)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                payload: str | bytes = data
            else:
                payload = text
            try:
                await conn.send(payload)
            except Gone:
                # The socket died under us: forget it now, the handler loop runs $disconnect.
                lost = endpoint.close(conn, WSCloseCode.ABNORMAL_CLOSURE, "Connection lost")
                endpoint.background(lost)
                return aws_error(410, "GoneException", None)
            return web.Response(status=200)
        if request.method == "GET":
            if conn is None:
                return aws_error(410, "GoneException", None)
            return web.json_response(
                {
                    "connectedAt": events.iso8601(conn.info.connected_at),
                    "identity": {
                        "sourceIp": conn.info.source_ip,
                        "userAgent": conn.info.user_agent,
                    },
                    "lastActiveAt": events.iso8601(conn.last_active),
                }
            )
        if request.method == "DELETE":
            if conn is None:
                return aws_error(410, "GoneException", None)
            endpoint.background(endpoint.close(conn, WSCloseCode.OK, "Connection deleted"))
            return web.Response(status=204)
        return aws_error(403, "ForbiddenException", "Missing Authentication Token")
