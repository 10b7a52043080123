"""The fan-out tier's queue (ports.FanoutQueue) on SQS: SendMessageBatch of up to 10 chunks
whose bodies together stay within the 256 KiB a batch call may carry.

Quotas: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
(10 entries per batch; 256 KiB per message and per batch payload). SendMessageBatch answers
per entry; entries listed under Failed were not queued:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html

The queue is known by its name (FANOUT_QUEUE_NAME: Terraform knows it before the queue exists, so
the functions need not wait for it) and its URL is looked up with GetQueueUrl on first use, then
kept for the container's life. SQS asks callers to use the URL it returns rather than build one:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
A failed lookup (e.g. the queue not created yet while a deployment is under way) refuses that
batch like a failed send (send_all then posts it inline) and the next enqueue looks again.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import jobs, logs
from ..ports import FanoutJob

BATCH_ENTRIES = 10
# Failed entries are sent again this many times (the client itself retries throttling and 5xx).
ENTRY_RETRIES = 2


class SqsFanoutQueue:
    def __init__(self, client: Any, queue_name: str):
        self._sqs = client
        self._name = queue_name
        self._url: str | None = None

    def _queue_url(self) -> str:
        if self._url is None:
            self._url = str(self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"])
        return self._url

    def _batches(self, bodies: list[tuple[FanoutJob, str]]) -> list[list[tuple[FanoutJob, str]]]:
        batches: list[list[tuple[FanoutJob, str]]] = []
        current: list[tuple[FanoutJob, str]] = []
        used = 0
        for job, body in bodies:
            size = len(body.encode("utf-8"))
            if current and (len(current) >= BATCH_ENTRIES or used + size > jobs.SQS_MAX_BYTES):
                batches.append(current)
                current, used = [], 0
            current.append((job, body))
            used += size
        if current:
            batches.append(current)
        return batches

    def enqueue(self, batch: list[FanoutJob], delay_s: int = 0) -> list[FanoutJob]:
        pending = [(job, jobs.encode(job)) for job in batch]
        for _ in range(1 + ENTRY_RETRIES):
            if not pending:
                break
            refused: list[tuple[FanoutJob, str]] = []
            for group in self._batches(pending):
                entries = [
                    {"Id": str(i), "MessageBody": body, "DelaySeconds": delay_s}
                    for i, (_, body) in enumerate(group)
                ]
                try:
                    resp = self._sqs.send_message_batch(QueueUrl=self._queue_url(), Entries=entries)
                except (ClientError, BotoCoreError) as e:
                    logs.warning("enqueue_failed", error=type(e).__name__, detail=str(e)[:200])
                    refused += group
                    continue
                for failure in resp.get("Failed") or []:
                    logs.warning(
                        "enqueue_entry_failed",
                        code=failure.get("Code"),
                        senderFault=failure.get("SenderFault"),
                    )
                    refused.append(group[int(failure["Id"])])
            pending = refused
        return [job for job, _ in pending]
