"""Only this machine's own pages may drive the local gateway from a browser.

While `make run` is up, any web page the developer visits can reach ``127.0.0.1:<port>``: a
WebSocket handshake is not subject to CORS, and a "simple" cross-site POST (``text/plain``, no
custom header) is sent without a preflight. So without this guard a page on any site could chat
on the local stack, add fault rules at ``/_devstack/faults``, or invoke functions through the
local Lambda Invoke API. A DNS-rebinding page (``evil.example`` resolving to 127.0.0.1) even
reads the answers, since its requests are same-origin to the browser.

The guard, an aiohttp middleware of the whole gateway:
- refuses (403) a request whose ``Host`` is not a name of the gateway: a loopback name or
  ROOMCHAT_HOST with the gateway's port (rebinding). With ROOMCHAT_HOST a wildcard address
  (``0.0.0.0``/``::``, the developer chose to listen on every interface) any host is accepted;
- refuses (403) a request that carries an ``Origin`` (browsers send it on every WebSocket
  handshake and cross-site POST) naming anything but a page of this machine: a loopback name
  or ROOMCHAT_HOST, any port (the gateway's own page, or web/ served by hand on another port).
  Clients that are not browsers send no ``Origin`` and pass;
- answers 415 to a ``POST`` to ``/_devstack/*`` that is not ``application/json``: a cross-site
  page cannot send that type without a preflight, which the gateway never grants.

API Gateway itself does not check ``Origin`` (a deployed API is meant to be reached from
anywhere); this is about the developer's machine, not about emulating AWS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _split_host(value: str) -> tuple[str, int | None]:
    """(host, port) of a Host header or an origin's netloc; ('', None) when unreadable."""
    try:
        parts = urlsplit(f"//{value}")
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


class OriginGuard:
    def __init__(self, bind_host: str, port: Callable[[], int | None]) -> None:
        self.bind_host = bind_host.lower()
        self.port = port

    def host_ok(self, host_header: str) -> bool:
        if self.bind_host in WILDCARD_HOSTS:
            return True
        host, port = _split_host(host_header)
        return host in (LOOPBACK_NAMES | {self.bind_host}) and port == self.port()

    def origin_ok(self, origin: str, host_header: str) -> bool:
        """A page of this machine: the gateway's own, or one served from another local port
        (`python -m http.server -d web`, the tests' stand-in for CloudFront)."""
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https"):
            return False
        if self.bind_host in WILDCARD_HOSTS:  # the page came from whatever host was asked
            return parts.netloc.lower() == host_header.lower()
        host, _ = _split_host(parts.netloc)
        return host in LOOPBACK_NAMES | {self.bind_host}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if not self.host_ok(host):
            return _refuse(f"the local gateway does not answer to host {host[:100]!r}")
        origin = request.headers.get("Origin")
        if origin is not None and not self.origin_ok(origin, host):
            return _refuse(f"requests from {origin[:100]!r} are not accepted by the local stack")
        if (
            request.method == "POST"
            and request.path.startswith("/_devstack/")
            and request.content_type != "application/json"
        ):
            return web.json_response({"message": "send application/json"}, status=415)
        return await handler(request)


def _refuse(message: str) -> web.Response:
    return web.json_response({"message": message}, status=403)
