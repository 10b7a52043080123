"""Fault injection of the local gateway: ``/_devstack/faults`` and ``/_devstack/dynamodb``.

``/_devstack/faults`` (``Fault``, ``FaultPlan``): make the management API answer 410/429/500 (or
wait first) for chosen connection ids N times, skip a connection's ``$disconnect``, or hold a
connection's frames for one route before they are invoked (so its ``$disconnect`` can run first).
Nothing changes until a rule is added, and only the connections a rule names are affected or
counted; ``ROOMCHAT_FAULTS=0`` removes the endpoint.

``/_devstack/dynamodb``: when the gateway was given a DynamoDB proxy (``dynamoproxy.py``,
``ROOMCHAT_READ_LAG_MS``), reads and sets its replica lag (``{"lagMs": 800}``) and makes the next
N calls of an operation fail (``{"fail": "PutItem", "times": 5}``, throttling by default).

    F=localhost:8080/_devstack/faults
    J='Content-Type: application/json'   # required (origin_guard.py: no cross-site posts)
    curl -X POST $F -H "$J" -d '{"connectionId": "L0SM9cOFvHcCIhw=", "status": 429, "times": 3}'
    curl -X POST $F -H "$J" -d '{"connectionId": "L0SM9cOFvHcCIhw=", "delay": 1.5}'
    curl -X POST $F -H "$J" -d '{"connectionId": "L0SM9cOFvHcCIhw=", "target": "$disconnect"}'
    curl -X POST $F -H "$J" -d '{"connectionId": "L0SM9cOFvHcCIhw=", "target": "frame",
                                 "route": "join", "delay": 1}'
    curl $F              # the rules, and the calls each connection they name received
    curl -X DELETE $F    # back to normal
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from roomchat_tools.local.dynamoproxy import DynamoDBProxy

log = logging.getLogger("devstack.gateway")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
FAULT_TARGETS = ("POST", "GET", "DELETE", "$disconnect", "frame")


@dataclass
class Fault:
    """One rule: the next ``times`` calls of ``target`` for ``connection_id`` are faulty.

    For a management API call (``target`` POST, GET or DELETE) the gateway first waits
    ``delay_s``, then answers ``status`` with AWS's error shape instead of doing the call (with no
    status: does the call after the wait, e.g. to hold a post while a fan-out goes on). For
    ``$disconnect``, the gateway does not invoke the route when that connection closes: the
    best-effort event API Gateway may miss. For ``frame`` (with ``route``, a route key), the
    gateway holds the connection's next frames for that route ``delay_s`` before invoking it, as
    if API Gateway ran them late: a client that closes meanwhile gets its ``$disconnect`` first.
    """

    connection_id: str
    target: str = "POST"
    status: int | None = None
    times: int = 1
    delay_s: float = 0.0
    injected: int = 0
    route: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "connectionId": self.connection_id,
            "target": self.target,
            "status": self.status,
            "times": self.times,
            "delay": self.delay_s,
            "injected": self.injected,
        }
        if self.route is not None:
            data["route"] = self.route
        return data

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """A rule from ``{"connectionId", "target"?, "status"?, "times"?, "delay"?, "route"?}``."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {"connectionId", "target", "status", "times", "delay", "route"}
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
        route = data.get("route")
        if target == "frame":
            if not isinstance(route, str) or not route or route in ("$connect", "$disconnect"):
                raise ValueError("a frame fault needs a 'route': a message route key")
            if status is not None or not delay:
                raise ValueError("a frame fault takes a 'delay' and no 'status'")
        elif route is not None:
            raise ValueError("only a frame fault takes a 'route'")
        if status is None and not delay and target != "$disconnect":
            raise ValueError("give a 'status', a 'delay' or both")
        return cls(connection_id, target, status, times, float(delay), route=route)


