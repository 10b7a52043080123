"""A DynamoDB proxy for the local stack and the tests: injected faults and delayed visibility.

It sits between the Lambda workers (``AWS_ENDPOINT_URL_DYNAMODB``) and the emulator, and forwards
DynamoDB's JSON-protocol calls. It does two things a plain emulator never does:

**Faults** (``fail``): the next N calls of an operation are answered with a DynamoDB error
(throttling by default) instead of being forwarded; ``calls``/``injected`` count them.

**Delayed visibility** (``set_lag``): DynamoDB reads are eventually consistent unless they ask for
``ConsistentRead=true``, and a global secondary index is always eventually consistent: "a read
might not reflect the results of a recently completed write" and "changes to the table data are
propagated to the global secondary indexes within a fraction of a second, under normal
conditions" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html). moto and DynamoDB
Local are always consistent, so code that forgets ``ConsistentRead`` passes every local test.
With a lag of D ms the proxy keeps a *lagging replica* of every table and

- forwards every write to the emulator (the primary), and D ms after it succeeded copies the
  items it touched, as they were right after the write, to the replica (writes are serialised
  through the proxy while the lag is on, so the replica applies them in the primary's order);
- serves ``GetItem``, ``Query``, ``Scan`` and ``BatchGetItem`` without ``ConsistentRead=true``,
  and every ``Query``/``Scan`` of a global secondary index, from the replica: they see the table
  as it was D ms ago;
- serves ``ConsistentRead=true`` reads (and ``TransactGetItems``) from the primary, and refuses a
  strongly consistent read of a global secondary index with ``ValidationException``, as DynamoDB
  does ("Strongly consistent reads are not supported on global secondary indexes",
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).

The replica is the same emulator in another region (``REPLICA_REGION``): the proxy re-signs the
request for it. Turning the lag on copies every table of the primary region to the replica first
(``sync``); with lag 0 the proxy only forwards. DynamoDB Local keeps a database per region and
access key, so this works there too unless it runs with ``-sharedDb``.

    proxy = DynamoDBProxy("http://127.0.0.1:5000", "us-east-1")
    proxy.set_lag(800)        # eventually consistent reads now lag 0.8 s behind writes
    proxy.fail("PutItem", 2)  # the next two PutItem calls are throttled
    proxy.close()

With ``ROOMCHAT_DYNAMODB=local`` its upstream is the stack's DynamoDB Local instead of the
emulator (local/dataplane.py). The local stack starts one when ``ROOMCHAT_READ_LAG_MS`` is set,
and its gateway serves ``/_devstack/dynamodb`` (GET, or POST ``{"lagMs": N}``) to change the lag
while it runs.
"""

from __future__ import annotations

import collections
import http.client
import http.server
import json
import logging
import threading
import time
import urllib.parse
from collections import defaultdict
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

log = logging.getLogger("devstack.dynamoproxy")

THROTTLED = ("ProvisionedThroughputExceededException", 400)
MAX_LAG_MS = 60_000
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
_HOP_HEADERS = ("content-length", "transfer-encoding", "connection", "keep-alive")


def _replica_region(region: str) -> str:
    return "ap-southeast-2" if region != "ap-southeast-2" else "us-west-2"


def _dynamodb_error(code: str, message: str) -> bytes:
    return json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    ).encode()


