"""moto vs AWS's DynamoDB Local: one Query of a 1,000-member room, side by side.

    .venv/bin/python -m bench.dynamodb_engines [--members 1000] [--repeat 30]

Times `DynamoRooms.list_members` (the Query of one room's partition, following
LastEvaluatedKey, as `members` and `join` do) and `recipient_ids` (the fan-out's projected read)
on three engines: moto in process (`mock_aws`, what tests/unit uses), moto's server over HTTP
(what the local stack and tests/infra use), and DynamoDB Local over HTTP (JVM warmed up first,
default JIT). Prints the median and p90 in ms and the ratio to DynamoDB Local. Not a test: the
figures depend on the machine; docs/ and the report quote one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from roomchat.adapters.dynamodb import DynamoRooms
from roomchat.ports import Member
from roomchat_tools.local import dynamodb_local, emulator
from tests.tables import ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE


@contextmanager
def moto_in_process() -> Iterator[Any]:
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@contextmanager
def moto_server() -> Iterator[Any]:
    with emulator.running() as emu:
        yield boto3.client("dynamodb", **emu.client_kwargs())


@contextmanager
def dynamodb_local_server() -> Iterator[Any]:
    with dynamodb_local.running(jvm_options=()) as server:
        yield server.client("bench")


ENGINES: dict[str, Callable[[], Any]] = {
    "moto (in process)": moto_in_process,
    "moto server (HTTP)": moto_server,
    "DynamoDB Local (HTTP)": dynamodb_local_server,
}


def fill(client: Any, members: int) -> DynamoRooms:
    client.create_table(TableName="rooms", **ROOMS_TABLE)
    rooms = DynamoRooms(client, "rooms", ROOMS_BY_CONNECTION_INDEX)
    expires = int(time.time()) + 7200
    for i in range(members):
        rooms.put_member(
            Member("big", f"conn-{i:05d}=", f"user{i}", "2026-01-01T00:00:00Z", expires)
        )
    return rooms


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(5):  # warm-up: JIT, connection pool, botocore's loaders
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    now = int(time.time())
    results: dict[str, dict[str, list[float]]] = {}
    for name, engine in ENGINES.items():
        try:
            with engine() as client:
                rooms = fill(client, args.members)
                assert len(rooms.list_members("big", now)) == args.members
                results[name] = {
                    "list_members": timed(lambda r=rooms: r.list_members("big", now), args.repeat),
                    "recipient_ids": timed(
                        lambda r=rooms: r.recipient_ids("big", now), args.repeat
                    ),
                }
        except dynamodb_local.Unavailable as error:
            print(f"{name}: skipped ({error})")
    reference = results.get("DynamoDB Local (HTTP)")
    print(f"Query of a {args.members}-member room, {args.repeat} runs each, ms:")
    print(f"{'engine':24} {'read':14} {'median':>8} {'p90':>8} {'x DDB Local':>12}")
    for name, reads in results.items():
        for read, samples in reads.items():
            median = statistics.median(samples)
            p90 = statistics.quantiles(samples, n=10)[-1]
            ratio = median / statistics.median(reference[read]) if reference else float("nan")
            print(f"{name:24} {read:14} {median:8.1f} {p90:8.1f} {ratio:12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
