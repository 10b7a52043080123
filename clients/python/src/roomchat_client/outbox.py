"""One room's ``sendAll``s, as every roomchat client sends them.

One message in flight at a time: the next is sent when the previous is acknowledged (our
``message`` frame with its clientMsgId came back) or has failed for good (an error frame with
that clientMsgId that is not retryable, or ``attempts`` tries). API Gateway may run one
connection's frames concurrently, so messages sent without waiting could be stored in another
order than typed. A retryable failure (``internal``, ``rate_limited``, API Gateway's own error
frame, no answer within ``timeout``) sends the same message again with the same clientMsgId
after a back-off; the server stores a clientMsgId at most once. A closed connection fails what is
left (``Session`` re-sends it on the next connection).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from roomchat_client.protocol import (
    RETRYABLE,
    Frame,
    is_gateway_error,
    new_client_msg_id,
    send_all,
)

if TYPE_CHECKING:
    from roomchat_client.connection import Connection


class Outbox:
    def __init__(
        self,
        client: Connection,
        room: str,
        *,
        timeout: float = 10.0,
        attempts: int = 5,
        backoff_s: float = 0.25,
    ) -> None:
        self.client = client
        self.room = room
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sent: list[dict[str, Any]] = []  # every frame put on the wire, retries included
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[Frame]]] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    def submit(
        self,
        text: str,
        client_msg_id: str | None = None,
        reply_to: str | None = None,
        also_to_room: bool = False,
    ) -> asyncio.Future[Frame]:
        """Queue a message at once (as typed); the future is its ack, or its last error frame
        (``code: timeout`` when no try was answered); it fails if the connection closed. With
        ``reply_to`` it is a reply in that message's thread (replies keep their order with
        the room's messages: one outbox)."""
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        frame = send_all(
            self.room, text, client_msg_id or new_client_msg_id(), reply_to, also_to_room
        )
        self._queue.put_nowait((dict(frame), future))
        return future

    async def send(self, text: str) -> Frame:
        return await self.submit(text)

    async def drain(self) -> None:
        await self._queue.join()

    def close(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        while True:
            frame, future = await self._queue.get()
            try:
                result = await self._deliver(frame)
            except Exception as exc:  # the connection closed under us
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
            finally:
                self._queue.task_done()

    async def _deliver(self, frame: dict[str, Any]) -> Frame:
        client_msg_id = frame["clientMsgId"]

        def answer(reply: Frame) -> bool:
            if not isinstance(reply, dict):
                return False
            if reply.get("clientMsgId") == client_msg_id:
                return reply.get("type") in ("message", "error") and reply.get("roomId") in (
                    self.room,
                    None,
                )
            return is_gateway_error(reply)

        last: Frame = {"type": "error", "code": "timeout", "clientMsgId": client_msg_id}
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            self.sent.append(frame)
            try:
                reply = await self.client.request(frame, answer, self.timeout)
            except TimeoutError:
                continue  # no answer: the same clientMsgId again
            if reply.get("type") == "message":
                return reply
            last = reply
            if "type" in reply and reply.get("code") not in RETRYABLE:
                return reply  # failed for good: the next message goes
        return last
