"""A Web Push service stand-in on loopback (the local stack's, and the tests'): what a browser's
push service does with a push, as strictly as the RFCs say, so the `notify` function's pushes
are checked end to end without the internet.

- ``POST /subscribe`` {"applicationServerKey": <base64url P-256 point>}: a new subscription,
  answered 201 with its ``endpoint`` (what PushManager.subscribe gets from the push service).
  The key is remembered: a push signed with another VAPID key is refused (RFC 8292, 4.2: 403).
- ``POST /push/<id>`` (RFC 8030, 5): needs ``TTL`` (400 without), ``Content-Encoding:
  aes128gcm`` with a body of at most 4096 bytes (RFC 8291, 4: 413 above) whose header is a
  valid aes128gcm header (RFC 8188, 2.1: salt, rs, idlen 65 for the sender's key), and
  ``Authorization: vapid t=<JWT>, k=<key>`` (RFC 8292, 3): an ES256 JWT verified with ``k``,
  ``aud`` the endpoint's origin, ``exp`` in the future and at most 24 h ahead, ``sub`` a
  mailto: or https: URL (401 otherwise). Accepted: 201 Created with a Location (RFC 8030,
  5). An unknown subscription answers 404, one marked gone 410 (RFC 8030, 7.3).
- ``GET /_received/<id>``: the encrypted bodies received (base64url) with their headers, for
  the tests to decrypt with the subscription's private key, as the browser would;
  ``POST /_gone/<id>``: mark a subscription gone (an unsubscribed browser).
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_BODY = 4096
MAX_EXP_AHEAD_S = 24 * 3600


def b64u_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64u(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


@dataclass
class Subscription:
    server_key: str | None
    gone: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)


class VapidError(ValueError):
    pass


def _header_params(value: str) -> dict[str, str]:
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError("Authorization must use the vapid scheme (RFC 8292, 3)")
    params = {}
    for part in rest.split(","):
        key, _, val = part.strip().partition("=")
        params[key.strip()] = val.strip()
    if "t" not in params or "k" not in params:
        raise VapidError("vapid needs t= and k=")
    return params


def check_vapid(authorization: str, origin: str, now: float) -> str:
    """Verify a VAPID Authorization header for a push to ``origin``; its key ``k``."""
    params = _header_params(authorization)
    try:
        header_b64, claims_b64, sig_b64 = params["t"].split(".")
        header = json.loads(b64u_decode(header_b64))
        claims = json.loads(b64u_decode(claims_b64))
        sig = b64u_decode(sig_b64)
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64u_decode(params["k"]))
    except (ValueError, TypeError) as e:
        raise VapidError(f"malformed VAPID token: {e}") from None
    if header.get("alg") != "ES256" or len(sig) != 64:
        raise VapidError("the VAPID JWT must be ES256 (RFC 8292, 2)")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("the VAPID JWT's signature does not verify with k") from None
    if claims.get("aud") != origin:
        raise VapidError(f"aud must be the push resource's origin {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + MAX_EXP_AHEAD_S:
        raise VapidError("exp must be in the future and at most 24 hours ahead (RFC 8292, 2)")
    sub = claims.get("sub")
    if sub is not None and not str(sub).startswith(("mailto:", "https:")):
        raise VapidError("sub must be a mailto: or https: URI")
    return params["k"]


def check_aes128gcm(body: bytes) -> None:
    """The aes128gcm coding's header (RFC 8188, 2.1) as Web Push uses it (RFC 8291, 4):
    16-byte salt, record size, idlen 65 and the sender's uncompressed P-256 key."""
    if len(body) < 21 + 65 + 17:
        raise ValueError("body too short for an aes128gcm record")
    rs, idlen = struct.unpack("!IB", body[16:21])
    if idlen != 65 or body[21] != 0x04 or rs < 18:
        raise ValueError("aes128gcm header: keyid must be the sender's 65-byte P-256 key")


class WebPushStandIn:
    """The service, on a thread of its own (``start``/``stop``); ``base_url`` once started."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.subscriptions: dict[str, Subscription] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ routes

    async def _subscribe(self, request: web.Request) -> web.Response:
        data = await request.json() if request.can_read_body else {}
        key = data.get("applicationServerKey")
        sub_id = uuid.uuid4().hex
        with self._lock:
            self.subscriptions[sub_id] = Subscription(key)
        return web.json_response({"endpoint": f"{self.base_url}/push/{sub_id}"}, status=201)

    async def _push(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["id"])
        if sub is None:
            return web.Response(status=404, text="no such subscription")
        if sub.gone:
            return web.Response(status=410, text="subscription expired or unsubscribed")
        if "TTL" not in request.headers:
            return web.Response(status=400, text="TTL header is required (RFC 8030, 5.2)")
        try:
            k = check_vapid(request.headers.get("Authorization", ""), self.base_url, time.time())
        except VapidError as e:
            return web.Response(status=401, text=str(e))
        if sub.server_key and b64u_decode(k) != b64u_decode(sub.server_key):
            return web.Response(status=403, text="VAPID key differs from applicationServerKey")
        body = await request.read()
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return web.Response(status=415, text="Content-Encoding must be aes128gcm")
        if len(body) > MAX_BODY:
            return web.Response(status=413, text="payload larger than 4096 bytes")
        try:
            check_aes128gcm(body)
        except ValueError as e:
            return web.Response(status=400, text=str(e))
        message_id = uuid.uuid4().hex
        with self._lock:
            sub.received.append(
                {
                    "id": message_id,
                    "body": b64u(body),
                    "ttl": request.headers["TTL"],
                    "urgency": request.headers.get("Urgency"),
                }
            )
        return web.Response(status=201, headers={"Location": f"{self.base_url}/m/{message_id}"})

    async def _received(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["id"])
        if sub is None:
            return web.Response(status=404)
        return web.json_response({"messages": list(sub.received), "gone": sub.gone})

    async def _gone(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["id"])
        if sub is None:
            return web.Response(status=404)
        sub.gone = True
        return web.Response(status=204)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/subscribe", self._subscribe)
        app.router.add_post("/push/{id}", self._push)
        app.router.add_get("/_received/{id}", self._received)
        app.router.add_post("/_gone/{id}", self._gone)
        return app

    # ------------------------------------------------------------------ lifecycle

    async def start_async(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop_async(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def start(self) -> WebPushStandIn:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start_async())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop_async())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="webpush-standin", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Web Push stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


class BrowserSubscription:
    """What a browser keeps for one push subscription (tests): its P-256 key pair and auth
    secret, and the endpoint the stand-in gave it; ``decrypt`` opens a push as the browser
    does (RFC 8291 with http_ece)."""

    def __init__(self, endpoint: str):
        import os

        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def to_json(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        point = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64u(point), "auth": b64u(self.auth)}}

    def decrypt(self, body_b64: str) -> dict[str, Any]:
        import http_ece  # type: ignore[import-untyped]

        plain = http_ece.decrypt(
            b64u_decode(body_b64),
            private_key=self.private_key,
            auth_secret=self.auth,
            version="aes128gcm",
        )
        result: dict[str, Any] = json.loads(plain)
        return result
