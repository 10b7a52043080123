"""The event source mappings Terraform declared, run by the local stack: SQS queues polled
(long polling) and their function's deployed code invoked in the local workers with SQS events,
as Lambda's pollers do on AWS.

Semantics kept from AWS (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html):
- up to ``BatchSize`` records per invocation, at most ``ScalingConfig.MaximumConcurrency``
  invocations at once;
- a successful invocation deletes its records, except those it lists in ``batchItemFailures``
  when the mapping has ``ReportBatchItemFailures``; a failed invocation deletes none;
- records not deleted become visible again after the queue's visibility timeout, and the
  queue's redrive policy (maxReceiveCount) moves them to the dead-letter queue: moto does both.

moto runs mappings itself: on every message sent to a queue with an enabled mapping it receives
a batch and invokes the function in Docker (moto/sqs/models.py, ``Queue.add_message``), which
here would fail and, worse, count receives towards the dead-letter queue. So the mappings are
read once, then disabled in the emulator's view (moto skips disabled ones); this module is the
only poller.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("devstack.eventsources")

# Long polling: a receive waits up to this long for a message (SQS allows up to 20 s); short
# enough that stopping the stack is prompt.
WAIT_TIME_S = 2
DEFAULT_MAX_CONCURRENCY = 1000  # Lambda's ceiling when a mapping sets none


@dataclass(frozen=True)
class SqsMapping:
    uuid: str
    queue_arn: str
    queue_url: str
    function_arn: str
    batch_size: int
    max_concurrency: int
    report_batch_item_failures: bool


def read_sqs_mappings(
    lambda_client: Any, sqs_client: Any, *, disable: bool = True, include_disabled: bool = False
) -> list[SqsMapping]:
    """Every enabled SQS mapping in the emulator (with ``include_disabled``, the ones a running
    stack has already taken over too); with ``disable``, each is then disabled in the emulator so
    moto does not try to run it too."""
    states: tuple[Any, ...] = (None, "Enabled", True)
    if include_disabled:
        states += ("Disabled", False)
    found: list[SqsMapping] = []
    marker = None
    while True:
        page = lambda_client.list_event_source_mappings(**({"Marker": marker} if marker else {}))
        for m in page.get("EventSourceMappings", []):
            arn = m.get("EventSourceArn", "")
            if arn.split(":")[2:3] != ["sqs"] or m.get("State") not in states:
                continue
            _, _, _, _region, account, name = arn.split(":", 5)
            url = sqs_client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                "QueueUrl"
            ]
            found.append(
                SqsMapping(
                    uuid=m["UUID"],
                    queue_arn=arn,
                    queue_url=url,
                    function_arn=m["FunctionArn"],
                    batch_size=int(m.get("BatchSize") or 10),
                    max_concurrency=int(
                        (m.get("ScalingConfig") or {}).get("MaximumConcurrency")
                        or DEFAULT_MAX_CONCURRENCY
                    ),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (m.get("FunctionResponseTypes") or []),
                )
            )
        marker = page.get("NextMarker")
        if not marker:
            break
    if disable:
        for mapping in found:
            lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=False)
    return found


def _record(message: dict[str, Any], mapping: SqsMapping, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event:
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event"""
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": dict(message.get("MessageAttributes") or {}),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.queue_arn,
        "awsRegion": region,
    }


def failed_ids(mapping: SqsMapping, ok: bool, result: Any, ids: list[str]) -> set[str]:
    """The records to leave on the queue: all of them when the invocation failed; with
    ReportBatchItemFailures, those listed, or all when the answer is not a valid list (as on
    AWS)."""
    if not ok:
        return set(ids)
    if not mapping.report_batch_item_failures:
        return set()
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set(ids)
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(ids)
    listed = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in ids:
            return set(ids)  # an invalid identifier fails the whole batch
        listed.add(ident)
    return listed


Invoke = Callable[[dict[str, Any]], Awaitable[tuple[bool, Any]]]


