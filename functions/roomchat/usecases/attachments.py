"""Attachments (issue 24): a member prepares an upload (a presigned POST straight to S3), sends
a message that refers to it (checked against the object: size, type, uploader and, for
images, the first bytes), and members ask for a short-lived download URL. Deleting the message
deletes its objects. No file passes through a function."""

from __future__ import annotations

from typing import Any

from .. import logs, protocol
from ..errors import BadRequest, Internal, NotFound
from ..ports import Attachment, AttachmentStore, Message
from . import policy
from .core import Caller, Deps, iso_ms

# The metadata the POST policy pins: who uploaded (only they may attach it).
UPLOADER = "uploader"


def _store(deps: Deps, room_id: str) -> AttachmentStore:
    if deps.attachments is None:
        raise BadRequest("attachments are not enabled on this server", room_id=room_id)
    return deps.attachments


def prepare_upload(
    deps: Deps, caller: Caller, req: protocol.PrepareUploadRequest
) -> dict[str, Any]:
    """A presigned POST for one declared file in a room the caller is a member of."""
    store = _store(deps, req.room_id)
    policy.require_reader(deps, req.room_id, caller)
    policy.check_budget(deps, caller, req.room_id, "prepareUpload", "no upload was prepared")
    now = deps.clock()
    upload_id = deps.new_id(now)
    seconds = deps.settings.attachment_url_seconds
    url, fields = store.presign_post(
        protocol.object_key(req.room_id, upload_id, req.file.name),
        req.file.type,
        req.file.size,
        {UPLOADER: caller.identity},
        seconds,
    )
    logs.info("upload_prepared", uploadId=upload_id, size=req.file.size, contentType=req.file.type)
    return protocol.upload_frame(req.room_id, upload_id, url, fields, iso_ms(now + seconds * 1000))


def verified(
    deps: Deps, caller: Caller, room_id: str, refs: tuple[protocol.AttachmentRef, ...]
) -> tuple[Attachment, ...]:
    """The attachments of a message about to be stored, each checked against its object:
    it exists in this room's uploads, this caller uploaded it, its size and type are the
    declared ones and an image's first bytes are of its type. Any mismatch: ``BadRequest``,
    before anything is stored. Then each is tagged attached (the lifecycle rule spares it)."""
    if not refs:
        return ()
    store = _store(deps, room_id)
    for ref in refs:
        key = protocol.object_key(room_id, ref.upload_id, ref.file.name)
        found = store.head(key)
        if found is None or found.metadata.get(UPLOADER) != caller.identity:
            raise BadRequest(
                f"no upload {ref.upload_id} named {ref.file.name!r} of yours in this room; "
                "nothing was sent",
                room_id=room_id,
            )
        if found.size != ref.file.size or found.content_type != ref.file.type:
            raise BadRequest(
                f"{ref.file.name!r} is {found.size} bytes of {found.content_type}, not "
                f"{ref.file.size} bytes of {ref.file.type}; nothing was sent",
                room_id=room_id,
            )
        head = store.first_bytes(key, protocol.SNIFF_BYTES)
        if not protocol.matches_type(ref.file.type, head):
            raise BadRequest(
                f"{ref.file.name!r} is not a {ref.file.type} file; nothing was sent",
                room_id=room_id,
            )
    for ref in refs:
        store.mark_attached(protocol.object_key(room_id, ref.upload_id, ref.file.name))
    return tuple(Attachment(r.upload_id, r.file.name, r.file.type, r.file.size) for r in refs)


def object_keys(msg: Message) -> list[str]:
    """Every object a message's attachments hold: the files and their thumbnails."""
    keys = []
    for a in msg.attachments:
        keys.append(protocol.object_key(msg.room_id, a.upload_id, a.name))
        if protocol.is_image(a.type):
            keys.append(protocol.thumbnail_key(msg.room_id, a.upload_id))
    return keys


def delete_objects(deps: Deps, msg: Message) -> None:
    """Deleting a message deletes its files (and their thumbnails)."""
    if not msg.attachments:
        return
    if deps.attachments is None:
        raise Internal("attachments are not configured", room_id=msg.room_id)
    deps.attachments.delete(object_keys(msg))
    logs.info("attachments_deleted", messageId=msg.message_id, count=len(msg.attachments))


def attachment_url(
    deps: Deps, caller: Caller, req: protocol.AttachmentUrlRequest
) -> dict[str, Any]:
    """A presigned GET of one attachment (or its thumbnail) of a message of the room, for a
    member of the room only; valid for ATTACHMENT_URL_SECONDS."""
    store = _store(deps, req.room_id)
    policy.require_reader(deps, req.room_id, caller)
    policy.check_budget(deps, caller, req.room_id, "attachmentUrl", "no URL was made")
    msg = deps.history.get(req.room_id, req.message_id, req.reply_to)
    found = None
    if msg is not None and not msg.deleted:
        found = next((a for a in msg.attachments if a.upload_id == req.upload_id), None)
    if found is None or (req.thumbnail and not protocol.is_image(found.type)):
        raise NotFound(
            f"no attachment {req.upload_id} on message {req.message_id}", room_id=req.room_id
        )
    now = deps.clock()
    seconds = deps.settings.attachment_url_seconds
    if req.thumbnail:
        url = store.presign_get(protocol.thumbnail_key(req.room_id, found.upload_id), seconds, None)
    else:
        # Images are shown inline; any other file is served as a download.
        name = None if protocol.is_image(found.type) else found.name
        url = store.presign_get(
            protocol.object_key(req.room_id, found.upload_id, found.name), seconds, name
        )
    return protocol.attachment_url_frame(req, url, iso_ms(now + seconds * 1000))
