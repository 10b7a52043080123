"""Attachments (issue 24) on the shared local stack: the bucket Terraform created on the emulator,
a real presigned POST over HTTP, the message that refers to it, the checks that refuse a file
unlike its declaration (nothing stored), members-only download URLs, and the objects going with
their message.

moto's S3 does not enforce a POST policy (AWS refuses a POST whose size, type or key breaks it:
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html), so here a
too-large or wrongly typed object does reach the bucket, and it is sendAll's HeadObject check
that refuses it: the message is never stored either way."""

from __future__ import annotations

import asyncio

import pytest
import requests

from tests.e2e.support import Client, run
from tests.schema.support import check_server_frame

pytestmark = pytest.mark.e2e

ROOM = "files-e2e"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _post(upload: dict, body: bytes, content_type: str) -> int:
    """The browser's multipart/form-data POST: the fields in order, the file last."""
    fields = list(upload["fields"].items())
    files = [(name, (None, value)) for name, value in fields]
    files.append(("file", ("f", body, content_type)))
    return requests.post(upload["url"], files=files, timeout=30).status_code


def _bucket(stack) -> tuple[object, str]:
    s3 = stack.client("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"] if "-attachments-" in b["Name"]]
    assert len(names) == 1, names
    return s3, names[0]


def test_attachments_upload_send_refuse_download_and_delete_on_the_stack(stack):
    s3, bucket = _bucket(stack)
    # Build the schema check before any connection: compiling it blocks the event loop for
    # longer than the test stack's 10-second idle timeout on a busy machine.
    check_server_frame({"type": "pong"})

    async def prepare(client: Client, name: str, type_: str, size: int) -> dict:
        frame = {"action": "prepareUpload", "roomId": ROOM, "name": name, "type": type_}
        return await client.call({**frame, "size": size}, "upload")

    async def send(client: Client, upload: dict, name: str, type_: str, size: int) -> dict | None:
        ref = {"uploadId": upload["uploadId"], "name": name, "type": type_, "size": size}
        frame = {"action": "sendAll", "roomId": ROOM, "attachments": [ref]}
        return await client.request(
            frame,
            lambda f: (
                (f.get("type") == "message" and f.get("roomId") == ROOM)
                or (f.get("type") == "error" and f.get("action") == "sendAll")
            ),
        )

    async def scenario():
        ana = await Client.connect(stack.url)
        bob = await Client.connect(stack.url)
        eve = await Client.connect(stack.url)
        # The test stack closes connections idle for 10 s; cold functions on a busy machine and
        # the HTTP uploads take longer.
        alive = [c.keepalive(3) for c in (ana, bob, eve)]
        for client, name in ((ana, "ana"), (bob, "bob")):
            await client.call({"action": "join", "roomId": ROOM, "name": name}, "joined")

        # a real presigned POST, then the message that refers to it
        image = await prepare(ana, "dot.png", "image/png", len(PNG))
        status = await asyncio.to_thread(_post, image, PNG, "image/png")
        sent = await send(ana, image, "dot.png", "image/png", len(PNG))
        seen = await bob.expect({"type": "message", "roomId": ROOM})

        # refused, nothing stored: more bytes than declared, another type, not a PNG at all
        refusals = []
        # (the POST's type is the policy's Content-Type field: a client can only send another)
        for body, sent_type, declared_size in (
            (PNG + b"\0" * 10, "image/png", len(PNG)),
            (PNG, "image/gif", len(PNG)),
            (PDF, "image/png", len(PDF)),
        ):
            await asyncio.sleep(1.1)  # prepareUpload's budget: 2 a second per connection
            upload = await prepare(ana, "x.png", "image/png", declared_size)
            assert upload["type"] == "upload", upload
            await asyncio.to_thread(_post, upload, body, "image/png")
            refusals.append(await send(ana, upload, "x.png", sent_type, declared_size))
        too_large = await ana.call({**_prepare_frame("big.png"), "size": 26214401}, "upload")
        page = await bob.call({"action": "history", "roomId": ROOM}, "history")

        # download: a member gets a working URL; a stranger and a member who left get nothing
        ask = {
            "action": "attachmentUrl",
            "roomId": ROOM,
            "messageId": seen["messageId"],
            "uploadId": image["uploadId"],
        }
        url = await bob.call(ask, "attachmentUrl")
        got = await asyncio.to_thread(requests.get, url["url"], timeout=30)
        stranger = await eve.call(ask, "attachmentUrl")
        await bob.call({"action": "leave", "roomId": ROOM}, "left")
        left = await bob.call(ask, "attachmentUrl")

        # deleting the message deletes its object
        await ana.request(
            {"action": "delete", "roomId": ROOM, "messageId": seen["messageId"]},
            {"type": "deleted", "roomId": ROOM},
        )
        for task in alive:
            task.cancel()
        for client in (ana, bob, eve):
            await client.close()
        return status, sent, seen, refusals, too_large, page, got.content, stranger, left, image

    status, sent, seen, refusals, too_large, page, body, stranger, left, image = run(
        scenario(), timeout=300
    )
    assert status == 204
    assert sent["type"] == "message"
    assert seen["attachments"] == [
        {
            "uploadId": image["uploadId"],
            "name": "dot.png",
            "type": "image/png",
            "size": len(PNG),
            "thumbnail": True,
        }
    ]
    assert [r["code"] for r in refusals] == ["bad_request"] * 3, refusals
    assert all("nothing was sent" in r["message"] for r in refusals)
    assert too_large["code"] == "bad_request" and "limit" in too_large["message"]
    assert [m["messageId"] for m in page["messages"]] == [seen["messageId"]]
    assert body == PNG
    assert stranger["code"] == "not_member" and left["code"] == "not_member"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"uploads/{ROOM}/{image['uploadId']}/")
    assert listed.get("KeyCount", 0) == 0


def _prepare_frame(name: str) -> dict:
    return {"action": "prepareUpload", "roomId": ROOM, "name": name, "type": "image/png"}
