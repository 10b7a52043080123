"""The local AWS emulator: a moto server on a free loopback port.

    from roomchat_tools.local import emulator

    with emulator.running() as emu:          # starts moto on 127.0.0.1:<free port>
        env = emu.environ()                 # os.environ pointed at it (for terraform, boto3)
        boto3.client("dynamodb", **emu.client_kwargs())

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
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Emulator:
    """A running emulator: where it listens and how to point clients at it."""

    endpoint: str
    region: str = REGION

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
    server = ThreadedMotoServer(ip_address=host, port=port or 0, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        _wait_until_listening(bound_host, bound_port, timeout)
        _reset(bound_host, bound_port)
        yield Emulator(endpoint=f"http://{bound_host}:{bound_port}")
    finally:
        server.stop()


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
