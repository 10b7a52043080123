"""The lean @connections sender (roomchat.adapters.poster) against a real loopback HTTP endpoint:
the same contract as the botocore client's sender (429/5xx retried, 3 attempts in all; 410 gone at
once; other answers failed; nothing stops the rest), kept-alive connections that survive a
dropped one, read timeouts, TLS, and a SigV4 signature that botocore's own signer recomputes."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from roomchat.adapters.connections import SharedExecutor
from roomchat.adapters.poster import SignedHttpSender, backoff_s
from roomchat.ports import Delivery

REGION = "eu-west-1"
CREDENTIALS = Credentials(
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int  # which TCP connection carried it (0, 1, ...)
    method: str = "POST"


@dataclass
class Endpoint:
    """A loopback @connections endpoint (HTTP/1.1, keep-alive) answering from per-id scripts.

    A script step is a status code, ``"drop"`` (close the connection without answering) or
    ``("slow", seconds)`` (answer 200 that much later)."""

    url: str = ""
    scripts: dict[str, list] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    sockets: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hits(self, cid: str) -> int:
        return sum(1 for r in self.received if r.path.endswith("/" + cid))

    def drop_idle_connections(self) -> None:
        """Close every connection from the server's side, as a server does with idle ones."""
        import socket

        for sock in list(self.sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _handler(endpoint: Endpoint):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway

        def setup(self):
            super().setup()
            with endpoint.lock:
                self.number = endpoint.connections
                endpoint.connections += 1
                endpoint.sockets.append(self.connection)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            cid = self.path.rsplit("/", 1)[-1]
            with endpoint.lock:
                endpoint.received.append(
                    Received(self.path, dict(self.headers), body, self.number, self.command)
                )
                endpoint.in_flight += 1
                endpoint.max_in_flight = max(endpoint.max_in_flight, endpoint.in_flight)
                script = endpoint.scripts.get(cid) or []
                step = script.pop(0) if script else 200
            try:
                if step == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                error = {410: "GoneException", 429: "LimitExceededException"}.get(
                    step, "InternalServerError" if step >= 500 else "ForbiddenException"
                )
                payload = b"" if step == 200 else json.dumps({"message": error}).encode()
                self.send_response(step)
                if step != 200:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                self.close_connection = True  # the client gave up (read timeout)
            finally:
                with endpoint.lock:
                    endpoint.in_flight -= 1

        do_DELETE = do_POST  # the @connections DELETE (close a connection)

        def log_message(self, *args):
            pass

    return Handler


def _serve(endpoint: Endpoint, tls: ssl.SSLContext | None = None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    endpoint.url = f"{scheme}://127.0.0.1:{server.server_port}/live"
    return server


@pytest.fixture
def endpoint():
    ep = Endpoint()
    server = _serve(ep)
    yield ep
    server.shutdown()
    server.server_close()


def sender_for(url: str, workers: int = 4, **options) -> tuple[SignedHttpSender, list[float]]:
    waits: list[float] = []
    options.setdefault("sleep", waits.append)
    sender = SignedHttpSender(
        url, lambda: CREDENTIALS, REGION, SharedExecutor(workers), workers=workers, **options
    )
    return sender, waits


def test_429_then_500_then_200_is_delivered_on_the_third_attempt_after_backoff(endpoint):
    endpoint.scripts["flaky"] = [429, 500]
    sender, waits = sender_for(endpoint.url, rand=lambda: 1.0)

    assert sender.send_many(["flaky"], b"x") == {"flaky": Delivery.DELIVERED}

    assert endpoint.hits("flaky") == 3
    # botocore's standard mode: 1 s scale after a throttle, 50 ms after a 5xx, doubling.
    assert waits == [1.0, 0.1]


def test_410_is_gone_after_one_attempt(endpoint):
    endpoint.scripts["gone"] = [410]
    sender, waits = sender_for(endpoint.url)

    assert sender.send_many(["gone"], b"x") == {"gone": Delivery.GONE}
    assert endpoint.hits("gone") == 1 and waits == []


@pytest.mark.parametrize("status", [400, 403])
def test_client_errors_fail_without_a_retry(endpoint, status):
    endpoint.scripts["bad"] = [status]
    sender, waits = sender_for(endpoint.url)

    assert sender.send_many(["bad"], b"x") == {"bad": Delivery.FAILED}
    assert endpoint.hits("bad") == 1 and waits == []


def test_persistent_5xx_fails_after_three_attempts(endpoint):
    endpoint.scripts["down"] = [500, 503, 502, 500]
    sender, waits = sender_for(endpoint.url)

    assert sender.send_many(["down"], b"x") == {"down": Delivery.FAILED}
    assert endpoint.hits("down") == 3 and len(waits) == 2


def test_a_dropped_keep_alive_connection_is_replaced_without_losing_the_post(endpoint):
    sender, waits = sender_for(endpoint.url)
    assert sender.send_many(["a"], b"x") == {"a": Delivery.DELIVERED}
    assert sender.send_many(["b"], b"x") == {"b": Delivery.DELIVERED}
    assert endpoint.connections == 1  # kept alive between posts

    # when: the server closes the idle connection
    endpoint.drop_idle_connections()
    time.sleep(0.05)
    outcome = sender.send_many(["c"], b"x")

    # then: a new connection carries the post, at once and once
    assert outcome == {"c": Delivery.DELIVERED}
    assert endpoint.hits("c") == 1 and waits == []
    assert endpoint.connections == 2


def test_a_connection_closed_without_an_answer_is_retried(endpoint):
    endpoint.scripts["cut"] = ["drop"]
    sender, waits = sender_for(endpoint.url)

    assert sender.send_many(["cut"], b"x") == {"cut": Delivery.DELIVERED}
    assert endpoint.hits("cut") == 2 and len(waits) == 1


def test_a_slow_answer_times_out_and_is_retried(endpoint):
    endpoint.scripts["slow"] = [("slow", 1.0)]
    sender, waits = sender_for(endpoint.url, read_timeout_s=0.2)

    assert sender.send_many(["slow"], b"x") == {"slow": Delivery.DELIVERED}
    assert endpoint.hits("slow") == 2 and len(waits) == 1


def test_an_endpoint_that_never_answers_in_time_fails_after_three_attempts(endpoint):
    endpoint.scripts["stuck"] = [("slow", 0.6)] * 3
    sender, _ = sender_for(endpoint.url, read_timeout_s=0.15)

    assert sender.send_many(["stuck"], b"x") == {"stuck": Delivery.FAILED}
    assert endpoint.hits("stuck") == 3


def test_failures_never_stop_the_rest_and_the_pool_is_bounded(endpoint):
    ids = [f"c{i}" for i in range(200)]
    endpoint.scripts.update({"c7": [410], "c150": [410], "c42": [403], "c99": [500]})
    sender, _ = sender_for(endpoint.url, workers=8)

    outcomes = sender.send_many(ids, b"frame")

    assert [c for c, o in outcomes.items() if o is Delivery.GONE] == ["c7", "c150"]
    assert [c for c, o in outcomes.items() if o is Delivery.FAILED] == ["c42"]
    assert all(
        o is Delivery.DELIVERED for c, o in outcomes.items() if c not in ("c7", "c150", "c42")
    )
    assert endpoint.hits("c99") == 2  # 500, then delivered
    assert endpoint.max_in_flight <= 8
    assert endpoint.connections <= 8  # one kept-alive connection per worker thread


def test_each_id_is_posted_once_and_the_log_context_reaches_the_pool_threads(endpoint, capsys):
    from roomchat import logs

    ids = [f"m{i}" for i in range(50)]
    endpoint.scripts["m13"] = [403]
    sender, _ = sender_for(endpoint.url, workers=4)
    logs.bind(requestId="req-42", roomId="lobby")

    outcomes = sender.send_many(ids, b"x")

    assert list(outcomes) == ids  # in the order given
    assert sorted(r.path.rsplit("/", 1)[1] for r in endpoint.received) == sorted(ids)
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "post_failed" in x]
    assert (line["target"], line["error"], line["requestId"]) == (
        "m13",
        "ForbiddenException",
        "req-42",
    )


def _verify_sigv4(received: Received, credentials: Credentials, region: str) -> bool:
    """Recompute the signature of a received request with botocore's signer."""
    headers = {k.lower(): v for k, v in received.headers.items()}
    scheme, signed = headers["authorization"].split(" ", 1)
    fields = dict(part.strip().split("=", 1) for part in signed.split(","))
    request = AWSRequest(
        method="POST",
        url=f"http://{headers['host']}{received.path}",
        data=received.body,
        headers={name: headers[name] for name in fields["SignedHeaders"].split(";")},
    )
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(credentials, "execute-api", region)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    scope = f"{credentials.access_key}/{auth.credential_scope(request)}"
    return (
        scheme == "AWS4-HMAC-SHA256"
        and fields["Credential"] == scope
        and fields["Signature"] == signature
    )


def test_the_signature_is_valid_sigv4_for_execute_api(endpoint):
    sender, _ = sender_for(endpoint.url)
    cid = "L0SM9cOFvHcCIhw="  # API Gateway's ids end with "="

    assert sender.send_many([cid], b'{"type":"message"}') == {cid: Delivery.DELIVERED}

    (received,) = endpoint.received
    assert received.body == b'{"type":"message"}'
    assert received.headers["X-Amz-Security-Token"] == "session-token"
    assert _verify_sigv4(received, CREDENTIALS, REGION)
    # The check can fail: another secret, region or body does not verify.
    other = Credentials(CREDENTIALS.access_key, "another-secret", CREDENTIALS.token)
    assert not _verify_sigv4(received, other, REGION)
    assert not _verify_sigv4(received, CREDENTIALS, "us-east-1")
    tampered = Received(received.path, received.headers, b"{}", received.connection)
    assert not _verify_sigv4(tampered, CREDENTIALS, REGION)


def test_the_request_is_the_one_the_botocore_client_sends(endpoint):
    """Same method, path encoding and signed headers as PostToConnection through botocore: the
    same IAM action (execute-api:ManageConnections on POST/@connections/*) and the same
    canonical request."""
    cid = "a/b=c+d"
    client = botocore.session.get_session().create_client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint.url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        aws_session_token=CREDENTIALS.token,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    client.post_to_connection(ConnectionId=cid, Data=b"x")
    sender, _ = sender_for(endpoint.url)
    sender.send_many([cid], b"x")

    by_botocore, lean = endpoint.received
    assert lean.path == by_botocore.path == "/live/@connections/a%2Fb%3Dc%2Bd"
    assert _verify_sigv4(by_botocore, CREDENTIALS, REGION) and _verify_sigv4(
        lean, CREDENTIALS, REGION
    )

    def signed_headers(r: Received) -> str:
        return r.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]

    assert signed_headers(lean) == signed_headers(by_botocore)


