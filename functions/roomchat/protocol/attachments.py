"""Attachments (issue 24): ``prepareUpload`` (a presigned S3 POST for one declared file),
``attachments`` on ``sendAll``, and ``attachmentUrl`` (a presigned GET for members). Pure: the
checks of what a client declares, the object keys, the frames, and the sniffing of an image's
first bytes.

Sniffing is a table of the four image formats' signatures (below), not a library: the formats
we preview are few and their signatures fixed by their specifications, the check reads 16
bytes, and it costs nothing at cold start (``filetype``/``puremagic`` would add an import and
hundreds of signatures we would never use for one decision: is this the image it claims?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .common import check_room_id
from .messages import check_message_id, check_reply_to

# At most this many files on one message, and this long a file name (UTF-8 characters).
ATTACHMENTS_MAX = 10
FILE_NAME_MAX = 100
# How many first bytes the sniffing reads (a ranged GET).
SNIFF_BYTES = 16
UPLOAD_ID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}\Z")  # a ULID, as the server makes them
# A file name (docs/asyncapi.yaml FileName, the same pattern): nothing that changes a key's
# meaning or a header's (no / \ " or control characters), no space at either end, no lone
# surrogate, not "." or "..".
_NAME_CHAR = r'[^/\\"\x00-\x1f\x7f\ud800-\udfff]'
_NAME_END = r'[^/\\"\x00-\x20\x7f\ud800-\udfff]'
FILE_NAME_RE = re.compile(
    rf"^(?!\.\.?(?![\s\S])){_NAME_END}(?:{_NAME_CHAR}{{0,{FILE_NAME_MAX - 2}}}{_NAME_END})?\Z"
)


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


# The signatures of the image types a client may declare (the first bytes of every such file):
# PNG (RFC 2083, 3.1), JPEG (SOI marker then a marker, ITU T.81), GIF (87a/89a header),
# WebP (a RIFF container of form type WEBP, RFC 9649, 2.5). A declared image/* type not in this
# table is refused: what cannot be checked is not previewed.
IMAGE_SIGNATURES: dict[str, Any] = {
    "image/png": lambda h: h[:8] == b"\x89PNG\r\n\x1a\n",
    "image/jpeg": lambda h: h[:3] == b"\xff\xd8\xff",
    "image/gif": lambda h: h[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": _webp,
}


def is_image(content_type: str) -> bool:
    return content_type.startswith("image/")


def matches_type(content_type: str, head: bytes) -> bool:
    """Whether a file's first bytes are those of its declared type: checked for images
    (``IMAGE_SIGNATURES``), which the chat shows inline; other types are served as downloads
    with their declared type and ``Content-Disposition: attachment``."""
    if not is_image(content_type):
        return True
    check = IMAGE_SIGNATURES.get(content_type)
    return bool(check and check(head))


@dataclass(frozen=True)
class FileDecl:
    """A file as its client declares it."""

    name: str
    type: str
    size: int


@dataclass(frozen=True)
class PrepareUploadRequest:
    room_id: str
    file: FileDecl


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment of a ``sendAll``: an upload of ``prepareUpload`` and what it holds."""

    upload_id: str
    file: FileDecl


@dataclass(frozen=True)
class AttachmentUrlRequest:
    room_id: str
    message_id: str
    upload_id: str
    reply_to: str | None
    thumbnail: bool


def check_file_name(value: object) -> str:
    if not isinstance(value, str) or not FILE_NAME_RE.match(value):
        raise BadRequest(
            f"'name' must be a file name of 1-{FILE_NAME_MAX} characters, without / \\ \" "
            "or control characters and no space at either end"
        )
    return value


def check_file(
    frame: dict[str, Any], max_bytes: int, allowed: tuple[str, ...], where: str = ""
) -> FileDecl:
    name = check_file_name(frame.get("name"))
    content_type = frame.get("type")
    if not isinstance(content_type, str) or content_type not in allowed:
        raise BadRequest(f"{where}'type' must be one of: " + ", ".join(allowed))
    size = frame.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise BadRequest(f"{where}'size' must be the file's size in bytes (1 or more)")
    if size > max_bytes:
        raise BadRequest(f"{where}the file is {size} bytes; the limit is {max_bytes} bytes")
    return FileDecl(name, content_type, size)


