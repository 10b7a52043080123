"""The fan-out tier inside a bench gateway process: a queue of its own, polled there.

The stack's own process already polls the fan-out queue Terraform created (and posts to its own
gateway's @connections, where the bench's members are not connected). So a bench gateway that
should run the tier gets a copy of that queue (same visibility timeout and dead-letter queue),
the `fanout` function as Terraform deployed it, run in its own workers with the mapping's batch
size, concurrency and partial batch responses (roomchat_tools.local.eventsources, the code
`make run` polls with), and `FANOUT_QUEUE_NAME` naming the copy in every function's
environment. Only the queue's name differs from what `make run` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from types import SimpleNamespace
from typing import Any

COPIED_ATTRIBUTES = ["VisibilityTimeout", "RedrivePolicy", "MessageRetentionPeriod"]


class OwnFanoutQueue:
    def __init__(self, gateway: Any, endpoint: str, region: str) -> None:
        from roomchat_tools.local.stack import _queue_clients

        # The clients the stack's own event sources use (it reads .endpoint and .region).
        self._lambda, self._sqs = _queue_clients(SimpleNamespace(endpoint=endpoint, region=region))
        self._gateway = gateway
        self._region = region
        self.queue_url = ""
        self._poller: Any = None
        self._run: asyncio.Task[None] | None = None

    async def start(self) -> dict[str, Any]:
        from roomchat_tools.local.apimodel import function_spec
        from roomchat_tools.local.eventsources import SqsPoller, read_sqs_mappings

        mappings = await asyncio.to_thread(
            read_sqs_mappings, self._lambda, self._sqs, disable=False, include_disabled=True
        )
        mapping = next(m for m in mappings if m.queue_arn.split(":")[-1].endswith("fanout"))
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=mapping.queue_url, AttributeNames=COPIED_ATTRIBUTES
        ).get("Attributes", {})
        name = f"{mapping.queue_arn.split(':')[-1]}-bench-{os.getpid()}"
        self.queue_url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        own = dataclasses.replace(mapping, queue_url=self.queue_url, queue_arn=arn)
        spec = await asyncio.to_thread(function_spec, self._lambda, mapping.function_arn)
        pool = self._gateway.add_function(spec, own.max_concurrency)
        for each in self._gateway.pools.values():
            each.set_env({"FANOUT_QUEUE_NAME": name})

        async def invoke(event: dict[str, Any]) -> tuple[bool, Any]:
            result = await pool.invoke(event)
            return result.ok, result.result

        self._poller = SqsPoller(own, self._sqs, invoke, self._region)
        self._run = asyncio.get_running_loop().create_task(self._poller.run())
        return {
            "queue": name,
            "function": spec.name,
            "batch_size": own.batch_size,
            "max_concurrency": own.max_concurrency,
            "memory_mb": spec.memory_mb,
            "timeout_s": spec.timeout_s,
            "chunk_size": int(spec.environment.get("FANOUT_CHUNK_SIZE") or 0),
        }

    def invocations(self) -> int:
        return int(self._poller.invocations) if self._poller else 0

    async def stop(self) -> None:
        if self._poller is not None:
            await self._poller.stop(grace_s=2)
        if self._run is not None:
            self._run.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._run
        if self.queue_url:
            with contextlib.suppress(Exception):
                self._sqs.delete_queue(QueueUrl=self.queue_url)