class SqsPoller:
    """Polls one mapping's queue and invokes its function, at most ``max_concurrency`` batches
    at once."""

    def __init__(self, mapping: SqsMapping, sqs_client: Any, invoke: Invoke, region: str):
        self.mapping = mapping
        self._sqs = sqs_client
        self._invoke = invoke
        self._region = region
        self._slots = asyncio.Semaphore(mapping.max_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.invocations = 0

    async def run(self) -> None:
        while not self._stopping:
            await self._slots.acquire()
            try:
                resp = await asyncio.to_thread(
                    self._sqs.receive_message,
                    QueueUrl=self.mapping.queue_url,
                    MaxNumberOfMessages=self.mapping.batch_size,
                    WaitTimeSeconds=WAIT_TIME_S,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception as exc:  # the emulator going away at shutdown, a hiccup
                self._slots.release()
                if self._stopping:
                    return
                log.warning("receive from %s failed: %s", self.mapping.queue_url, exc)
                await asyncio.sleep(1)
                continue
            messages = resp.get("Messages") or []
            if not messages:
                self._slots.release()
                continue
            task = asyncio.get_running_loop().create_task(self._handle(messages))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, messages: list[dict[str, Any]]) -> None:
        try:
            records = [_record(m, self.mapping, self._region) for m in messages]
            self.invocations += 1
            ok, result = await self._invoke({"Records": records})
            ids = [r["messageId"] for r in records]
            keep = failed_ids(self.mapping, ok, result, ids)
            done = [
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                for i, r in enumerate(records)
                if r["messageId"] not in keep
            ]
            if keep:
                log.info("%d of %d records left for a retry", len(keep), len(records))
            # Failed records are left alone: they become visible after the visibility timeout.
            for start in range(0, len(done), 10):
                await asyncio.to_thread(
                    self._sqs.delete_message_batch,
                    QueueUrl=self.mapping.queue_url,
                    Entries=done[start : start + 10],
                )
        except Exception:
            log.exception("SQS batch of %s failed", self.mapping.queue_arn)
        finally:
            self._slots.release()

    async def stop(self, grace_s: float = 5.0) -> None:
        self._stopping = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)


class EventSources:
    """Every SQS mapping of the stack, each function run in a FunctionPool the gateway owns."""

    def __init__(self, gateway: Any, lambda_client: Any, sqs_client: Any) -> None:
        self._gateway = gateway
        self._lambda = lambda_client
        self._sqs = sqs_client
        self.pollers: list[SqsPoller] = []
        self._runs: list[asyncio.Task[None]] = []
        self._known: set[str] = set()

    async def start(self) -> None:
        await self.add_new()

    async def add_new(self) -> int:
        """Poll every mapping not polled yet: the local stack calls this again when its
        background apply creates one (as Lambda starts polling a mapping created later).
        Returns how many were added."""
        from roomchat_tools.local.apimodel import function_spec

        mappings = await asyncio.to_thread(read_sqs_mappings, self._lambda, self._sqs)
        mappings = [m for m in mappings if m.uuid not in self._known]
        for mapping in mappings:
            self._known.add(mapping.uuid)
            spec = await asyncio.to_thread(function_spec, self._lambda, mapping.function_arn)
            pool = self._gateway.add_function(spec, mapping.max_concurrency)

            async def invoke(event: dict[str, Any], pool: Any = pool) -> tuple[bool, Any]:
                result = await pool.invoke(event)
                if not result.ok:
                    log.warning("%s failed: %s", pool.spec.name, result.error)
                return result.ok, result.result

            poller = SqsPoller(mapping, self._sqs, invoke, self._gateway.region)
            self.pollers.append(poller)
            self._runs.append(asyncio.get_running_loop().create_task(poller.run()))
            log.info(
                "event source %s -> %s (batch %d, at most %d at once)",
                mapping.queue_arn.split(":")[-1],
                spec.name,
                mapping.batch_size,
                mapping.max_concurrency,
            )
        return len(mappings)

    async def stop(self) -> None:
        for poller in self.pollers:
            await poller.stop()
        for run in self._runs:
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await run