def parse_prepare_upload(
    frame: dict[str, Any], max_bytes: int, allowed: tuple[str, ...]
) -> PrepareUploadRequest:
    return PrepareUploadRequest(
        check_room_id(frame.get("roomId")), check_file(frame, max_bytes, allowed)
    )


def check_attachments(
    value: object, max_bytes: int, allowed: tuple[str, ...]
) -> tuple[AttachmentRef, ...]:
    """``sendAll``'s optional ``attachments``: 1-ATTACHMENTS_MAX distinct uploads."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value or len(value) > ATTACHMENTS_MAX:
        raise BadRequest(f"'attachments' must be a list of 1-{ATTACHMENTS_MAX} uploads")
    refs = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRequest("each attachment must be {uploadId, name, type, size}")
        refs.append(
            AttachmentRef(
                check_upload_id(item.get("uploadId")),
                check_file(item, max_bytes, allowed, f"attachments[{i}]: "),
            )
        )
    if len({r.upload_id for r in refs}) != len(refs):
        raise BadRequest("an upload may be attached once per message")
    return tuple(refs)


def check_upload_id(value: object) -> str:
    if not isinstance(value, str) or not UPLOAD_ID_RE.match(value):
        raise BadRequest("'uploadId' must be the uploadId prepareUpload answered")
    return value


def parse_attachment_url(frame: dict[str, Any]) -> AttachmentUrlRequest:
    thumbnail = frame.get("thumbnail", False)
    if not isinstance(thumbnail, bool):
        raise BadRequest("'thumbnail' must be true or false")
    return AttachmentUrlRequest(
        check_room_id(frame.get("roomId")),
        check_message_id(frame.get("messageId")),
        check_upload_id(frame.get("uploadId")),
        check_reply_to(frame.get("replyTo")),
        thumbnail,
    )


# ---------------------------------------------------------------------------- keys


def object_key(room_id: str, upload_id: str, name: str) -> str:
    """Where an upload lives: under uploads/ (what the lifecycle rule and the grants name)."""
    return f"uploads/{room_id}/{upload_id}/{name}"


def thumbnail_key(room_id: str, upload_id: str) -> str:
    """Where the thumbnail function writes an image's preview (a JPEG)."""
    return f"thumbs/{room_id}/{upload_id}.jpg"


def thumbnail_key_of(key: str) -> str | None:
    """The thumbnail key of an upload's object key (None when it is not one)."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "uploads":
        return None
    return thumbnail_key(parts[1], parts[2])


# ---------------------------------------------------------------------------- frames


def attachment_entry(upload_id: str, name: str, content_type: str, size: int) -> dict[str, Any]:
    """An attachment as a message frame carries it: what a client shows and needs to ask for
    a URL (``attachmentUrl``); ``thumbnail``: a preview may exist (images)."""
    entry: dict[str, Any] = {
        "uploadId": upload_id,
        "name": name,
        "type": content_type,
        "size": size,
    }
    if is_image(content_type):
        entry["thumbnail"] = True
    return entry


def upload_frame(
    room_id: str, upload_id: str, url: str, fields: dict[str, str], expires_at: str
) -> dict[str, Any]:
    """``prepareUpload``'s answer: POST the file as multipart/form-data to ``url`` with
    ``fields`` (in order) and the file last, before ``expiresAt``."""
    return {
        "type": "upload",
        "roomId": room_id,
        "uploadId": upload_id,
        "url": url,
        "fields": fields,
        "expiresAt": expires_at,
    }


def attachment_url_frame(req: AttachmentUrlRequest, url: str, expires_at: str) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "attachmentUrl",
        "roomId": req.room_id,
        "messageId": req.message_id,
        "uploadId": req.upload_id,
        "url": url,
        "expiresAt": expires_at,
    }
    if req.thumbnail:
        frame["thumbnail"] = True
    return frame
