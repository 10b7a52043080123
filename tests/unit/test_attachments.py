"""Attachments (issue 24) on moto: prepareUpload's presigned POST (its policy pins the key, the
type, the size and the uploader), sendAll's checks of each attachment against its object
(HeadObject, the uploader, the first bytes of an image), attachmentUrl for members only, and the
objects going with their message."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import boto3
import pytest
from botocore.config import Config

from roomchat import handlers, protocol
from roomchat.adapters.attachments import S3AttachmentStore
from tests.unit.conftest import Harness

BUCKET = "attachments"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56
PDF = b"%PDF-1.7\n" + b"x" * 91


@pytest.fixture
def files(chat: Harness):
    """The chat harness with an attachments bucket (moto) wired in."""
    # SigV4, as roomchat.wiring makes the functions' client (presigned URLs included).
    s3 = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket=BUCKET)
    container = handlers.container()
    container.settings = replace(
        container.settings, attachments_bucket=BUCKET, attachment_max_bytes=1000
    )
    chat.settings = container.settings
    container.attachments = S3AttachmentStore(s3, BUCKET)
    chat.s3 = s3
    return chat


def _prepare(chat: Harness, cid: str, name: str, type_: str, size: int, room: str = "lobby"):
    return chat.send(cid, action="prepareUpload", roomId=room, name=name, type=type_, size=size)


def _upload(chat: Harness, reply: dict, body: bytes, content_type: str) -> None:
    """What S3 would store after the browser's POST: the key and fields the policy pins."""
    fields = reply["fields"]
    metadata = {
        k[len("x-amz-meta-") :]: v for k, v in fields.items() if k.startswith("x-amz-meta-")
    }
    chat.s3.put_object(
        Bucket=BUCKET, Key=fields["key"], Body=body, ContentType=content_type, Metadata=metadata
    )


def _policy(reply: dict) -> dict:
    return json.loads(base64.b64decode(reply["fields"]["policy"]))


def _attach(reply: dict, name: str, type_: str, size: int) -> dict:
    return {"uploadId": reply["uploadId"], "name": name, "type": type_, "size": size}


def test_prepare_upload_answers_a_post_whose_policy_pins_key_type_size_and_uploader(files):
    files.connect("c1")
    files.join("c1", "lobby", "ana")
    reply = _prepare(files, "c1", "cat.png", "image/png", 64)
    assert reply["type"] == "upload" and reply["roomId"] == "lobby"
    assert reply["fields"]["key"] == f"uploads/lobby/{reply['uploadId']}/cat.png"
    conditions = _policy(reply)["conditions"]
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 64, 64] in conditions
    assert {"key": reply["fields"]["key"]} in conditions
    assert {"bucket": BUCKET} in conditions
    assert {"x-amz-meta-uploader": "c1"} in conditions
    assert reply["url"] and reply["expiresAt"]


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"name": "a.png", "type": "image/png", "size": 1001}, "limit is 1000"),
        ({"name": "a.exe", "type": "application/x-msdownload", "size": 10}, "'type' must be"),
        ({"name": "../x", "type": "image/png", "size": 10}, "'name' must be"),
        ({"name": "a.png", "type": "image/png", "size": 0}, "'size' must be"),
    ],
)
def test_prepare_upload_refuses_a_bad_declaration(files, declared, message):
    files.connect("c1")
    files.join("c1", "lobby", "ana")
    reply = files.send("c1", action="prepareUpload", roomId="lobby", **declared)
    assert reply["type"] == "error" and reply["code"] == "bad_request"
    assert message in reply["message"]


def test_prepare_upload_is_for_members(files):
    files.connect("c1")
    reply = _prepare(files, "c1", "a.png", "image/png", 10)
    assert reply["code"] == "not_member"


def test_a_checked_attachment_is_sent_stored_and_tagged(files):
    files.connect("c1")
    files.join("c1", "lobby", "ana")
    up = _prepare(files, "c1", "cat.png", "image/png", len(PNG))
    _upload(files, up, PNG, "image/png")
    assert (
        files.send(
            "c1",
            action="sendAll",
            roomId="lobby",
            attachments=[_attach(up, "cat.png", "image/png", len(PNG))],
        )
        is None
    )
    (frame,) = [f for f in files.sender.take("c1") if f["type"] == "message"]
    assert frame["message"] == ""
    assert frame["attachments"] == [
        {
            "uploadId": up["uploadId"],
            "name": "cat.png",
            "type": "image/png",
            "size": len(PNG),
            "thumbnail": True,
        }
    ]
    tags = files.s3.get_object_tagging(Bucket=BUCKET, Key=up["fields"]["key"])["TagSet"]
    assert tags == [{"Key": "attached", "Value": "yes"}]
    history = files.send("c1", action="history", roomId="lobby")
    assert history["messages"][0]["attachments"] == frame["attachments"]