class DynamoDBProxy:
    """An HTTP proxy in front of a DynamoDB endpoint (see the module docstring)."""

    def __init__(
        self, upstream: str, region: str, *, lag_ms: float = 0, host: str = "127.0.0.1"
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.upstream = upstream
        self.region = region
        self.replica_region = _replica_region(region)
        self.plan: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.calls: dict[str, int] = defaultdict(int)
        self.injected: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self._lag_s = 0.0
        self._write_lock = threading.Lock()  # writes in the primary's order while lagging
        self._pending: collections.deque[tuple[float, str, dict, dict | None]] = collections.deque()
        self._pending_ready = threading.Condition()
        self._keys: dict[str, list[str]] = {}
        self._replicated: set[str] = set()  # tables the replica holds a copy of
        self._global: dict[tuple[str, str], bool] = {}
        self._local = threading.local()
        kwargs = {
            "endpoint_url": upstream,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "aws_session_token": "testing",
            "config": Config(retries={"mode": "standard", "max_attempts": 3}),
        }
        self._primary = boto3.client("dynamodb", region_name=region, **kwargs)
        self._replica = boto3.client("dynamodb", region_name=self.replica_region, **kwargs)
        self._credentials = Credentials("testing", "testing", "testing")
        self._closed = False
        self.server = http.server.ThreadingHTTPServer((host, 0), self._handler_class())
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._replicator = threading.Thread(target=self._replicate, daemon=True)
        self._replicator.start()
        if lag_ms:
            self.set_lag(lag_ms)

    # ----- faults --------------------------------------------------------------------------------
    def fail(self, operation: str, times: int, error: tuple[str, int] = THROTTLED) -> None:
        """The next ``times`` calls of ``operation`` are answered ``error`` (code, HTTP status)."""
        with self.lock:
            self.plan[operation].extend([error] * times)

    def reset(self) -> None:
        with self.lock:
            self.plan.clear()
            self.calls.clear()
            self.injected.clear()

    # ----- delayed visibility --------------------------------------------------------------------
    @property
    def lag_ms(self) -> float:
        return self._lag_s * 1000

    def set_lag(self, lag_ms: float) -> None:
        """Eventually consistent reads see writes ``lag_ms`` late (0: no lag, reads see all)."""
        if not 0 <= lag_ms <= MAX_LAG_MS:
            raise ValueError(f"the lag must be from 0 to {MAX_LAG_MS} ms")
        with self._write_lock:
            if lag_ms and not self._lag_s:
                self.sync()
            with self._pending_ready:
                if not lag_ms:
                    self._pending.clear()
                self._lag_s = lag_ms / 1000
        log.info("eventually consistent reads lag %.0f ms", lag_ms)

    def sync(self) -> None:
        """Make the replica a copy of every table of the primary region, now."""
        self._replicated.clear()
        for page in self._primary.get_paginator("list_tables").paginate():
            for table in page["TableNames"]:
                self._copy_table(table)

    def _ensure_replicated(self, request: dict[str, Any]) -> None:
        """A table created after the lag was turned on is copied on first use."""
        tables = [request["TableName"]] if "TableName" in request else []
        tables += list(request.get("RequestItems", {}))
        tables += [
            part["TableName"]
            for entry in request.get("TransactItems", [])
            for part in entry.values()
            if isinstance(part, dict) and "TableName" in part
        ]
        missing = [t for t in tables if t not in self._replicated]
        if missing:
            with self._write_lock:
                for table in missing:
                    if table not in self._replicated:
                        self._copy_table(table)

    def _copy_table(self, table: str) -> None:
        try:
            desc = self._primary.describe_table(TableName=table)["Table"]
        except self._primary.exceptions.ResourceNotFoundException:
            return  # the call itself will get DynamoDB's own error
        self._keys[table] = [k["AttributeName"] for k in desc["KeySchema"]]
        try:
            self._replica.delete_table(TableName=table)
            self._replica.get_waiter("table_not_exists").wait(
                TableName=table, WaiterConfig={"Delay": 0.1}
            )
        except self._replica.exceptions.ResourceNotFoundException:
            pass
        spec: dict[str, Any] = {
            "TableName": table,
            "KeySchema": desc["KeySchema"],
            "AttributeDefinitions": desc["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {k: gsi[k] for k in ("IndexName", "KeySchema", "Projection")}
            for gsi in desc.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            spec["GlobalSecondaryIndexes"] = indexes
        local = [
            {k: lsi[k] for k in ("IndexName", "KeySchema", "Projection")}
            for lsi in desc.get("LocalSecondaryIndexes", [])
        ]
        if local:
            spec["LocalSecondaryIndexes"] = local
        self._replica.create_table(**spec)
        for page in self._primary.get_paginator("scan").paginate(
            TableName=table, ConsistentRead=True
        ):
            for item in page["Items"]:
                self._replica.put_item(TableName=table, Item=item)
        self._replicated.add(table)

    def _key_names(self, table: str) -> list[str]:
        if table not in self._keys:
            schema = self._primary.describe_table(TableName=table)["Table"]["KeySchema"]
            self._keys[table] = [k["AttributeName"] for k in schema]
        return self._keys[table]

    def _touched(self, op: str, request: dict[str, Any]) -> list[tuple[str, dict]]:
        """(table, key) of every item a successful write changed."""
        if op in ("UpdateItem", "DeleteItem"):
            return [(request["TableName"], request["Key"])]
        if op == "PutItem":
            table = request["TableName"]
            return [(table, {k: request["Item"][k] for k in self._key_names(table)})]
        touched = []
        if op == "BatchWriteItem":
            for table, writes in request.get("RequestItems", {}).items():
                for write in writes:
                    if "PutRequest" in write:
                        item = write["PutRequest"]["Item"]
                        touched.append((table, {k: item[k] for k in self._key_names(table)}))
                    elif "DeleteRequest" in write:
                        touched.append((table, write["DeleteRequest"]["Key"]))
            return touched
        for entry in request.get("TransactItems", []):  # TransactWriteItems
            for kind in ("Put", "Update", "Delete"):
                if kind in entry:
                    part = entry[kind]
                    table = part["TableName"]
                    key = part.get("Key") or {k: part["Item"][k] for k in self._key_names(table)}
                    touched.append((table, key))
        return touched

    def _snapshot(self, op: str, request: dict[str, Any]) -> None:
        """Queue the touched items' new state for the replica, visible ``lag`` from now."""
        due = time.monotonic() + self._lag_s
        for table, key in self._touched(op, request):
            item = self._primary.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            with self._pending_ready:
                self._pending.append((due, table, key, item))
                self._pending_ready.notify()

    def _replicate(self) -> None:
        while not self._closed:
            with self._pending_ready:
                while not self._pending and not self._closed:
                    self._pending_ready.wait(0.5)
                if self._closed:
                    return
                due, table, key, item = self._pending[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._pending_ready.wait(min(wait, 0.05))
                    continue
                self._pending.popleft()
            try:
                if item is None:
                    self._replica.delete_item(TableName=table, Key=key)
                else:
                    self._replica.put_item(TableName=table, Item=item)
            except Exception:  # a lost replica write would only make reads staler
                log.exception("replica write to %s failed", table)

    # ----- routing -------------------------------------------------------------------------------
    def _route(self, op: str, request: dict[str, Any]) -> str | bytes:
        """'primary', 'replica', or the body of a ValidationException to answer."""
        consistent = bool(request.get("ConsistentRead"))
        if op in ("Query", "Scan") and request.get("IndexName"):
            if consistent and self._is_global_index(request["TableName"], request["IndexName"]):
                return _dynamodb_error(
                    "ValidationException",
                    "Consistent reads are not supported on global secondary indexes",
                )
            return "replica"
        if op == "BatchGetItem":
            tables = request.get("RequestItems", {}).values()
            consistent = bool(tables) and all(t.get("ConsistentRead") for t in tables)
        return "primary" if consistent else "replica"

    def _is_global_index(self, table: str, index: str) -> bool:
        if (table, index) not in self._global:
            desc = self._primary.describe_table(TableName=table)["Table"]
            names = {g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", [])}
            self._global[(table, index)] = index in names
        return self._global[(table, index)]

    def _forward(
        self, path: str, body: bytes, headers: dict[str, str], region: str | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if region is not None:  # re-signed for the replica's region
            request = AWSRequest(
                method="POST",
                url=f"{self.upstream}{path}",
                data=body,
                headers={
                    "Content-Type": headers.get("Content-Type", "application/x-amz-json-1.0"),
                    "X-Amz-Target": headers.get("X-Amz-Target", ""),
                },
            )
            SigV4Auth(self._credentials, "dynamodb", region).add_auth(request)
            headers = dict(request.headers.items())
        else:
            headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        for attempt in range(2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(
                    self.upstream_host, self.upstream_port, timeout=30
                )
                self._local.conn = conn
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, response.getheaders(), data
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def handle(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, list, bytes]:
        op = headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        with self.lock:
            self.calls[op] += 1
            fault = self.plan[op].pop(0) if self.plan[op] else None
            if fault:
                self.injected[op] += 1
        json_type = [("Content-Type", "application/x-amz-json-1.0")]
        if fault:
            code, status = fault
            return status, json_type, _dynamodb_error(code, "injected")
        if not self._lag_s or (op not in WRITES and op not in READS):
            return self._forward(path, body, headers)
        request = json.loads(body or b"{}")
        self._ensure_replicated(request)
        if op in WRITES:
            with self._write_lock:
                status, response_headers, data = self._forward(path, body, headers)
                if status == 200 and self._lag_s:
                    self._snapshot(op, request)
            return status, response_headers, data
        target = self._route(op, request)
        if isinstance(target, bytes):
            return 400, json_type, target
        if target == "primary":
            return self._forward(path, body, headers)
        return self._forward(path, body, headers, region=self.replica_region)

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are separate writes: with Nagle's algorithm and the client's
            # delayed ACK every answer would wait ~40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    status, headers, data = proxy.handle(self.path, body, dict(self.headers))
                except Exception as exc:  # the caller sees a 500 and retries, as from AWS
                    log.exception("proxying failed")
                    status = 500
                    headers = [("Content-Type", "application/x-amz-json-1.0")]
                    data = _dynamodb_error("InternalServerError", str(exc))
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in _HOP_HEADERS:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self._closed = True
        with self._pending_ready:
            self._pending_ready.notify_all()
        self.server.shutdown()
        self.server.server_close()
