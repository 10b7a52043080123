"""The @connections sender: PostToConnection to many members at once through one shared client."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import logs
from ..ports import Deadline, Delivery

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

    def disconnect(self, connection_id: str) -> Delivery:
        """DeleteConnection: API Gateway closes the socket (and runs $disconnect).
        https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
        """
        try:
            self._client.delete_connection(ConnectionId=connection_id)
            return Delivery.DELIVERED
        except (ClientError, BotoCoreError) as e:
            outcome = classify(e)
            if outcome is Delivery.FAILED:
                code = e.response["Error"]["Code"] if isinstance(e, ClientError) else repr(e)
                logs.warning("disconnect_failed", target=connection_id, error=code)
            return outcome

    def _post_in_time(self, connection_id: str, data: bytes, deadline: Deadline | None) -> Delivery:
        if deadline is not None and deadline.remaining_ms() < deadline.start_margin_ms:
            return Delivery.TIMED_OUT
        return self._post(connection_id, data)

    def send_many(
        self, connection_ids: Iterable[str], data: bytes, deadline: Deadline | None = None
    ) -> Mapping[str, Delivery]:
        ids = list(connection_ids)
        if len(ids) <= 1:
            return {cid: self._post_in_time(cid, data, deadline) for cid in ids}
        pool = self._executor()
        # Each post runs in a copy of the caller's context, so its log lines keep the
        # invocation's requestId/connectionId/roomId (one copy per task: a Context can be
        # entered by one thread at a time).
        futures: dict[str, Future[Delivery]] = {
            cid: pool.submit(
                contextvars.copy_context().run, self._post_in_time, cid, data, deadline
            )
            for cid in ids
        }
        outcomes: dict[str, Delivery] = {}
        for cid, future in futures.items():
            timeout = None
            if deadline is not None:
                timeout = max(0.0, (deadline.remaining_ms() - deadline.wait_margin_ms) / 1000)
            try:
                outcomes[cid] = future.result(timeout=timeout)
            except FutureTimeout:
                # Still queued or posting when the invocation must end: not confirmed. A queued
                # one is cancelled; one already posting may still complete after we return.
                future.cancel()
                outcomes[cid] = Delivery.TIMED_OUT
        return outcomes


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