class FaultPlan:
    """The fault rules of one gateway, and how many calls each watched connection received.

    Only connections named by a rule are counted, so a test can read the attempts a client made
    (e.g. botocore's retries of a 429) from ``calls`` (frames as ``frame:<route key>``). Rules
    stay listed, exhausted or not, until ``clear()``. Runs on the gateway's event loop only: no
    locking.
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

    def take(self, connection_id: str, target: str, route: str | None = None) -> Fault | None:
        """Count one call; the first rule for it with injections left, which is used up by one."""
        if not self.faults:  # the normal path: no rules, nothing to do
            return None
        chosen: Fault | None = None
        watched = False
        for fault in self.faults:
            if (
                fault.connection_id == connection_id
                and fault.target == target
                and fault.route == route
            ):
                watched = True
                if chosen is None and fault.injected < fault.times:
                    chosen = fault
        if watched:
            self.calls[(connection_id, target if route is None else f"{target}:{route}")] += 1
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


def faults_admin(plan: FaultPlan) -> Handler:
    """The ``/_devstack/faults`` handler of a plan."""

    async def handle(request: web.Request) -> web.StreamResponse:
        """``GET``: the rules and the calls counted; ``POST``: add one rule or a list of rules
        (``Fault.from_json``); ``DELETE``: remove every rule and count."""
        if request.method == "GET":
            return web.json_response(plan.snapshot())
        if request.method == "DELETE":
            plan.clear()
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
            plan.add(fault)
        return web.json_response({"faults": [f.to_json() for f in faults]}, status=201)

    return handle


def dynamodb_admin(proxy: DynamoDBProxy) -> Handler:
    """The ``/_devstack/dynamodb`` handler of the functions' DynamoDB proxy."""

    async def handle(request: web.Request) -> web.StreamResponse:
        """``GET``: the proxy's lag, calls and injected faults. ``POST {"lagMs": N}``: their
        eventually consistent and GSI reads see writes N ms late from now on (0: at once).
        ``POST {"fail": "<Operation>", "times": N, "code"?: ..., "status"?: ...}``: the next N
        calls of that operation get that DynamoDB error (default
        ProvisionedThroughputExceededException, 400). ``DELETE``: no lag, no faults, no counts."""
        if request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict) or not ({"lagMs", "fail"} & set(body)):
                    raise ValueError('give {"lagMs": <ms>} or {"fail": <operation>, "times": N}')
                if "fail" in body:
                    proxy.fail(*_dynamodb_fault(body))
                if "lagMs" in body:
                    lag = body["lagMs"]
                    if isinstance(lag, bool) or not isinstance(lag, int | float):
                        raise ValueError("'lagMs' must be a number of milliseconds")
                    # Copying the tables to the replica blocks: not on the event loop.
                    await asyncio.to_thread(proxy.set_lag, float(lag))
            except ValueError as exc:
                return web.json_response({"message": str(exc)}, status=400)
        elif request.method == "DELETE":
            await asyncio.to_thread(proxy.set_lag, 0)
            proxy.reset()
        elif request.method != "GET":
            return web.json_response({"message": "use GET, POST or DELETE"}, status=405)
        with proxy.lock:
            calls, injected = dict(proxy.calls), dict(proxy.injected)
        return web.json_response(
            {"lagMs": proxy.lag_ms, "proxy": proxy.url, "calls": calls, "injected": injected}
        )

    return handle


def _dynamodb_fault(body: dict[str, Any]) -> tuple[str, int, tuple[str, int]]:
    """(operation, times, (error code, HTTP status)) from a ``{"fail": ...}`` request."""
    operation, times = body.get("fail"), body.get("times", 1)
    if not isinstance(operation, str) or not operation.isalpha():
        raise ValueError("'fail' must be a DynamoDB operation name, e.g. PutItem")
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1000:
        raise ValueError("'times' must be a whole number from 1 to 1000")
    code = body.get("code", "ProvisionedThroughputExceededException")
    status = body.get("status", 500 if code == "InternalServerError" else 400)
    if not isinstance(code, str) or not code.isalnum():
        raise ValueError("'code' must be a DynamoDB error code")
    if isinstance(status, bool) or status not in (400, 500, 503):
        raise ValueError("'status' must be 400, 500 or 503")
    return operation, times, (code, status)
