"""A real moto server behind a fault-injecting proxy, for the reliability tests."""

from __future__ import annotations

import http.client
import http.server
import json
import threading
from collections import defaultdict

import pytest

from roomchat_tools.local import emulator


class FaultProxy:
    """Forwards AWS JSON-protocol calls to the emulator, failing chosen operations first.

    ``fail("PutItem", times=2)`` answers the next two PutItem calls with DynamoDB's throttling
    error (HTTP 400 ProvisionedThroughputExceededException), then lets them through.
    """

    THROTTLED = ("ProvisionedThroughputExceededException", 400)

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.plan: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.calls: dict[str, int] = defaultdict(int)
        self.injected: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                op = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                with proxy.lock:
                    proxy.calls[op] += 1
                    fault = proxy.plan[op].pop(0) if proxy.plan[op] else None
                    if fault:
                        proxy.injected[op] += 1
                if fault:
                    code, status = fault
                    payload = json.dumps(
                        {
                            "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                            "message": "injected",
                        }
                    ).encode()
                    self._answer(status, {"Content-Type": "application/x-amz-json-1.0"}, payload)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                keep = {
                    k: v
                    for k, v in resp.getheaders()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")
                }
                self._answer(resp.status, keep, data)

            def _answer(self, status, headers, payload):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail(self, operation: str, times: int, error: tuple[str, int] = THROTTLED) -> None:
        with self.lock:
            self.plan[operation].extend([error] * times)

    def reset(self) -> None:
        with self.lock:
            self.plan.clear()
            self.calls.clear()
            self.injected.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def moto_server():
    with emulator.running() as emu:
        yield emu.endpoint, int(emu.endpoint.rsplit(":", 1)[1])


@pytest.fixture
def fault_proxy(moto_server):
    proxy = FaultProxy(moto_server[1])
    yield proxy
    proxy.close()
