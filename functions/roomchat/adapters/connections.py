"""The @connections sender: PostToConnection to many members at once through one shared client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import logs
from ..ports import Delivery

GONE_CODES = frozenset({"GoneException"})


def classify(error: Exception) -> Delivery:
    """410 Gone means the connection no longer exists; anything else is a failed delivery."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in GONE_CODES or status == 410:
            return Delivery.GONE
    return Delivery.FAILED


class ManagementApiSender:
    """Posts frames with a bounded pool of threads sharing one thread-safe boto3 client.

    The client's own retry policy (standard mode) retries 429 and 5xx with backoff; what still
    fails is counted and logged, and never stops delivery to the other members.
    """

    def __init__(self, client: Any, executor: Callable[[], ThreadPoolExecutor]):
        self._client = client
        self._executor = executor

    def _post(self, connection_id: str, data: bytes) -> Delivery:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
            return Delivery.DELIVERED
        except (ClientError, BotoCoreError) as e:
            outcome = classify(e)
            if outcome is Delivery.FAILED:
                code = e.response["Error"]["Code"] if isinstance(e, ClientError) else repr(e)
                logs.warning("post_failed", target=connection_id, error=code)
            return outcome

    def send_many(self, connection_ids: Iterable[str], data: bytes) -> Mapping[str, Delivery]:
        ids = list(connection_ids)
        if len(ids) <= 1:
            return {cid: self._post(cid, data) for cid in ids}
        pool = self._executor()
        futures = {cid: pool.submit(self._post, cid, data) for cid in ids}
        return {cid: f.result() for cid, f in futures.items()}


class SharedExecutor:
    """One thread pool per process, created on first use and reused by warm invocations."""

    def __init__(self, workers: int):
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="fanout")
        return self._pool
