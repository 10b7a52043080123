"""The fan-out tier's queue message: one chunk of a big room's recipients (ports.FanoutJob) as
the JSON text of one SQS message body, and back.

The frame travels as a JSON object (not as a string inside the JSON), so its size in the body
is its size on the wire, with no second escaping. SQS message bodies may hold any Unicode
character except a few control characters, which JSON escapes anyway:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
"""

from __future__ import annotations

import json
from typing import Any

from .notification_ports import NotifyJob
from .ports import FanoutJob

# SQS's maximum message size (and the maximum of one SendMessageBatch's total payload) is
# 256 KiB: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
SQS_MAX_BYTES = 256 * 1024
# A chunk's body stays well within it: a 32 KB frame plus ~1,000 connection ids (~20 bytes
# each as JSON) is ~55 KB, so four chunks still fit one batch call.
BODY_BUDGET_BYTES = 200 * 1024


def encode(job: FanoutJob) -> str:
    body = {
        "v": 1,
        "messageId": job.message_id,
        "roomId": job.room_id,
        "endpoint": job.endpoint,
        "chunk": job.chunk,
        "attempt": job.attempt,
        "frame": json.loads(job.frame),
        "to": list(job.recipients),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def size(job: FanoutJob) -> int:
    return len(encode(job).encode("utf-8"))


class BadJob(ValueError):
    """A queue message that is not a fan-out chunk (it can never succeed: it is dropped)."""


def decode(body: str) -> FanoutJob:
    try:
        raw: Any = json.loads(body)
        if not isinstance(raw, dict) or raw.get("v") != 1:
            raise BadJob("not a version 1 fan-out chunk")
        to = raw["to"]
        if not isinstance(to, list) or not all(isinstance(c, str) for c in to):
            raise BadJob("'to' must be a list of connection ids")
        frame = json.dumps(raw["frame"], ensure_ascii=False, separators=(",", ":"))
        return FanoutJob(
            message_id=str(raw["messageId"]),
            room_id=str(raw["roomId"]),
            endpoint=str(raw["endpoint"]),
            frame=frame,
            recipients=tuple(to),
            chunk=int(raw["chunk"]),
            attempt=int(raw["attempt"]),
        )
    except BadJob:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise BadJob(f"malformed fan-out chunk: {type(e).__name__}: {e}") from None


def split(job_recipients: list[str], chunk_size: int, frame_bytes: int) -> list[list[str]]:
    """The recipients in chunks of at most ``chunk_size`` whose bodies fit BODY_BUDGET_BYTES
    beside a frame of ``frame_bytes``."""
    room = max(1, BODY_BUDGET_BYTES - frame_bytes - 512)
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for cid in job_recipients:
        cost = len(cid.encode("utf-8")) + 3  # quotes and comma
        if current and (len(current) >= chunk_size or used + cost > room):
            chunks.append(current)
            current, used = [], 0
        current.append(cid)
        used += cost
    if current:
        chunks.append(current)
    return chunks


def encode_notify(job: NotifyJob) -> str:
    """A `notify` job: which stored message to consider (the worker reads it from history, so
    no text travels on the queue)."""
    body = {"v": 1, "kind": "notify", "roomId": job.room_id, "messageId": job.message_id}
    if job.reply_to:
        body["replyTo"] = job.reply_to
    return json.dumps(body, separators=(",", ":"))


def decode_notify(body: str) -> NotifyJob:
    try:
        raw: Any = json.loads(body)
    except ValueError:
        raise BadJob("not JSON") from None
    if not isinstance(raw, dict) or raw.get("v") != 1 or raw.get("kind") != "notify":
        raise BadJob("not a version 1 notify job")
    room_id, message_id, reply_to = raw.get("roomId"), raw.get("messageId"), raw.get("replyTo")
    if not isinstance(room_id, str) or not isinstance(message_id, str):
        raise BadJob("'roomId' and 'messageId' must be strings")
    if reply_to is not None and not isinstance(reply_to, str):
        raise BadJob("'replyTo' must be a string")
    return NotifyJob(room_id, message_id, reply_to)
