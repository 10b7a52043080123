"""Which transport the bench fleet should hold its thousand sockets with: side by side.

    python -m roomchat_tools.bench.transport [--clients 1000] [--rounds 30]

A broadcast server (aiohttp, in a process of its own) sends one frame to every connected client;
the clients are either the fleet's (aiohttp ``ws_connect`` and a reader task each, as
``fleet.py``) or the project's protocol client (``roomchat_client.Client``, the Python SDK, on
``websockets``, reader task, listener). Printed: the time to connect them all, and the median and
p90 of the time from the broadcast request to the last client's receipt, with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

SERVER = r"""
import asyncio, sys
from aiohttp import web

clients = set()

async def ws(request):
    sock = web.WebSocketResponse(compress=False)
    await sock.prepare(request)
    clients.add(sock)
    try:
        async for _ in sock:
            pass
    finally:
        clients.discard(sock)
    return sock

async def broadcast(request):
    data = await request.text()
    await asyncio.gather(*(c.send_str(data) for c in list(clients)), return_exceptions=True)
    return web.Response(text=str(len(clients)))

app = web.Application()
app.router.add_get("/ws", ws)
app.router.add_post("/broadcast", broadcast)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, handle_signals=True)
"""


class Round:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.got = 0
        self.done = asyncio.Event()
        self.last = 0.0

    def receive(self) -> None:
        self.got += 1
        if self.got == self.expected:
            self.last = time.perf_counter()
            self.done.set()


async def _aiohttp_fleet(session: Any, url: str, n: int, on_frame: Callable[[], None]) -> Any:
    from aiohttp import WSMsgType

    limit = asyncio.Semaphore(25)

    async def one() -> Any:
        async with limit:
            ws = await session.ws_connect(url, autoping=True, heartbeat=None, compress=0)

        async def read() -> None:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    on_frame()

        return ws, asyncio.create_task(read())

    return await asyncio.gather(*(one() for _ in range(n)))


async def _client_fleet(url: str, n: int, on_frame: Callable[[], None]) -> Any:
    from roomchat_client import Client

    limit = asyncio.Semaphore(25)

    async def one() -> Any:
        async with limit:
            client = await Client.connect(url, buffer=False, compression=None, max_size=None)
        client.listen(lambda _frame: on_frame())
        return client

    return await asyncio.gather(*(one() for _ in range(n)))


async def _measure(
    kind: str, port: int, clients: int, rounds: int, session: Any
) -> dict[str, float]:
    url = f"ws://127.0.0.1:{port}/ws"
    current: list[Round] = []

    def on_frame() -> None:
        if current:
            current[0].receive()

    started = time.perf_counter()
    if kind == "aiohttp":
        fleet = await _aiohttp_fleet(session, url, clients, on_frame)
    else:
        fleet = await _client_fleet(url, clients, on_frame)
    connect_s = time.perf_counter() - started
    times: list[float] = []
    frame = json.dumps({"type": "message", "roomId": "bench", "message": "x" * 100})
    for _ in range(rounds + 3):
        current[:] = [Round(clients)]
        sent = time.perf_counter()
        async with session.post(f"http://127.0.0.1:{port}/broadcast", data=frame) as response:
            await response.read()
        await asyncio.wait_for(current[0].done.wait(), 60)
        times.append(current[0].last - sent)
        await asyncio.sleep(0.05)
    times = times[3:]  # warm-up
    if kind == "aiohttp":
        for ws, task in fleet:
            task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
    else:
        await asyncio.gather(*(c.close() for c in fleet), return_exceptions=True)
    ordered = sorted(times)
    return {
        "connect_s": connect_s,
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": ordered[int(len(ordered) * 0.9) - 1] * 1000,
    }


async def _run(clients: int, rounds: int, port: int) -> dict[str, dict[str, float]]:
    import aiohttp

    results: dict[str, dict[str, float]] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for kind in ("aiohttp", "client", "aiohttp", "client"):  # interleaved, twice
            run: Awaitable[dict[str, float]] = _measure(kind, port, clients, rounds, session)
            figures = await run
            best = results.get(kind)
            if best is None or figures["median_ms"] < best["median_ms"]:
                results[kind] = figures
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args(argv)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.port)])
    try:
        time.sleep(1.5)
        results = asyncio.run(_run(args.clients, args.rounds, args.port))
    finally:
        server.terminate()
        server.wait(10)
    a, c = results["aiohttp"], results["client"]
    print(f"{args.clients} clients, {args.rounds} broadcasts (best of two runs each)")
    print(f"{'':24}{'aiohttp fleet':>16}{'protocol client':>18}{'ratio':>8}")
    for key, label in (
        ("connect_s", "connect all (s)"),
        ("median_ms", "broadcast median (ms)"),
        ("p90_ms", "broadcast p90 (ms)"),
    ):
        print(f"{label:24}{a[key]:16.2f}{c[key]:18.2f}{c[key] / a[key]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
