"""The lean @connections sender: each PostToConnection is one SigV4-signed HTTP request on a
kept-alive connection, at about a third of the CPU of a post through the botocore client.

The same contract as ``ManagementApiSender`` (the port's ``send_many``: every member posted once,
a failure for one never stops the rest, the process-wide pool bounds the threads):

- **Request**: ``POST {endpoint}/@connections/{connectionId}`` with the frame as the body, signed
  with botocore's own ``SigV4Auth`` for the service ``execute-api`` and the credentials of the
  botocore session (frozen per post, so refreshed credentials are picked up). The IAM action is
  the one the client's post needs, ``execute-api:ManageConnections`` on
  ``{api}/{stage}/POST/@connections/*`` ("Use @connections commands in your backend service":
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html).
  The connection id is percent-encoded the way botocore encodes a URI label.
- **Connections**: one ``http.client`` connection per worker thread and endpoint, kept alive
  between posts and invocations (TLS with botocore's CA bundle for https, plain http for the
  local gateway). When the server has closed an idle kept-alive connection, the post is sent
  again at once on a new one (not counted as an attempt, as urllib3 does for stale pooled
  connections).
- **Dispatch**: one task per pool thread (at most ``workers``), each taking the next id until
  none is left, instead of one future per id: a post costs a few hundred microseconds here, so a
  future and a wake-up per post would be a noticeable share of it. Each task runs in a copy of
  the caller's context, so the invocation's log fields reach the pool's threads.
- **Retries**, as the SDKs' standard mode ("Retry behavior",
  https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): at most 3
  attempts; 429 and 5xx answers, connection errors and timeouts are retried after a truncated
  exponential backoff with full jitter, ``random() * min(scale * 2 ** i, 20 s)`` with a scale of
  1 s for throttling (429) and 50 ms otherwise, as botocore computes it. 410 is ``GONE`` at once;
  any other answer (400, 403, ...) is ``FAILED`` without a retry. The standard mode's
  client-wide retry quota is not modelled: a fan-out's retries are bounded per post.

Why not the botocore client: for this one operation its per-request machinery (parameter
serialisation, endpoint rules, event hooks, response parsing, urllib3) costs about twice the CPU
of the signature and the HTTP exchange themselves, and a fan-out on Lambda is CPU-bound on
exactly that (bench: the "poster CPU" phase of ``python -m roomchat_tools.bench``).
"""

from __future__ import annotations

import contextvars
import http.client
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError

from .. import logs
from ..ports import Deadline, Delivery

MAX_ATTEMPTS = 3
THROTTLING_SCALE_S = 1.0
TRANSIENT_SCALE_S = 0.05
MAX_BACKOFF_S = 20.0
# A kept-alive connection the server closed while it was idle fails like this on its next use.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.BadStatusLine)


class _OneWrite:
    """Headers and a bytes body in one write: two small writes cost a second system call and a
    second TCP segment per post (CPython's http.client did this itself up to 3.5)."""

    _buffer: list[bytes]

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", b""))
            message = b"\r\n".join(self._buffer) + message_body
            del self._buffer[:]
            self.send(message)  # type: ignore[attr-defined]
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _HTTPConnection(_OneWrite, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_OneWrite, http.client.HTTPSConnection):
    pass


def backoff_s(attempt: int, throttled: bool, rand: Callable[[], float] = random.random) -> float:
    """The wait before retry number ``attempt`` (1 for the first retry), as botocore's standard
    mode computes it: full jitter over a doubling delay, capped at 20 s."""
    scale = THROTTLING_SCALE_S if throttled else TRANSIENT_SCALE_S
    return rand() * min(scale * 2.0 ** (attempt - 1), MAX_BACKOFF_S)


