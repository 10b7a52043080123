"""A local WebSocket gateway that behaves like API Gateway v2 for one WebSocket API.

One aiohttp server, one port:
- ``GET /<stage>``: the WebSocket endpoint ($connect, route selection, $disconnect, limits);
- ``POST/GET/DELETE /<stage>/@connections/{id}``: the management API, with AWS's error shapes so
  boto3's ``apigatewaymanagementapi`` client and the AWS CLI work against it;
- ``/``: the web client (``web/``) when it exists, and ``/devstack.json`` with the URLs;
- ``/_devstack/faults``: fault injection for tests and experiments (``Fault``, ``FaultPlan``):
  make the management API answer 410/429/500 (or wait first) for chosen connection ids N times,
  or skip a connection's ``$disconnect``. Nothing changes until a rule is added, and only the
  connections a rule names are affected or counted; ``ROOMCHAT_FAULTS=0`` removes the endpoint.

    F=localhost:8080/_devstack/faults
    curl -X POST $F -d '{"connectionId": "L0SM9cOFvHcCIhw=", "status": 429, "times": 3}'
    curl -X POST $F -d '{"connectionId": "L0SM9cOFvHcCIhw=", "delay": 1.5}'
    curl -X POST $F -d '{"connectionId": "L0SM9cOFvHcCIhw=", "target": "$disconnect"}'
    curl $F              # the rules, and the calls each connection they name received
    curl -X DELETE $F    # back to normal

Lambda functions run in worker subprocesses (``runtime.py``); the event loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from roomchat_tools.local import events
from roomchat_tools.local.apimodel import ApiModel, Route
from roomchat_tools.local.invoke import InvokeApi
from roomchat_tools.local.runtime import (
    CodeStore,
    FunctionPool,
    InvocationResult,
    LogSink,
    function_environment,
)

log = logging.getLogger("devstack.gateway")
lambda_log = logging.getLogger("devstack.lambda")

GOING_AWAY = 1001
SEND_TIMEOUT_S = 10.0


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default


@dataclass(frozen=True)
class GatewaySettings:
    """API Gateway's WebSocket quotas, shortened in tests through ROOMCHAT_* variables."""

    host: str = "127.0.0.1"
    port: int = 8080
    idle_timeout_s: float = 600.0  # "Idle Connection Timeout": 10 minutes
    max_connection_s: float = 7200.0  # "Connection duration for WebSocket API": 2 hours
    max_frame_bytes: int = 32 * 1024  # "WebSocket frame size": 32 KB
    max_post_bytes: int = 128 * 1024  # "Message payload size": 128 KB
    concurrency: int = 2  # concurrent invocations (worker processes) per function at most
    worker_idle_s: float = 60.0  # extra workers idle this long are stopped (one stays warm)
    web_dir: Path | None = None
    faults: bool = True  # serve /_devstack/faults (fault injection; inert until a rule is added)

    @classmethod
    def from_env(cls, **overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "host": os.environ.get("ROOMCHAT_HOST", cls.host),
            "port": int(_env_number("ROOMCHAT_PORT", cls.port)),
            "idle_timeout_s": _env_number("ROOMCHAT_IDLE_TIMEOUT", cls.idle_timeout_s),
            "max_connection_s": _env_number("ROOMCHAT_MAX_CONNECTION", cls.max_connection_s),
            "max_frame_bytes": int(_env_number("ROOMCHAT_MAX_FRAME_BYTES", cls.max_frame_bytes)),
            "concurrency": int(_env_number("ROOMCHAT_LAMBDA_CONCURRENCY", cls.concurrency)),
            "worker_idle_s": _env_number("ROOMCHAT_WORKER_IDLE", cls.worker_idle_s),
            "faults": os.environ.get("ROOMCHAT_FAULTS", "1").strip() not in ("0", "false", "no"),
        }
        values.update(overrides)
        return cls(**values)


class Gone(Exception):
    """The connection is unknown or closed (API Gateway answers 410 GoneException)."""


