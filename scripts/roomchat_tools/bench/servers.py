"""The child side of the helpers: the gateway for one API (ours or the baseline's), the bare
broadcast server and the latency sink, each in a process of its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from .processes import die_with_parent


def serve_role(argv: list[str]) -> int:
    """The child side of Helper: ``python -m roomchat_tools.bench _serve gateway|bare|sink ...``."""
    parser = argparse.ArgumentParser(prog="roomchat_tools.bench _serve")
    parser.add_argument("role", choices=["gateway", "bare", "sink"])
    parser.add_argument("--emulator")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--dynamodb", default="", help="the functions' DynamoDB endpoint")
    parser.add_argument("--api-id")
    parser.add_argument("--zip")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE set in every function's environment"
    )
    parser.add_argument(
        "--own-fanout-queue",
        action="store_true",
        help="run the fan-out tier here, on a copy of the stack's queue (bench/ownqueue.py)",
    )
    args = parser.parse_args(argv)
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the bench decides when we stop
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(_serve(args))


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.buffer.read)


def _answer(info: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()


async def _serve_gateway(args: argparse.Namespace) -> int:
    """One API (ours or the baseline's) served by the local gateway's own code, in a process of
    its own, with a switchable delay on every @connections POST (an AWS-like round trip)."""
    from aiohttp import web

    from roomchat_tools.local.apimodel import emulator_clients, load_api
    from roomchat_tools.local.gateway import Gateway, GatewaySettings
    from roomchat_tools.local.runtime import CodeStore

    class BenchGateway(Gateway):
        post_delay_s = 0.0

        def build_app(self) -> web.Application:
            app = super().build_app()

            @web.middleware
            async def delay(request: web.Request, handler: Any) -> web.StreamResponse:
                if (
                    self.post_delay_s
                    and request.method == "POST"
                    and "/@connections/" in (request.path)
                ):
                    await asyncio.sleep(self.post_delay_s)
                return await handler(request)

            app.middlewares.append(delay)
            return app

    apigw, lam = emulator_clients(args.emulator, args.region)
    api = load_api(apigw, lam, api_id=args.api_id)
    settings = GatewaySettings(
        host="127.0.0.1",
        port=0,
        concurrency=args.concurrency,
        idle_timeout_s=3600.0,
        max_connection_s=7200.0,
        # The tier runs on a copy of the stack's queue (ownqueue.py), which the functions' roles
        # do not name: IAM is the suites' to check (roomchat_tools/local/iam_check.py), timing
        # is the bench's.
        iam=False,
    )
    code = CodeStore([Path(args.zip)])
    gateway = BenchGateway(
        api,
        code,
        settings,
        emulator_endpoint=args.emulator,
        region=args.region,
        log_sink=lambda fn, line: None,
        dynamodb_endpoint=args.dynamodb or None,
    )
    await gateway.start()
    overrides = dict(item.split("=", 1) for item in args.env)
    for pool in gateway.pools.values():
        pool.set_env(overrides)
    tier = None
    if args.own_fanout_queue:
        from .ownqueue import OwnFanoutQueue

        tier = OwnFanoutQueue(gateway, args.emulator, args.region)
        tier_info = await tier.start()
    _answer(
        {
            "websocket_url": gateway.websocket_url,
            "callback_url": gateway.callback_url,
            **({"tier": tier_info} if tier else {}),
        }
    )
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    try:
        while line := await commands.readline():
            command = json.loads(line)
            if "post_delay_ms" in command:
                gateway.post_delay_s = float(command["post_delay_ms"]) / 1000
            if "env" in command:  # a function configuration update, e.g. the tier threshold
                for pool in gateway.pools.values():
                    pool.set_env(command["env"])
            _answer(
                {
                    "ok": True,
                    "post_delay_ms": gateway.post_delay_s * 1000,
                    "tier_invocations": tier.invocations() if tier else 0,
                }
            )
    finally:
        if tier is not None:
            await tier.stop()
        # Stopping closes every connection; $disconnects cut short by it are expected.
        for name in ("devstack", "asyncio"):
            logging.getLogger(name).setLevel(logging.ERROR)
        await gateway.stop()
        code.cleanup()
    return 0


async def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    if args.role == "gateway":
        return await _serve_gateway(args)
    runner: web.AppRunner
    if args.role == "bare":
        # The floor: an aiohttp server that sends a frame to every socket it holds, nothing else.
        sockets: set[web.WebSocketResponse] = set()

        async def websocket(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse(compress=False, max_msg_size=0)
            await ws.prepare(request)
            sockets.add(ws)
            try:
                async for _ in ws:
                    pass
            finally:
                sockets.discard(ws)
            return ws

        async def broadcast(request: web.Request) -> web.Response:
            data = await request.text()
            for ws in list(sockets):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(data)
            return web.Response(text=str(len(sockets)))

        app = web.Application()
        app.router.add_get("/ws", websocket)
        app.router.add_post("/broadcast", broadcast)
    else:
        # A stand-in @connections endpoint that answers 200 after a fixed delay: the round trip
        # a post takes on AWS, without this machine's CPU being the limit.
        delay = args.delay_ms / 1000

        async def post(request: web.Request) -> web.Response:
            await request.read()
            await asyncio.sleep(delay)
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/live/@connections/{connection_id}", post)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    if args.role == "bare":
        _answer(
            {
                "websocket_url": f"ws://127.0.0.1:{port}/ws",
                "broadcast_url": f"http://127.0.0.1:{port}/broadcast",
            }
        )
    else:
        _answer({"callback_url": f"http://127.0.0.1:{port}/live"})
    try:
        await _until_stdin_closes()
    finally:
        await runner.cleanup()
    return 0
