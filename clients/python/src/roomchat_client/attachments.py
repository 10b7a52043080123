"""Attachments (issue 24): upload a file straight to S3 with the presigned POST ``prepareUpload``
answers, send it with a message, and ask for a download URL (members only).

``upload_bytes`` posts the form with the standard library (multipart/form-data: the policy's
fields in order, the file last), so the SDK needs no HTTP library.
"""

from __future__ import annotations

import asyncio
import mimetypes
import urllib.request
import uuid
from pathlib import Path
from typing import Any, cast

from roomchat_client import frames as f
from roomchat_client.protocol import Frame


def prepare_upload(room: str, name: str, content_type: str, size: int) -> f.PrepareUploadRequest:
    return cast(
        f.PrepareUploadRequest,
        {
            "action": "prepareUpload",
            "roomId": room,
            "name": name,
            "type": content_type,
            "size": size,
        },
    )


def attachment_url(
    room: str, message_id: str, upload_id: str, thumbnail: bool = False
) -> f.AttachmentUrlRequest:
    frame: f.AttachmentUrlRequest = {
        "action": "attachmentUrl",
        "roomId": room,
        "messageId": message_id,
        "uploadId": upload_id,
    }
    if thumbnail:
        frame["thumbnail"] = True
    return frame


def multipart(fields: dict[str, str], data: bytes, content_type: str) -> tuple[bytes, str]:
    """The POST's body and its Content-Type header: the fields in order, the file last."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    body = b"".join(parts) + head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload_bytes(upload: Frame, data: bytes, content_type: str, timeout: float = 60) -> int:
    """POST ``data`` with an ``upload`` frame's URL and fields; S3's status (204 when stored)."""
    body, header = multipart(dict(upload["fields"]), data, content_type)
    request = urllib.request.Request(
        upload["url"], data=body, method="POST", headers={"Content-Type": header}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


class Attachments:
    """The attachment actions (a mixin of ``Client``)."""

    async def call(self, frame: Any, reply_type: str, timeout: float | None = None) -> Frame:
        raise NotImplementedError

    async def send(self, frame: Any) -> None:
        raise NotImplementedError

    async def prepare_upload(self, room: str, name: str, content_type: str, size: int) -> Frame:
        """A presigned POST for one file: ``upload`` (or the error frame)."""
        return await self.call(prepare_upload(room, name, content_type, size), "upload")

    async def attach_file(
        self, room: str, path: str | Path, content_type: str | None = None
    ) -> Frame:
        """Prepare, upload ``path`` and answer the attachment to send (``{uploadId, name, type,
        size}``); an error frame when the server refused it."""
        path = Path(path)
        data = path.read_bytes()
        kind = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        upload = await self.prepare_upload(room, path.name, kind, len(data))
        if upload.get("type") != "upload":
            return upload
        await asyncio.to_thread(upload_bytes, upload, data, kind)
        return {"uploadId": upload["uploadId"], "name": path.name, "type": kind, "size": len(data)}

    async def send_files(self, room: str, attachments: list[Any], text: str | None = None) -> None:
        """``sendAll`` with ``attachments`` (and text): the message frame is the ack."""
        frame: dict[str, Any] = {"action": "sendAll", "roomId": room, "attachments": attachments}
        if text:
            frame["message"] = text
        await self.send(frame)

    async def attachment_url(
        self, room: str, message_id: str, upload_id: str, thumbnail: bool = False
    ) -> Frame:
        """A presigned GET of a message's file (or its thumbnail): ``attachmentUrl``."""
        return await self.call(
            attachment_url(room, message_id, upload_id, thumbnail), "attachmentUrl"
        )
