"""The attachments bucket (ports.AttachmentStore) on S3, through an injected botocore client.

- The upload is a presigned POST made by botocore's ``generate_presigned_post``; its policy pins
  the exact key, the exact ``Content-Type``, the ``content-length-range`` (exactly the declared
  size), the uploader's metadata and the ``attached=no`` tag, and expires in a few minutes. S3
  refuses a POST that breaks any condition:
  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
- ``head`` is HeadObject (authorized as s3:GetObject; a missing object is a 404 without a body):
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
- ``first_bytes`` is a ranged GetObject (``Range: bytes=0-N``).
- ``mark_attached`` replaces the object's tags with attached=yes (PutObjectTagging), so the
  lifecycle rule that deletes unattached uploads after a day spares it.
- ``presign_get`` is ``generate_presigned_url`` of GetObject; a download is served with
  ``Content-Disposition: attachment`` (response-content-disposition), so a file is never
  rendered as a page of the bucket's origin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from ..errors import StorageError
from ..ports import StoredObject

# The tag set of a fresh upload, as S3's POST form field `tagging` takes it (XML).
UNATTACHED_TAGGING = (
    "<Tagging><TagSet><Tag><Key>attached</Key><Value>no</Value></Tag></TagSet></Tagging>"
)


class S3AttachmentStore:
    def __init__(self, client: Any, bucket: str):
        self._client = client
        self._bucket = bucket

    def presign_post(
        self, key: str, content_type: str, size: int, metadata: dict[str, str], seconds: int
    ) -> tuple[str, dict[str, str]]:
        fields: dict[str, str] = {"Content-Type": content_type, "tagging": UNATTACHED_TAGGING}
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", size, size],
            {"tagging": UNATTACHED_TAGGING},
        ]
        for name, value in metadata.items():
            fields[f"x-amz-meta-{name}"] = value
            conditions.append({f"x-amz-meta-{name}": value})
        post = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=seconds,
        )
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}

    def head(self, key: str) -> StoredObject | None:
        try:
            resp = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"HeadObject failed: {e}") from e
        return StoredObject(
            size=int(resp.get("ContentLength", -1)),
            content_type=str(resp.get("ContentType", "")),
            metadata={str(k).lower(): str(v) for k, v in (resp.get("Metadata") or {}).items()},
        )

    def first_bytes(self, key: str, count: int) -> bytes:
        try:
            resp = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{count - 1}"
            )
            with resp["Body"] as body:
                data: bytes = body.read(count)
        except ClientError as e:
            raise StorageError(f"GetObject failed: {e}") from e
        return data

    def mark_attached(self, key: str) -> None:
        try:
            self._client.put_object_tagging(
                Bucket=self._bucket,
                Key=key,
                Tagging={"TagSet": [{"Key": "attached", "Value": "yes"}]},
            )
        except ClientError as e:
            raise StorageError(f"PutObjectTagging failed: {e}") from e

    def presign_get(self, key: str, seconds: int, download_name: str | None) -> str:
        params: dict[str, str] = {"Bucket": self._bucket, "Key": key}
        if download_name is not None:
            # RFC 6266 with RFC 5987's filename* for names beyond ASCII.
            params["ResponseContentDisposition"] = (
                f"attachment; filename*=UTF-8''{quote(download_name, safe='')}"
            )
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=seconds
        )
        return url

    def delete(self, keys: list[str]) -> None:
        for key in keys:  # a message has at most ATTACHMENTS_MAX files (and their thumbnails)
            try:
                self._client.delete_object(Bucket=self._bucket, Key=key)
            except ClientError as e:
                raise StorageError(f"DeleteObject failed: {e}") from e


class LazyS3AttachmentStore(S3AttachmentStore):
    """An ``S3AttachmentStore`` whose client is made on first use (creating a botocore S3
    client costs a cold start tens of milliseconds, which only the functions that touch
    attachments should pay)."""

    def __init__(self, make_client: Callable[[], Any], bucket: str):
        super().__init__(None, bucket)
        self._make_client = make_client
        self._lock = threading.Lock()

    def __getattribute__(self, name: str) -> Any:
        if name == "_client" and object.__getattribute__(self, "__dict__")["_client"] is None:
            with object.__getattribute__(self, "_lock"):
                if object.__getattribute__(self, "__dict__")["_client"] is None:
                    self.__dict__["_client"] = object.__getattribute__(self, "_make_client")()
        return object.__getattribute__(self, name)
