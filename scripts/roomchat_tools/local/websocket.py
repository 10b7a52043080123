"""The WebSocket endpoint of the local gateway: ``GET /<stage>``, as API Gateway v2 serves it.

The handshake runs the ``$connect`` route's REQUEST authorizer, then ``$connect``; each frame is
routed by the API's route selection expression and invoked on its own (frames of one connection
may run concurrently, as on AWS); closing runs ``$disconnect``. The quotas apply: the frame size,
the idle timeout, the maximum connection duration, and the 128 KB message payload quota.

Where AWS is stricter than a lenient emulator would be, the endpoint follows AWS:
- the 128 KB message payload quota applies to what a two-way route sends back, not only to
  ``@connections`` posts (``_fits_quota``);
- ``$disconnect`` does not wait for the connection's frames still being handled: AWS documents
  no ordering between them, and delivers ``$disconnect`` best-effort
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html),
  so a ``join`` handled late can run after its connection's ``$disconnect``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

from roomchat_tools.local import events
from roomchat_tools.local.apimodel import ApiModel, Route
from roomchat_tools.local.faults import FaultPlan
from roomchat_tools.local.runtime import FunctionPool, InvocationResult
from roomchat_tools.local.throttle import TOO_MANY_REQUESTS, StageThrottle

if TYPE_CHECKING:
    from roomchat_tools.local.gateway import GatewaySettings

log = logging.getLogger("devstack.gateway")

GOING_AWAY = 1001
SEND_TIMEOUT_S = 10.0


class Gone(Exception):
    """The connection is unknown or closed (API Gateway answers 410 GoneException)."""


@dataclass
class Connection:
    info: events.ConnectionInfo
    ws: web.WebSocketResponse
    last_active: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closing: bool = False
    close_code: int | None = None
    close_reason: str = ""
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def connection_id(self) -> str:
        return self.info.connection_id

    async def send(self, data: str | bytes) -> None:
        async with self.lock:
            if self.closing or self.ws.closed:
                raise Gone(self.connection_id)
            send = self.ws.send_str(data) if isinstance(data, str) else self.ws.send_bytes(data)
            try:
                # A client that stops reading must not hold a handler's post for ever.
                await asyncio.wait_for(send, SEND_TIMEOUT_S)
            except (ConnectionError, RuntimeError, TimeoutError) as exc:
                raise Gone(self.connection_id) from exc


class WebSocketEndpoint:
    """The open connections of one API, and the handler of its WebSocket URL.

    ``pools`` (the functions' worker pools, by name) is filled by the gateway when it starts;
    ``port`` is set once the server is bound.
    """

    def __init__(
        self,
        api: ApiModel,
        settings: GatewaySettings,
        faults: FaultPlan,
        pools: dict[str, FunctionPool],
        *,
        region: str,
    ) -> None:
        self.api = api
        self.region = region
        self.settings = settings
        self.faults = faults
        self.pools = pools
        self.port: int | None = None
        self.connections: dict[str, Connection] = {}
        # The stage's and the account's token buckets (throttle.py), shared by every client.
        self.throttle = StageThrottle(api.limits, settings.throttle)
        # What the API was asked for: @connections posts (the soak reports their cost).
        self.usage: Counter[str] = Counter()
        self.stopping = False
        self._handlers: set[asyncio.Task[Any]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def domain_name(self) -> str:
        return f"{self.settings.host}:{self.port}"

    # ----- lifecycle --------------------------------------------------------------------------
    async def close_all(self, grace_s: float) -> None:
        """Close every connection (each gets its $disconnect); wait for frames in flight."""
        self.stopping = True
        for conn in list(self.connections.values()):
            await self.close(conn, GOING_AWAY, "Going away")
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=grace_s)
        if self._tasks:  # frames (and background closes) still in flight finish first
            await asyncio.wait(list(self._tasks), timeout=grace_s)

    def background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine on its own, keeping a reference so it is not garbage-collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closing:
            return
        conn.closing = True
        conn.close_code, conn.close_reason = code, reason
        self.connections.pop(conn.connection_id, None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code=code, message=reason.encode()), 5)

    # ----- invocation -------------------------------------------------------------------------
    async def _invoke(self, route: Route, event: dict[str, Any]) -> InvocationResult:
        result = await self.pools[route.function.name].invoke(event)
        if not result.ok:
            error = result.error or {}
            log.warning(
                "%s (%s) failed: %s: %s",
                route.route_key,
                route.function.name,
                error.get("errorType"),
                error.get("errorMessage"),
            )
        return result

    # ----- the handshake and the frames -------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            return await self._serve_connection(request)
        finally:
            if task is not None:
                self._handlers.discard(task)

    async def _serve_connection(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=self.settings.max_frame_bytes, compress=False, autoping=True
        )
        if self.stopping:
            return web.Response(status=503)
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required")
        refused = self._refuse_by_quota(request)
        if refused is not None:
            return refused
        source_ip = request.remote or "127.0.0.1"
        headers, multi_headers = events.collect_headers(request.headers, source_ip, self.port or 0)
        info = events.ConnectionInfo(
            connection_id=events.new_id(),
            connected_at=events.now_ms(),
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent", ""),
            domain_name=self.domain_name,
            stage=self.api.stage,
            api_id=self.api.api_id,
            headers=headers,
            multi_headers=multi_headers,
        )
        rejection = await self._authorize(info, request)
        if rejection is None:
            rejection = await self._connect(info, request)
        if rejection is not None:
            return rejection
        await ws.prepare(request)
        conn = Connection(info=info, ws=ws, last_active=events.now_ms())
        self.connections[info.connection_id] = conn
        log.info("connected %s from %s", info.connection_id, source_ip)
        watchdog = asyncio.create_task(self._watchdog(conn))
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    conn.last_active = events.now_ms()
                    task = asyncio.create_task(self._on_message(conn, msg.data))
                    conn.tasks.add(task)
                    task.add_done_callback(conn.tasks.discard)
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            watchdog.cancel()
            if conn.close_code is None:
                conn.close_code = ws.close_code or WSCloseCode.ABNORMAL_CLOSURE
                conn.close_reason = _close_reason(ws, conn.close_code)
            conn.closing = True
            self.connections.pop(info.connection_id, None)
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close(code=conn.close_code)
            await self._disconnect(conn)
        return ws

    def _refuse_by_quota(self, request: web.Request) -> web.Response | None:
        """The URL length and the new-connection buckets, checked before the authorizer runs.

        AWS documents the 4,096-character quota but not the status of a longer URL: the gateway
        refuses the handshake with 414 (URI Too Long), the strict reading. A throttled
        ``$connect`` is 429 Too Many Requests, the status API Gateway's throttling answers.
        """
        url = f"wss://{request.host}{request.raw_path}"
        if self.throttle.url_too_long(url):
            log.info("handshake refused: URL of %d characters", len(url))
            return web.json_response({"message": "Request-URI Too Long"}, status=414)
        if not self.throttle.allow_connect():
            log.info("$connect throttled")
            return web.json_response({"message": TOO_MANY_REQUESTS}, status=429)
        return None

    async def _authorize(
        self, info: events.ConnectionInfo, request: web.Request
    ) -> web.Response | None:
        """Run the $connect route's REQUEST authorizer, as API Gateway does before $connect."""
        route = self.api.routes.get("$connect")
        authorizer = route.authorizer if route else None
        if authorizer is None:
            return None
        unauthorized = web.json_response({"message": "Unauthorized"}, status=401)
        if events.missing_identity(authorizer.identity_sources, request.query, request.headers):
            return unauthorized
        event = events.authorizer_event(
            info,
            request.query,
            region=self.region,
            account=authorizer.function.arn.split(":")[4],
            request_id=events.new_id(),
            at_ms=events.now_ms(),
        )
        result = await self.pools[authorizer.function.name].invoke(event)
        if not result.ok:
            if (result.error or {}).get("errorMessage") == "Unauthorized":
                return unauthorized
            log.warning("authorizer %s failed: %s", authorizer.name, result.error)
            return web.json_response({"message": "Internal server error"}, status=500)
        if not events.policy_allows(result.result):
            message = "User is not authorized to access this resource with an explicit deny"
            return web.json_response({"message": message}, status=403)
        allowed = result.result
        info.authorizer = {
            **(allowed.get("context") or {}),
            "principalId": allowed.get("principalId"),
        }
        return None

    async def _connect(
        self, info: events.ConnectionInfo, request: web.Request
    ) -> web.Response | None:
        """Run $connect; a failure or a non-2xx status rejects the handshake with that status."""
        route = self.api.routes.get("$connect")
        if route is None:
            return None
        at = events.now_ms()
        event = events.connect_event(info, request.query, events.new_id(), at)
        result = await self._invoke(route, event)
        if not result.ok:
            return web.json_response({"message": "Internal server error"}, status=500)
        status = 200
        body = None
        if isinstance(result.result, dict):
            status = int(result.result.get("statusCode") or 200)
            body = result.result.get("body")
        if 200 <= status < 300:
            return None
        log.info("$connect rejected with %s", status)
        return web.Response(status=status, text=body if isinstance(body, str) else None)

    async def _disconnect(self, conn: Connection) -> None:
        # Not after the connection's frames still in flight: AWS documents no such ordering
        # ($disconnect is "a best-effort event", apigateway-websocket-api-route-keys-connect-
        # disconnect.html), so the functions must cope with a late frame; those frames still
        # finish (stop() waits for them), their replies to the gone connection are dropped.
        log.info("disconnected %s (%s %s)", conn.connection_id, conn.close_code, conn.close_reason)
        route = self.api.routes.get("$disconnect")
        if route is None or self.faults.take(conn.connection_id, "$disconnect"):
            return
        event = events.disconnect_event(
            conn.info,
            request_id=events.new_id(),
            at_ms=events.now_ms(),
            status_code=conn.close_code or WSCloseCode.ABNORMAL_CLOSURE,
            reason=conn.close_reason,
        )
        await self._invoke(route, event)

    async def _on_message(self, conn: Connection, data: str | bytes) -> None:
        request_id = events.new_id()
        key = events.select_route(self.api.route_selection_expression, data, self.api.routes)
        route = self.api.routes.get(key) or self.api.routes.get("$default")
        if route is None:
            await self._reply(conn, events.error_frame("Forbidden", conn.connection_id, request_id))
            return
        if not self.throttle.allow_request(route.route_key):
            # Throttled: the integration is not invoked; the client gets API Gateway's error
            # frame and keeps its connection (docs/aws-behaviour.md, "Shared limits").
            frame = events.error_frame(TOO_MANY_REQUESTS, conn.connection_id, request_id)
            await self._reply(conn, frame)
            return
        held = self.faults.take(conn.connection_id, "frame", route.route_key)
        if held is not None:
            await asyncio.sleep(held.delay_s)
        event = events.message_event(
            conn.info,
            route_key=route.route_key,
            body=data,
            request_id=request_id,
            message_id=events.new_id(),
            at_ms=events.now_ms(),
        )
        result = await self._invoke(route, event)
        if not result.ok:
            frame = events.error_frame("Internal server error", conn.connection_id, request_id)
            await self._reply(conn, frame)
            return
        if route.two_way:
            body = _integration_body(result.result)
            if body is not None and self._fits_quota(conn, route, request_id, body):
                await self._reply(conn, body)

    def _fits_quota(
        self, conn: Connection, route: Route, request_id: str, body: str | bytes
    ) -> bool:
        """Whether a route's reply fits API Gateway's 128 KB "Message payload size" quota.

        The quota (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html,
        WebSocket APIs; "API Gateway supports message payloads up to 128 KB",
        apigateway-websocket-api-routes-integrations.html) covers every message of the API, but
        AWS does not document what it does with a larger integration response of a two-way
        route. We take the strict reading: the client never receives it (no frame, no error;
        the connection stays open) and the failure is logged, as API Gateway's execution log
        would show it. A function must therefore keep every reply under 128 KB itself.
        """
        size = len(body.encode("utf-8")) if isinstance(body, str) else len(body)
        if size <= self.settings.max_post_bytes:
            return True
        log.error(
            "(%s) Execution failed: integration response of route %s is %d bytes, over the "
            "%d-byte message payload quota; not sent to %s",
            request_id,
            route.route_key,
            size,
            self.settings.max_post_bytes,
            conn.connection_id,
        )
        return False

    async def _reply(self, conn: Connection, data: str | bytes) -> None:
        with contextlib.suppress(Gone):
            await conn.send(data)

    async def _watchdog(self, conn: Connection) -> None:
        """Close connections idle for too long or open for too long, as API Gateway does."""
        max_deadline = conn.info.connected_at / 1000 + self.settings.max_connection_s
        while True:
            idle_deadline = conn.last_active / 1000 + self.settings.idle_timeout_s
            deadline = min(idle_deadline, max_deadline)
            remaining = deadline - events.now_ms() / 1000
            if remaining <= 0:
                reason = "Going away"
                log.info(
                    "closing %s: %s",
                    conn.connection_id,
                    "max duration" if deadline == max_deadline else "idle timeout",
                )
                self.background(self.close(conn, GOING_AWAY, reason))
                return
            await asyncio.sleep(remaining)


def _integration_body(result: Any) -> str | bytes | None:
    """The frame a two-way route sends back: the proxy response's ``body``, if any."""
    if result is None:
        return None
    if isinstance(result, dict):
        body = result.get("body")
        if body is None:
            return None
        if result.get("isBase64Encoded") and isinstance(body, str):
            return base64.b64decode(body)
        return body if isinstance(body, str) else json.dumps(body)
    return result if isinstance(result, str) else json.dumps(result)


def _close_reason(ws: web.WebSocketResponse, code: int) -> str:
    if code == WSCloseCode.MESSAGE_TOO_BIG:
        return "Message too big"
    exc = ws.exception()
    if exc is not None:
        return str(exc)
    return "" if code != WSCloseCode.ABNORMAL_CLOSURE else "Connection lost"
