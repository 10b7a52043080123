"""The Lambda Invoke API of the local stack: ``POST /2015-03-31/functions/<name>/invocations``.

moto's own Invoke runs functions in Docker; the local stack already runs the deployed code in
its workers, so functions that call the Lambda API (the message review hook) are pointed here
with ``AWS_ENDPOINT_URL_LAMBDA`` and reach the same workers, through the same boto code path as on
AWS. What it answers follows https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html:
- ``RequestResponse`` (the default): 200 with the function's result as the body; a function
  error is still 200, with ``X-Amz-Function-Error: Unhandled`` and the error object as the body;
- ``Event``: 202 at once, the function runs in the background; ``DryRun``: 204;
- an unknown function: 404 ``ResourceNotFoundException``; a payload that is not JSON: 400
  ``InvalidRequestContentException``; more than 6 MB: 413 ``RequestTooLargeException``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from roomchat_tools.local.runtime import FunctionPool

log = logging.getLogger("devstack.invoke")

INVOKE_PATH = "/2015-03-31/functions/{function}/invocations"
# Lambda's synchronous invocation payload quota.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


def function_name(reference: str) -> str:
    """The function's name from a name, a full ARN or a partial ARN (qualifier dropped)."""
    if ":function:" in reference:
        reference = reference.split(":function:", 1)[1]
    return reference.split(":", 1)[0]


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"Type": "User", "message": message}).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


class InvokeApi:
    """Serves Invoke from the gateway's function pools (looked up on every call, as the gateway
    creates them when it starts)."""

    def __init__(self, pools: Callable[[], Mapping[str, FunctionPool]]) -> None:
        self._pools = pools
        self._background: set[asyncio.Task[Any]] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(INVOKE_PATH, self.invoke)

    async def invoke(self, request: web.Request) -> web.Response:
        name = function_name(request.match_info["function"])
        pool = self._pools().get(name)
        if pool is None:
            return _error(
                404,
                "ResourceNotFoundException",
                f"Function not found: {request.match_info['function']}",
            )
        data = await request.read()
        if len(data) > MAX_PAYLOAD_BYTES:
            return _error(413, "RequestTooLargeException", "Request must be smaller than 6 MB")
        try:
            event = json.loads(data) if data else {}
        except ValueError:
            return _error(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            return web.Response(status=204)
        if kind == "Event":
            task = asyncio.get_running_loop().create_task(pool.invoke(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return web.Response(status=202)
        if kind != "RequestResponse":
            return _error(
                400, "InvalidParameterValueException", f"bad X-Amz-Invocation-Type {kind!r}"
            )
        result = await pool.invoke(event)
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if not result.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
            body = json.dumps(result.error or {})
        else:
            body = json.dumps(result.result)
        return web.Response(
            status=200, body=body.encode(), content_type="application/json", headers=headers
        )