# The error types the management API (and API Gateway in front of it) answers with, by status.
FAULT_ERROR_TYPES = {
    400: "BadRequestException",
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
    500: "InternalServerErrorException",
    502: "BadGatewayException",
    503: "ServiceUnavailableException",
    504: "GatewayTimeoutException",
}
FAULT_TARGETS = ("POST", "GET", "DELETE", "$disconnect")


@dataclass
class Fault:
    """One rule: the next ``times`` calls of ``target`` for ``connection_id`` are faulty.

    For a management API call (``target`` POST, GET or DELETE) the gateway first waits
    ``delay_s``, then answers ``status`` with AWS's error shape instead of doing the call (with no
    status: does the call after the wait, e.g. to hold a post while a fan-out goes on). For
    ``$disconnect``, the gateway does not invoke the route when that connection closes: the
    best-effort event API Gateway may miss.
    """

    connection_id: str
    target: str = "POST"
    status: int | None = None
    times: int = 1
    delay_s: float = 0.0
    injected: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "connectionId": self.connection_id,
            "target": self.target,
            "status": self.status,
            "times": self.times,
            "delay": self.delay_s,
            "injected": self.injected,
        }

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """A rule from ``{"connectionId", "target"?, "status"?, "times"?, "delay"?}``."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {"connectionId", "target", "status", "times", "delay"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        connection_id = data.get("connectionId")
        if not isinstance(connection_id, str) or not connection_id:
            raise ValueError("'connectionId' must be a non-empty string")
        target = data.get("target", "POST")
        if target not in FAULT_TARGETS:
            raise ValueError(f"'target' must be one of {', '.join(FAULT_TARGETS)}")
        status = data.get("status")
        if target == "$disconnect":
            if status is not None:
                raise ValueError("a $disconnect fault skips the route; it takes no 'status'")
        elif status is not None and status not in FAULT_ERROR_TYPES:
            raise ValueError(f"'status' must be one of {sorted(FAULT_ERROR_TYPES)}")
        times = data.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 10_000:
            raise ValueError("'times' must be a whole number from 1 to 10000")
        delay = data.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 30:
            raise ValueError("'delay' must be a number of seconds from 0 to 30")
        if target == "$disconnect" and delay:
            raise ValueError("a $disconnect fault takes no 'delay'")
        if status is None and not delay and target != "$disconnect":
            raise ValueError("give a 'status', a 'delay' or both")
        return cls(connection_id, target, status, times, float(delay))


class FaultPlan:
    """The fault rules of one gateway, and how many calls each watched connection received.

    Only connections named by a rule are counted, so a test can read the attempts a client made
    (e.g. botocore's retries of a 429) from ``calls``. Rules stay listed, exhausted or not, until
    ``clear()``. Runs on the gateway's event loop only: no locking.
    """

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.calls: Counter[tuple[str, str]] = Counter()

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self.calls.clear()

    def take(self, connection_id: str, target: str) -> Fault | None:
        """Count one call; the first rule for it with injections left, which is used up by one."""
        if not self.faults:  # the normal path: no rules, nothing to do
            return None
        chosen: Fault | None = None
        watched = False
        for fault in self.faults:
            if fault.connection_id == connection_id and fault.target == target:
                watched = True
                if chosen is None and fault.injected < fault.times:
                    chosen = fault
        if watched:
            self.calls[(connection_id, target)] += 1
        if chosen is not None:
            chosen.injected += 1
            log.warning(
                "fault injected: %s %s -> %s (%d/%d)",
                target,
                connection_id,
                "skipped" if target == "$disconnect" else chosen.status or f"{chosen.delay_s} s",
                chosen.injected,
                chosen.times,
            )
        return chosen

    def snapshot(self) -> dict[str, Any]:
        calls: dict[str, dict[str, int]] = {}
        for (connection_id, target), n in sorted(self.calls.items()):
            calls.setdefault(connection_id, {})[target] = n
        return {"faults": [f.to_json() for f in self.faults], "calls": calls}


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


def _aws_error(status: int, error_type: str, message: str | None) -> web.Response:
    """An error shaped as API Gateway sends it; botocore reads the type from the header."""
    return web.Response(
        status=status,
        body=json.dumps({"message": message}).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def default_log_sink(function_name: str, line: str) -> None:
    lambda_log.info("[%s] %s", function_name, line)


class Gateway:
    """Serves one API; ``start()`` binds the port, ``stop()`` disconnects everyone and cleans up."""

    def __init__(
        self,
        api: ApiModel,
        code: CodeStore,
        settings: GatewaySettings,
        *,
        emulator_endpoint: str,
        region: str,
        log_sink: LogSink = default_log_sink,
    ) -> None:
        self.api = api
        self.code = code
        self.settings = settings
        self.emulator_endpoint = emulator_endpoint
        self.region = region
        self.log_sink = log_sink
        self.connections: dict[str, Connection] = {}
        self.pools: dict[str, FunctionPool] = {}
        self.faults = FaultPlan()
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reaper_task: asyncio.Task[None] | None = None
        self._stopping = False
        # Fail at start-up, not on the first message, when the deployed code is not ours.
        for spec in api.functions.values():
            code.task_root(spec)

    # ----- URLs -------------------------------------------------------------------------------
    @property
    def http_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.settings.host}:{self.port}/{self.api.stage}"

    @property
    def callback_url(self) -> str:
        return f"{self.http_url}/{self.api.stage}"

    @property
    def domain_name(self) -> str:
        return f"{self.settings.host}:{self.port}"

    # ----- lifecycle --------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.max_post_bytes * 2)
        stage = self.api.stage
        app.router.add_get(f"/{stage}", self._websocket)
        app.router.add_route("*", f"/{stage}/@connections/{{connection_id}}", self._management)
        app.router.add_get("/devstack.json", self._devstack_json)
        if self.settings.faults:
            app.router.add_route("*", "/_devstack/faults", self._faults_admin)
        # The Lambda Invoke API for functions that call other functions (AWS_ENDPOINT_URL_LAMBDA).
        InvokeApi(lambda: self.pools).add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._static)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the real one when settings.port is 0
        for spec in self.api.functions.values():
            task_root = self.code.task_root(spec)
            env = function_environment(
                spec,
                task_root,
                region=self.region,
                emulator_endpoint=self.emulator_endpoint,
                callback_url=self.callback_url,
                lambda_url=self.http_url,
            )
            self.pools[spec.name] = FunctionPool(
                spec, task_root, env, self.settings.concurrency, self.log_sink
            )
        self._reaper_task = asyncio.get_running_loop().create_task(self._reaper())

    async def _reaper(self) -> None:
        interval = max(0.5, min(10.0, self.settings.worker_idle_s / 2))
        while not self._stopping:
            await asyncio.sleep(interval)
            for pool in self.pools.values():
                pool.reap(self.settings.worker_idle_s)

    async def stop(self, grace_s: float = 5.0) -> None:
        """Close every connection (each gets its $disconnect), then stop workers and the server."""
        self._stopping = True
        if self._reaper_task is not None:
            self._reaper_task.cancel()
        for conn in list(self.connections.values()):
            await self._close(conn, GOING_AWAY, "Going away")
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=grace_s)
        for pool in self.pools.values():
            await pool.aclose()
        if self._runner:
            await self._runner.cleanup()

    def worker_pids(self) -> list[int]:
        return [pid for pool in self.pools.values() for pid in pool.worker_pids]

    async def prewarm(self) -> None:
        """Start one worker per function (optional: trades memory for no cold starts)."""
        await asyncio.gather(*(pool.prewarm() for pool in self.pools.values()))

    def _background(self, coro: Any) -> None:
        """Run a coroutine on its own, keeping a reference so it is not garbage-collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    # ----- WebSocket endpoint -----------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.StreamResponse:
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
        if self._stopping:
            return web.Response(status=503)
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required")
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
        for task in list(conn.tasks):  # messages in flight still finish, as on AWS
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), 30)
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
            if body is not None:
                await self._reply(conn, body)

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
                self._background(self._close(conn, GOING_AWAY, reason))
                return
            await asyncio.sleep(remaining)

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closing:
            return
        conn.closing = True
        conn.close_code, conn.close_reason = code, reason
        self.connections.pop(conn.connection_id, None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code=code, message=reason.encode()), 5)

    # ----- @connections management API --------------------------------------------------------
    async def _management(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        data = await request.read() if request.method == "POST" else b""
        fault = self.faults.take(connection_id, request.method)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                return _aws_error(fault.status, FAULT_ERROR_TYPES[fault.status], "injected fault")
        # Looked up after any injected delay: the connection may have gone meanwhile.
        conn = self.connections.get(connection_id)
        if request.method == "POST":
            if len(data) > self.settings.max_post_bytes:
                return _aws_error(413, "PayloadTooLargeException", "Request entity too large")
            if conn is None:
                return _aws_error(410, "GoneException", None)
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
                self._background(self._close(conn, WSCloseCode.ABNORMAL_CLOSURE, "Connection lost"))
                return _aws_error(410, "GoneException", None)
            return web.Response(status=200)
        if request.method == "GET":
            if conn is None:
                return _aws_error(410, "GoneException", None)
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
                return _aws_error(410, "GoneException", None)
            self._background(self._close(conn, WSCloseCode.OK, "Connection deleted"))
            return web.Response(status=204)
        return _aws_error(403, "ForbiddenException", "Missing Authentication Token")

    # ----- fault injection ---------------------------------------------------------------------
    async def _faults_admin(self, request: web.Request) -> web.Response:
        """``GET``: the rules and the calls counted; ``POST``: add one rule or a list of rules
        (``Fault.from_json``); ``DELETE``: remove every rule and count."""
        if request.method == "GET":
            return web.json_response(self.faults.snapshot())
        if request.method == "DELETE":
            self.faults.clear()
            return web.Response(status=204)
        if request.method != "POST":
            return web.json_response({"message": "use GET, POST or DELETE"}, status=405)
        try:
            body = await request.json()
            items = body if isinstance(body, list) else [body]
            faults = [Fault.from_json(item) for item in items]
        except ValueError as exc:
            return web.json_response({"message": str(exc)}, status=400)
        for fault in faults:
            self.faults.add(fault)
        return web.json_response({"faults": [f.to_json() for f in faults]}, status=201)

    # ----- web client -------------------------------------------------------------------------
    async def _devstack_json(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "websocketUrl": self.websocket_url,
                "callbackUrl": self.callback_url,
                "stage": self.api.stage,
                "apiId": self.api.api_id,
            }
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        web_dir = self.settings.web_dir
        if request.method not in ("GET", "HEAD"):
            return _aws_error(403, "ForbiddenException", "Missing Authentication Token")
        if web_dir is None or not (web_dir / "index.html").is_file():
            if request.path == "/":
                return web.Response(
                    text=f"roomchat local gateway\nWebSocket: {self.websocket_url}\n"
                    "(no web client yet: web/index.html does not exist)\n"
                )
            raise web.HTTPNotFound()
        root = web_dir.resolve()
        target = (root / request.match_info["tail"]).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(target)


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


class GatewayThread:
    """Runs a Gateway on its own event loop in a background thread (tests, tools)."""

    def __init__(self, factory: Callable[[], Gateway]) -> None:
        self._factory = factory
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.gateway: Gateway | None = None

    def start(self) -> Gateway:
        self._thread.start()

        async def _start() -> Gateway:
            gateway = self._factory()
            await gateway.start()
            return gateway

        self.gateway = asyncio.run_coroutine_threadsafe(_start(), self._loop).result(30)
        return self.gateway

    def call(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self.gateway is not None:
            self.call(self.gateway.stop(), timeout=60)
            self.gateway.code.cleanup()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