class SignedHttpSender:
    """Posts frames to one @connections endpoint through signed, kept-alive HTTP requests."""

    def __init__(
        self,
        endpoint: str,
        credentials: Callable[[], Any],
        region: str,
        executor: Callable[[], Any],
        *,
        workers: int = 32,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 3.0,
        max_attempts: int = MAX_ATTEMPTS,
        ca_bundle: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ):
        self._executor = executor
        self._workers = workers
        parts = urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the @connections endpoint must be an http(s) URL, got {endpoint!r}")
        self._tls = parts.scheme == "https"
        self._hostname = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        # As SigV4Auth and http.client both write it: the port only when it is not the default.
        self._host = parts.netloc
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._base_path = parts.path
        self._credentials_source = credentials
        self._credentials: Any = None
        self._region = region
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._rand = rand
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ca_bundle = ca_bundle
        self._ssl_context: Any = None

        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.utils import percent_encode

        self._auth_cls, self._request_cls, self._quote = SigV4Auth, AWSRequest, percent_encode

    @property
    def read_timeout_s(self) -> float:
        """How long a post's answer is waited for before the attempt counts as failed."""
        return self._read_timeout_s

    def send_many(
        self, connection_ids: Iterable[str], data: bytes, deadline: Deadline | None = None
    ) -> Mapping[str, Delivery]:
        """Post ``data`` to every id; with a ``deadline``, no post starts once fewer than its
        start margin remain, and no post is waited for past its wait margin: those are
        ``TIMED_OUT`` (not confirmed), so the caller can log its counts and return in time."""
        ids = list(connection_ids)

        def too_late() -> bool:
            return deadline is not None and deadline.remaining_ms() < deadline.start_margin_ms

        if len(ids) <= 1:
            return {cid: Delivery.TIMED_OUT if too_late() else self._post(cid, data) for cid in ids}
        outcomes: dict[str, Delivery] = {}
        pending = iter(ids)
        lock = threading.Lock()

        def drain() -> None:
            while True:
                with lock:
                    cid = next(pending, None)
                if cid is None or too_late():
                    return
                outcomes[cid] = self._post(cid, data)

        pool = self._executor()
        tasks = [
            pool.submit(contextvars.copy_context().run, drain)
            for _ in range(min(self._workers, len(ids)))
        ]
        for task in tasks:
            timeout = None
            if deadline is not None:
                timeout = max(0.0, (deadline.remaining_ms() - deadline.wait_margin_ms) / 1000)
            try:
                task.result(timeout=timeout)
            except FutureTimeout:
                break  # posts still under way are not confirmed; the workers stop soon after
        done = dict(outcomes)  # a snapshot: late workers may still write to ``outcomes``
        return {cid: done.get(cid, Delivery.TIMED_OUT) for cid in ids}

    # ----- one post, with its retries ----------------------------------------------------------
    def _post(self, connection_id: str, data: bytes) -> Delivery:
        path = f"{self._base_path}/@connections/{self._quote(connection_id)}"
        error, throttled = "", False
        attempt = 0
        while attempt < self._max_attempts:
            if attempt:
                self._sleep(backoff_s(attempt, throttled, self._rand))
            attempt += 1
            try:
                status, error_type = self._exchange(path, data)
            except (OSError, http.client.HTTPException) as e:  # timeouts are OSErrors too
                error, throttled = type(e).__name__, False
                continue
            except BotoCoreError as e:  # e.g. no credentials: no attempt can succeed
                error = type(e).__name__
                break
            if 200 <= status < 300:
                return Delivery.DELIVERED
            if status == 410:
                return Delivery.GONE
            error, throttled = error_type or f"HTTP {status}", status == 429
            if status != 429 and status < 500:
                break
        logs.warning("post_failed", target=connection_id, error=error, attempts=attempt)
        return Delivery.FAILED

    def disconnect(self, connection_id: str) -> Delivery:
        """Close one connection: the signed DELETE of @connections/<id> (API Gateway then runs
        $disconnect); GONE when it was closed already (410). One attempt: a moderator may ask
        again.
        https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
        """
        path = f"{self._base_path}/@connections/{self._quote(connection_id)}"
        try:
            status, error = self._exchange(path, b"", "DELETE")
        except (OSError, http.client.HTTPException, BotoCoreError) as e:
            logs.warning("disconnect_failed", target=connection_id, error=type(e).__name__)
            return Delivery.FAILED
        if 200 <= status < 300:
            return Delivery.DELIVERED
        if status == 410:
            return Delivery.GONE
        logs.warning("disconnect_failed", target=connection_id, error=error or f"HTTP {status}")
        return Delivery.FAILED

    # ----- one HTTP exchange on this thread's connection ---------------------------------------
    def _exchange(self, path: str, data: bytes, method: str = "POST") -> tuple[int, str]:
        conn = getattr(self._local, "conn", None)
        reused = conn is not None
        if conn is None:
            conn = self._local.conn = self._open()
        headers = self._signed_headers(path, data, method)
        try:
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
            except _STALE:
                if not reused:
                    raise
                conn.close()
                conn = self._local.conn = self._open()
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
            response.read()  # the whole answer, so the connection can carry the next post
        except BaseException:
            conn.close()
            self._local.conn = None
            raise
        if response.will_close:
            conn.close()
            self._local.conn = None
        return response.status, response.getheader("x-amzn-ErrorType", "") or ""

    def _open(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._tls:
            conn = _HTTPSConnection(
                self._hostname,
                self._port,
                timeout=self._connect_timeout_s,
                context=self._tls_context(),
            )
        else:
            conn = _HTTPConnection(self._hostname, self._port, timeout=self._connect_timeout_s)
        conn.connect()
        assert conn.sock is not None
        # Without it, Nagle's algorithm and the peer's delayed ACK can hold a post for ~40 ms
        # (urllib3, under botocore, sets it too).
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sock.settimeout(self._read_timeout_s)
        return conn

    def _tls_context(self) -> Any:
        if self._ssl_context is None:
            import ssl

            from botocore.httpsession import get_cert_path

            with self._lock:
                if self._ssl_context is None:
                    # By default the CA bundle botocore's own client verifies with.
                    cafile = self._ca_bundle or get_cert_path(True)
                    self._ssl_context = ssl.create_default_context(cafile=cafile)
        return self._ssl_context

    def _signed_headers(self, path: str, data: bytes, method: str = "POST") -> dict[str, str]:
        request = self._request_cls(
            method=method, url=self._origin + path, data=data, headers={"Host": self._host}
        )
        credentials = self._frozen_credentials()
        self._auth_cls(credentials, "execute-api", self._region).add_auth(request)
        return dict(request.headers.items())

    def _frozen_credentials(self) -> Any:
        if self._credentials is None:
            with self._lock:
                if self._credentials is None:
                    credentials = self._credentials_source()
                    if credentials is None:
                        from botocore.exceptions import NoCredentialsError

                        raise NoCredentialsError()
                    self._credentials = credentials
        return self._credentials.get_frozen_credentials()
