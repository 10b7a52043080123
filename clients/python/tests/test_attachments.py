"""The SDK's attachment helpers: the frames it builds, and a real multipart POST of a presigned
upload (botocore's generate_presigned_post) to moto's S3 server, read back."""

from __future__ import annotations

import boto3
import pytest
from moto.server import ThreadedMotoServer

from roomchat_client.attachments import attachment_url, prepare_upload, upload_bytes


def test_the_frames():
    assert prepare_upload("lobby", "a.png", "image/png", 3) == {
        "action": "prepareUpload",
        "roomId": "lobby",
        "name": "a.png",
        "type": "image/png",
        "size": 3,
    }
    frame = attachment_url(
        "lobby", "01HZX3K9Q8V7N6M5K4J3H2G1F0", "01HZX3K9Q8V7N6M5K4J3H2G1F1", True
    )
    assert frame["thumbnail"] is True and frame["action"] == "attachmentUrl"


@pytest.fixture
def s3():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="files")
    yield client
    server.stop()


def test_upload_bytes_posts_the_fields_then_the_file(s3):
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    post = s3.generate_presigned_post(
        Bucket="files",
        Key="uploads/lobby/u1/a.png",
        Fields={"Content-Type": "image/png", "x-amz-meta-uploader": "ana"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", len(data), len(data)]],
    )
    upload = {"url": post["url"], "fields": post["fields"]}
    assert upload_bytes(upload, data, "image/png") == 204
    stored = s3.get_object(Bucket="files", Key="uploads/lobby/u1/a.png")
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "image/png"
    assert stored["Metadata"] == {"uploader": "ana"}
