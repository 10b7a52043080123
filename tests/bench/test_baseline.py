"""The bench's baseline is the AWS sample's real sendmessage design (bench/baseline/handler.py):
one Scan of every connection, then every post started at once (the sample's Promise.all), as
many on the wire at a time as the JavaScript SDK's 50 sockets, gone connections deleted."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

HANDLER = Path(__file__).resolve().parents[2] / "bench" / "baseline" / "handler.py"


@pytest.fixture
def handler(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_baseline_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Table:
    def __init__(self, ids, page=40):
        self.ids, self.page, self.scans, self.deleted = list(ids), page, 0, []

    def scan(self, **kwargs):
        self.scans += 1
        start = int(kwargs.get("ExclusiveStartKey", {}).get("i", 0))
        items = [{"connectionId": c} for c in self.ids[start : start + self.page]]
        page = {"Items": items}
        if start + self.page < len(self.ids):
            page["LastEvaluatedKey"] = {"i": start + self.page}
        return page

    def delete_item(self, Key):
        self.deleted.append(Key["connectionId"])


class Management:
    def __init__(self, gone=()):
        self.gone, self.posted = set(gone), []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()

    def post_to_connection(self, ConnectionId, Data):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(0.02)  # a round trip: overlapping posts overlap these
        with self.lock:
            self.in_flight -= 1
            if ConnectionId in self.gone:
                raise ClientError(
                    {
                        "Error": {"Code": "GoneException"},
                        "ResponseMetadata": {"HTTPStatusCode": 410},
                    },
                    "PostToConnection",
                )
            self.posted.append(ConnectionId)


def test_scans_every_connection_and_posts_to_all_at_once(handler, monkeypatch):
    ids = [f"c{i}" for i in range(120)]
    table, management = Table(ids), Management(gone={"c5"})
    monkeypatch.setattr(handler, "_connections", lambda: table)
    monkeypatch.setattr(handler, "_management", lambda event: management)
    event = {"body": json.dumps({"action": "sendmessage", "data": "hi"}), "requestContext": {}}

    started = time.perf_counter()
    reply = handler.on_send_message(event, None)
    elapsed = time.perf_counter() - started

    assert reply == {"statusCode": 200}
    assert table.scans == 3  # every page of the Scan
    assert sorted(management.posted) == sorted(set(ids) - {"c5"})
    assert table.deleted == ["c5"]
    # 50 in flight at once, as the SDK's sockets: not one after another (120 x 20 ms = 2.4 s)
    assert management.max_in_flight == handler.SOCKETS == 50
    assert elapsed < 1.2