@pytest.mark.parametrize(
    ("body", "stored_type", "declared_type", "declared_size", "why"),
    [
        (PNG, "image/png", "image/png", len(PNG) + 1, "bytes of image/png, not"),  # size
        (PNG, "image/gif", "image/png", len(PNG), "bytes of image/gif, not"),  # type
        (PDF, "image/png", "image/png", len(PDF), "is not a image/png file"),  # bytes
    ],
)
def test_an_attachment_unlike_its_object_is_refused_and_nothing_is_stored(
    files, body, stored_type, declared_type, declared_size, why
):
    files.connect("c1")
    files.join("c1", "lobby", "ana")
    up = _prepare(files, "c1", "x.png", declared_type, declared_size)
    _upload(files, up, body, stored_type)
    reply = files.send(
        "c1",
        action="sendAll",
        roomId="lobby",
        message="look",
        attachments=[_attach(up, "x.png", declared_type, declared_size)],
    )
    assert reply["type"] == "error" and reply["code"] == "bad_request", reply
    assert why in reply["message"] and "nothing was sent" in reply["message"]
    assert files.history_items("lobby") == []
    assert [f for f in files.sender.take("c1") if f["type"] == "message"] == []


def test_an_upload_that_is_missing_or_not_the_senders_is_refused(files):
    for cid, name in (("c1", "ana"), ("c2", "bob")):
        files.connect(cid)
        files.join(cid, "lobby", name)
    up = _prepare(files, "c1", "a.pdf", "application/pdf", len(PDF))
    ref = [_attach(up, "a.pdf", "application/pdf", len(PDF))]
    missing = files.send("c1", action="sendAll", roomId="lobby", attachments=ref)
    assert missing["code"] == "bad_request" and "no upload" in missing["message"]
    _upload(files, up, PDF, "application/pdf")
    theirs = files.send("c2", action="sendAll", roomId="lobby", attachments=ref)
    assert theirs["code"] == "bad_request" and "of yours" in theirs["message"]
    assert files.history_items("lobby") == []


def test_attachment_url_for_members_only_and_delete_removes_the_objects(files):
    for cid in ("c1", "c2", "c3"):
        files.connect(cid)
    files.join("c1", "lobby", "ana")
    files.join("c2", "lobby", "bob")
    up = _prepare(files, "c1", "cat.png", "image/png", len(PNG))
    _upload(files, up, PNG, "image/png")
    thumb = protocol.thumbnail_key("lobby", up["uploadId"])
    files.s3.put_object(Bucket=BUCKET, Key=thumb, Body=b"jpeg", ContentType="image/jpeg")
    files.send(
        "c1",
        action="sendAll",
        roomId="lobby",
        attachments=[_attach(up, "cat.png", "image/png", len(PNG))],
    )
    (msg,) = [f for f in files.sender.take("c2") if f["type"] == "message"]
    ask = {
        "action": "attachmentUrl",
        "roomId": "lobby",
        "messageId": msg["messageId"],
        "uploadId": up["uploadId"],
    }
    url = files.send("c2", **ask)
    assert url["type"] == "attachmentUrl"
    assert url["url"].split("?")[0].endswith(f"/{up['uploadId']}/cat.png")
    assert "X-Amz-Signature=" in url["url"] and "X-Amz-Expires=300" in url["url"]
    assert files.send("c2", **ask, thumbnail=True)["url"].split("?")[0].endswith(".jpg")
    assert files.send("c3", **ask)["code"] == "not_member"  # a stranger
    other = files.send("c2", **{**ask, "uploadId": "01J00000000000000000000000"})
    assert other["code"] == "not_found"

    assert files.send("c1", action="delete", roomId="lobby", messageId=msg["messageId"]) is None
    keys = [o["Key"] for o in files.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == []
    gone = files.send("c2", **ask)
    assert gone["code"] == "not_found"


def test_a_pdf_is_a_download_and_an_image_is_shown(files):
    files.connect("c1")
    files.join("c1", "lobby", "ana")
    up = _prepare(files, "c1", "notes.pdf", "application/pdf", len(PDF))
    _upload(files, up, PDF, "application/pdf")
    files.send(
        "c1",
        action="sendAll",
        roomId="lobby",
        message="notes",
        attachments=[_attach(up, "notes.pdf", "application/pdf", len(PDF))],
    )
    (msg,) = [f for f in files.sender.take("c1") if f["type"] == "message"]
    assert "thumbnail" not in msg["attachments"][0]
    url = files.send(
        "c1",
        action="attachmentUrl",
        roomId="lobby",
        messageId=msg["messageId"],
        uploadId=up["uploadId"],
    )
    assert "response-content-disposition=attachment" in url["url"]


def test_attachments_need_a_bucket(chat):
    chat.connect("c1")
    chat.join("c1", "lobby", "ana")
    reply = chat.send(
        "c1", action="prepareUpload", roomId="lobby", name="a.png", type="image/png", size=3
    )
    assert reply["code"] == "bad_request" and "not enabled" in reply["message"]


@pytest.mark.parametrize(
    ("content_type", "head", "ok"),
    [
        ("image/png", PNG[:16], True),
        ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 12, True),
        ("image/gif", b"GIF89a" + b"\x00" * 10, True),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
        ("image/png", b"\xff\xd8\xff\xe0" + b"\x00" * 12, False),
        ("image/jpeg", b"<svg xmlns=", False),
        ("image/svg+xml", b"<svg xmlns=", False),  # an image type we cannot check
        ("application/pdf", b"anything", True),  # not shown inline: served as a download
    ],
)
def test_sniffing_by_signature(content_type, head, ok):
    assert protocol.matches_type(content_type, head) is ok