def test_missing_credentials_fail_the_posts_without_raising(endpoint):
    sender = SignedHttpSender(endpoint.url, lambda: None, REGION, SharedExecutor(2))

    assert sender.send_many(["a", "b"], b"x") == {"a": Delivery.FAILED, "b": Delivery.FAILED}
    assert endpoint.received == []


def test_an_endpoint_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="http"):
        SignedHttpSender("wss://example.com/live", lambda: CREDENTIALS, REGION, SharedExecutor(1))


def test_backoff_is_full_jitter_capped_at_20_seconds():
    assert backoff_s(1, throttled=True, rand=lambda: 0.5) == 0.5
    assert backoff_s(3, throttled=False, rand=lambda: 1.0) == pytest.approx(0.2)
    assert backoff_s(30, throttled=True, rand=lambda: 1.0) == 20.0


@pytest.fixture
def tls_endpoint(tmp_path):
    """The same endpoint over TLS, with a certificate for 127.0.0.1 from a throwaway CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    ep = Endpoint()
    server = _serve(ep, tls=context)
    yield ep, str(cert_path)
    server.shutdown()
    server.server_close()


def test_https_endpoints_are_posted_over_verified_tls(tls_endpoint):
    endpoint, ca = tls_endpoint
    sender, _ = sender_for(endpoint.url, ca_bundle=ca)

    assert sender.send_many(["a", "b", "c"], b"x") == dict.fromkeys("abc", Delivery.DELIVERED)
    assert _verify_sigv4(endpoint.received[0], CREDENTIALS, REGION)


def test_https_with_an_untrusted_certificate_is_never_delivered(tls_endpoint):
    endpoint, _ = tls_endpoint
    sender, _ = sender_for(endpoint.url)  # botocore's CA bundle does not know this one

    assert sender.send_many(["a"], b"x") == {"a": Delivery.FAILED}
    assert endpoint.received == []


def test_posts_not_started_or_not_answered_before_the_deadline_are_timed_out(endpoint):
    """The invocation's remaining time bounds the fan-out: posts are started only while more than
    the start margin remains and waited for only until the wait margin; the rest are counted
    TIMED_OUT, so the handler can log its counts and return before Lambda's timeout."""
    from roomchat.ports import Deadline

    ids = [f"s{i}" for i in range(12)]
    for cid in ids:
        endpoint.scripts[cid] = [("slow", 0.3)]
    endpoint.scripts["s1"] = [("slow", 5.0)]  # one post that hangs past the deadline
    started_at = time.monotonic()

    def remaining_ms() -> int:  # an invocation with 1.5 s left when the fan-out starts
        return int(1500 - (time.monotonic() - started_at) * 1000)

    sender, _ = sender_for(endpoint.url, workers=2, read_timeout_s=10)

    outcomes = sender.send_many(ids, b"x", deadline=Deadline(remaining_ms, 800, 300))
    took = time.monotonic() - started_at

    delivered = {c for c, o in outcomes.items() if o is Delivery.DELIVERED}
    timed_out = {c for c, o in outcomes.items() if o is Delivery.TIMED_OUT}
    assert delivered | timed_out == set(ids) and delivered and "s1" in timed_out
    assert len(endpoint.received) < len(ids)  # some posts were never started
    assert took < 1.5 - 0.3 + 0.2  # returned by the wait margin (plus scheduling slack)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, Delivery.DELIVERED), (410, Delivery.GONE), (500, Delivery.FAILED)],
)
def test_disconnect_is_one_signed_delete_of_the_connection(endpoint, status, outcome):
    cid = "L0SM9cOFvHcCIhw"
    endpoint.scripts[cid] = [status]
    sender, waits = sender_for(endpoint.url)

    assert sender.disconnect(cid) is outcome

    (received,) = endpoint.received
    assert received.method == "DELETE" and received.path == "/live/@connections/L0SM9cOFvHcCIhw"
    assert received.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert received.headers["X-Amz-Security-Token"] == "session-token"
    assert waits == []
