"""The local AWS emulator: a moto server on a free loopback port.

    from roomchat_tools.local import emulator

    with emulator.running() as emu:          # starts moto on 127.0.0.1:<free port>
        env = emu.environ()                 # os.environ pointed at it (for terraform, boto3)
        boto3.client("dynamodb", **emu.client_kwargs())

`emu.reset()` empties it; `with emu.gate.closed():` holds every request back (letting those in
flight finish first) while the caller reads moto's state in this process (snapshot.py).

`environ()` sets `AWS_ENDPOINT_URL`, which both boto3 and the Terraform AWS provider (5.x) honour
for every service, plus dummy credentials and a region, and removes whatever could point the
process at a real account (profiles, role/web-identity settings, per-service endpoints). The
Terraform root module therefore needs no emulator-specific code.

Run it on its own with `python -m roomchat_tools.local.emulator [--port N]` (Ctrl-C stops it).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
HOST = "127.0.0.1"

# What moto accepts; never real credentials.
_DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# Settings that could send a process to a real account or another endpoint instead of the emulator.
_STRIPPED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


class Gate:
    """Lets the emulator's requests through side by side, except while ``closed()``: then new
    requests wait, and ``closed()`` itself waits for those in flight, so what runs inside it sees
    moto's state still (no request half done). Closing takes precedence over new requests."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = 0

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self._cond:
                while self._closed:
                    self._cond.wait()
                self._active += 1
            try:
                # moto changes its state while handling the call; the body it returns is built.
                return app(environ, start_response)
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

        return gated

    @contextmanager
    def closed(self, timeout_s: float = 30.0) -> Iterator[None]:
        """No request is being handled inside this block. Raises TimeoutError when those in
        flight (an SQS long poll waits up to its WaitTimeSeconds) take longer than
        ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._closed += 1
            try:
                while self._active:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"the emulator stayed busy for {timeout_s:.0f} s")
                    self._cond.wait(left)
            except BaseException:
                self._closed -= 1
                self._cond.notify_all()
                raise
        try:
            yield
        finally:
            with self._cond:
                self._closed -= 1
                self._cond.notify_all()


@dataclass(frozen=True)
class Emulator:
    """A running emulator: where it listens and how to point clients at it."""

    endpoint: str
    region: str = REGION
    # The gate in front of an emulator of this process (running()); None for one elsewhere.
    gate: Gate | None = field(default=None, compare=False, repr=False)

    @property
    def account(self) -> str:
        """The account moto answers for (MOTO_ACCOUNT_ID, else its default)."""
        return os.environ.get("MOTO_ACCOUNT_ID") or "123456789012"

    def reset(self) -> None:
        """Every service's state back to empty (moto's reset endpoint)."""
        host, port = self.endpoint.removeprefix("http://").rsplit(":", 1)
        _reset(host, int(port))

    def env(self) -> dict[str, str]:
        """Only the variables to set (see `environ` for a complete environment)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            **_DUMMY_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            # No instance-metadata look-ups: there is no EC2 here and they only add delay.
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: os.environ) without real-account settings, plus `env()`.

        Shared config/credentials files are replaced by empty ones (os.devnull) so a profile's
        `endpoint_url`, `region` or `credential_process` cannot leak in.
        """
        merged = {
            key: value
            for key, value in (os.environ if base is None else base).items()
            if key not in _STRIPPED and not key.startswith("AWS_ENDPOINT_URL_")
        }
        merged.update(self.env())
        merged["AWS_CONFIG_FILE"] = os.devnull
        merged["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        return merged

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for `boto3.client(service, **kwargs)` that talk to the emulator."""
        return {
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "aws_access_key_id": _DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": _DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": _DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
        }


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto server did not listen on {host}:{port}") from None
            time.sleep(0.05)


@contextmanager
def running(port: int | None = None, host: str = HOST, timeout: float = 15.0) -> Iterator[Emulator]:
    """Start an empty moto server (in this process, on its own thread) and stop it on exit.

    Every in-process moto server shares moto's module-level state, so one that starts after
    another (or after mock_aws) would see what those left behind: reset it first, and never keep
    two alive at once in one process (tests scope their emulator fixtures to their package).
    """
    # Imported here so that importing this module stays cheap for callers that only need env().
    from moto.server import ThreadedMotoServer

    from roomchat_tools.local import moto_rules

    moto_rules.apply()  # what AWS enforces and moto does not (Cognito sign-up)

    gate = Gate()
    _cache_module_list()

    class GatedMotoServer(ThreadedMotoServer):  # type: ignore[misc]
        """moto's ThreadedMotoServer (the same app, handler and threaded werkzeug server), its
        app behind ``gate``."""

        def _server_entry(self) -> None:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
            from werkzeug.serving import make_server

            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(
                self._ip_address,
                self._port,
                gate.wrap(app),
                True,
                request_handler=MotoRequestHandler,
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    if port:
        # moto's server thread dies silently when the bind fails, and start() then waits for ever.
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
            # As the server binds (werkzeug sets SO_REUSEADDR): connections of the run just
            # stopped, in TIME_WAIT on this port, must not stop the next `make run`.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise OSError(f"cannot start the emulator on {host}:{port}: {error}") from None
    # werkzeug logs every request at INFO; Terraform makes hundreds of them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Port 0 lets the OS pick while binding, so no other process can take the port between a
    # look-up and the bind (free_port() + bind would race with parallel test runs).
    server = GatedMotoServer(ip_address=host, port=port or 0, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        _wait_until_listening(bound_host, bound_port, timeout)
        _reset(bound_host, bound_port)
        yield Emulator(endpoint=f"http://{bound_host}:{bound_port}", gate=gate)
    finally:
        server.stop()


def _cache_module_list() -> None:
    """moto's server finds a request's service with ``backends.list_of_moto_modules()``, which
    lists moto's package folder and stats each of its ~190 entries, on every request: a quarter
    of the emulator's CPU during the apply of infra/ (moto 5.2). The folder does not change
    while this process runs, so the list is made once."""
    from moto import backends

    listed = getattr(backends, "list_of_moto_modules", None)
    if listed is None or getattr(listed, "made_once", False):
        return
    modules = tuple(listed())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    list_of_moto_modules.made_once = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules


def _reset(host: str, port: int) -> None:
    """moto's own reset endpoint: every service's state back to empty."""
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", "/moto-api/reset")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"the emulator refused its reset: HTTP {response.status}")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the AWS emulator until Ctrl-C.")
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    args = parser.parse_args(argv)
    with running(args.port) as emu:
        print(f"moto server listening on {emu.endpoint}; export:", flush=True)
        for key, value in emu.env().items():
            print(f"  export {key}={value}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
