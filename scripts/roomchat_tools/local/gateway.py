"""A local WebSocket gateway that behaves like API Gateway v2 for one WebSocket API.

One aiohttp server, one port, composed of one part per concern:
- ``GET /<stage>``: the WebSocket endpoint ($connect, route selection, $disconnect, limits):
  ``websocket.py``;
- ``POST/GET/DELETE /<stage>/@connections/{id}``: the management API, with AWS's error shapes so
  boto3's ``apigatewaymanagementapi`` client and the AWS CLI work against it:
  ``connections_api.py``;
- ``/_devstack/faults`` and ``/_devstack/dynamodb``: fault injection for tests and experiments
  (``ROOMCHAT_FAULTS=0`` removes the first): ``faults.py``;
- ``/``: the web client (``web/``) when it exists, and ``/devstack.json`` with the URLs: here.

Lambda functions run in worker subprocesses (``runtime.py``); the event loop never blocks on them.
This module holds the settings (API Gateway's quotas), the server's lifecycle and the worker
pools; ``Gateway`` and ``GatewaySettings`` are what the launcher, the tests and the bench use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from roomchat_tools.local import webpage
from roomchat_tools.local.apimodel import ApiModel
from roomchat_tools.local.connections_api import ConnectionsApi, aws_error
from roomchat_tools.local.dynamoproxy import DynamoDBProxy
from roomchat_tools.local.faults import FaultPlan, dynamodb_admin, faults_admin
from roomchat_tools.local.iam_check import RoleGuards
from roomchat_tools.local.invoke import InvokeApi
from roomchat_tools.local.origin_guard import OriginGuard
from roomchat_tools.local.runtime import (
    CodeStore,
    FunctionPool,
    FunctionSpec,
    LogSink,
    function_environment,
)
from roomchat_tools.local.throttle import ThrottleSettings
from roomchat_tools.local.websocket import Connection, WebSocketEndpoint

__all__ = ["Gateway", "GatewaySettings", "GatewayThread", "default_log_sink"]

log = logging.getLogger("devstack.gateway")
lambda_log = logging.getLogger("devstack.lambda")


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
    iam: bool = True  # check the functions' AWS calls against their roles (iam_check.py)
    # API Gateway's shared limits (throttle.py): the stage's route buckets, the account's
    # 10,000 requests/s and 500 new connections/s, the 4,096-character URL. ROOMCHAT_THROTTLE=0
    # turns them all off; ROOMCHAT_ACCOUNT_RPS and ROOMCHAT_NEW_CONNECTIONS_PER_S change two.
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)

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
            "iam": os.environ.get("ROOMCHAT_IAM", "1").strip() not in ("0", "false", "no"),
            "throttle": ThrottleSettings(
                enabled=os.environ.get("ROOMCHAT_THROTTLE", "1").strip()
                not in ("0", "false", "no"),
                account_rate=_env_number("ROOMCHAT_ACCOUNT_RPS", ThrottleSettings.account_rate),
                connect_rate=_env_number(
                    "ROOMCHAT_NEW_CONNECTIONS_PER_S", ThrottleSettings.connect_rate
                ),
                connect_burst=int(
                    _env_number("ROOMCHAT_NEW_CONNECTIONS_PER_S", ThrottleSettings.connect_burst)
                ),
            ),
        }
        values.update(overrides)
        return cls(**values)


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
        dynamodb: DynamoDBProxy | None = None,
        dynamodb_endpoint: str | None = None,
        web_auth: dict[str, Any] | None = None,
    ) -> None:
        self.api = api
        # How the web client signs in (webpage.web_auth), in /devstack.json; None: no token needed.
        self.web_auth = web_auth
        # The functions reach DynamoDB through this proxy when given (delayed visibility).
        self.dynamodb = dynamodb
        # Else this DynamoDB endpoint when given (DynamoDB Local, local/dataplane.py).
        self.dynamodb_endpoint = dynamodb.url if dynamodb is not None else dynamodb_endpoint
        self.code = code
        self.settings = settings
        self.emulator_endpoint = emulator_endpoint
        self.region = region
        self.log_sink = log_sink
        self.pools: dict[str, FunctionPool] = {}
        self.faults = FaultPlan()
        self.endpoint = WebSocketEndpoint(api, settings, self.faults, self.pools, region=region)
        # Each function's AWS calls checked against its execution role, as on AWS.
        self.iam = RoleGuards(emulator_endpoint, region, log=log.warning) if settings.iam else None
        self.connections_api = ConnectionsApi(
            self.endpoint, self.iam.authorize_connections if self.iam else None
        )
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._reaper_task: asyncio.Task[None] | None = None
        # Fail at start-up, not on the first message, when the deployed code is not ours.
        for spec in api.functions.values():
            code.task_root(spec)

    @property
    def connections(self) -> dict[str, Connection]:
        """The open connections, by id."""
        return self.endpoint.connections

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
        # Only this machine's own pages may drive the gateway from a browser (origin_guard.py).
        guard = OriginGuard(self.settings.host, lambda: self.port)
        app = web.Application(
            client_max_size=self.settings.max_post_bytes * 2, middlewares=[guard.middleware]
        )
        stage = self.api.stage
        app.router.add_get(f"/{stage}", self.endpoint.handle)
        app.router.add_route(
            "*", f"/{stage}/@connections/{{connection_id}}", self.connections_api.handle
        )
        app.router.add_get("/devstack.json", self._devstack_json)
        if self.settings.faults:
            app.router.add_route("*", "/_devstack/faults", faults_admin(self.faults))
            app.router.add_get("/_devstack/usage", self._usage)
        if self.dynamodb is not None:
            app.router.add_route("*", "/_devstack/dynamodb", dynamodb_admin(self.dynamodb))
        # The Lambda Invoke API for functions that call other functions (AWS_ENDPOINT_URL_LAMBDA).
        InvokeApi(lambda: self.pools).add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._static)
        return app

    def usage(self) -> dict[str, Any]:
        """What the API has been asked for so far: invocations by function, @connections posts,
        and what each throttle bucket allowed and refused (the soak's cost figures)."""
        return {
            "invocations": {name: pool.invocations for name, pool in self.pools.items()},
            "posts": self.endpoint.usage["posts"],
            "throttle": self.endpoint.throttle.counts(),
        }

    async def _usage(self, request: web.Request) -> web.Response:
        return web.json_response(self.usage())

    async def start(self) -> None:
        self._runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the real one when settings.port is 0
        self.endpoint.port = self.port
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
            if self.dynamodb_endpoint:
                env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
            await asyncio.to_thread(self._guard, spec, env)
            self.pools[spec.name] = FunctionPool(
                spec, task_root, env, self.settings.concurrency, self.log_sink
            )
        self._reaper_task = asyncio.get_running_loop().create_task(self._reaper())

    def add_function(self, spec: FunctionSpec, concurrency: int) -> FunctionPool:
        """A pool for a function no route invokes (an event source mapping's), run like the
        routed ones: same environment, reaped and stopped with them."""
        task_root = self.code.task_root(spec)
        env = function_environment(
            spec,
            task_root,
            region=self.region,
            emulator_endpoint=self.emulator_endpoint,
            callback_url=self.callback_url,
        )
        if self.dynamodb_endpoint:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
        self._guard(spec, env)
        pool = FunctionPool(spec, task_root, env, concurrency, self.log_sink)
        self.pools[spec.name] = pool
        return pool

    def _guard(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        """The function's role policy and session for its workers (functions without a role,
        as some tests deploy, run unchecked)."""
        if self.iam is not None and spec.role:
            self.iam.configure(spec.name, spec.role, env)

    async def _reaper(self) -> None:
        interval = max(0.5, min(10.0, self.settings.worker_idle_s / 2))
        while not self.endpoint.stopping:
            await asyncio.sleep(interval)
            for pool in self.pools.values():
                pool.reap(self.settings.worker_idle_s)

    async def stop(self, grace_s: float = 5.0) -> None:
        """Close every connection (each gets its $disconnect), then stop workers and the server."""
        if self._reaper_task is not None:
            self._reaper_task.cancel()
        await self.endpoint.close_all(grace_s)
        for pool in self.pools.values():
            await pool.aclose()
        if self._runner:
            await self._runner.cleanup()
        if self.iam is not None:
            self.iam.cleanup()

    def worker_pids(self) -> list[int]:
        return [pid for pool in self.pools.values() for pid in pool.worker_pids]

    async def prewarm(self) -> None:
        """Start one worker per function (optional: trades memory for no cold starts)."""
        await asyncio.gather(*(pool.prewarm() for pool in self.pools.values()))

    # ----- web client -------------------------------------------------------------------------
    async def _devstack_json(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "websocketUrl": self.websocket_url,
                "callbackUrl": self.callback_url,
                "stage": self.api.stage,
                "apiId": self.api.api_id,
                **({"auth": self.web_auth} if self.web_auth else {}),
            }
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        web_dir = self.settings.web_dir
        if request.method not in ("GET", "HEAD"):
            return aws_error(403, "ForbiddenException", "Missing Authentication Token")
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
        # The page's folder and the folders its own symlinks name (web/sdk: the JavaScript SDK's
        # source, clients/js/src), nothing else.
        roots = [root, *(link.resolve() for link in root.iterdir() if link.is_symlink())]
        if not any(target.is_relative_to(r) for r in roots) or not target.is_file():
            raise web.HTTPNotFound()
        if target == root / "index.html":
            return self._page(target, request.host)
        return web.FileResponse(target)

    def _page(self, path: Path, host: str) -> web.StreamResponse:
        """index.html with its CSP as a header too, narrowed to this stack's sign-in origin and
        to this gateway's WebSocket, by the name the page was asked for (a page without a CSP
        or without the ceilings is served as it is)."""
        html = path.read_text()
        endpoint = (self.web_auth or {}).get("cognitoEndpoint")
        try:
            csp = webpage.narrowed_csp(webpage.page_csp(html), endpoint, f"ws://{host}")
        except ValueError:
            return web.FileResponse(path)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"},
        )


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
