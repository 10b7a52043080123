"""Pushes (notification_ports.PushSender, MobilePush, NotifyQueue): Web Push through http_ece
(aes128gcm encryption, RFC 8291) and py_vapid (VAPID, RFC 8292), mobile tokens through SNS platform
endpoints, and the queue to the `notify` worker on SQS.

Only the `notify` function builds a ``WebPushSender`` (it imports py_vapid, http_ece and
cryptography: their cold-start cost is in docs/notifications.md); the chat functions
only queue jobs and register devices.

Push services answer 201 Created for an accepted push (RFC 8030, section 5); 404 Not Found
or 410 Gone mean the subscription has expired or was removed and must not be used again
(RFC 8030, section 7.3; https://web.dev/articles/push-notifications-common-issues-and-reporting-bugs).
SNS answers EndpointDisabled once a platform (FCM, APNs) has rejected the token:
https://docs.aws.amazon.com/sns/latest/dg/mobile-push-send-devicetoken.html
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from .. import jobs, logs
from ..notification_ports import Device, NotifyJob, PushOutcome

GONE_STATUSES = (404, 410)


class SqsNotifyQueue:
    """notification_ports.NotifyQueue: one SendMessage per stored message."""

    def __init__(self, client: Any, queue_name: str):
        self._sqs = client
        self._name = queue_name
        self._url: str | None = None

    def enqueue(self, job: NotifyJob) -> bool:
        try:
            if self._url is None:
                self._url = str(self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"])
            self._sqs.send_message(QueueUrl=self._url, MessageBody=jobs.encode_notify(job))
        except (ClientError, BotoCoreError) as e:
            logs.warning("notify_enqueue_failed", error=type(e).__name__, detail=str(e)[:200])
            return False
        return True


class WebPushSender:
    """Web Push (RFC 8030) with the libraries pywebpush itself is built on: http_ece for the
    aes128gcm encryption to the subscription's keys (RFC 8291: an ephemeral P-256 key per
    push, its public key as the record header's keyid) and py_vapid for the VAPID JWT (RFC
    8292: aud = the endpoint's origin, exp 12 h ahead, sub the operator's contact), posted
    with the standard library's http.client. Not pywebpush: it imports aiohttp and requests
    at import time, which doubled this function's cold start (docs/notifications.md)."""

    def __init__(self, vapid_private_key: str, subject: str, timeout_s: float = 5.0):
        # Loaded here: only the notify function pays for them.
        from py_vapid import Vapid  # type: ignore[import-untyped]

        self._vapid = Vapid.from_string(private_key=vapid_private_key)
        self._subject = subject
        self._timeout = timeout_s
        self._signed: dict[str, tuple[int, str]] = {}  # origin -> (exp, Authorization)

    def _authorization(self, origin: str) -> str:
        """One VAPID JWT per push service origin, reused until an hour before it expires."""
        now = int(time.time())
        cached = self._signed.get(origin)
        if cached is None or cached[0] - now < 3600:
            exp = now + 12 * 3600
            headers = self._vapid.sign({"aud": origin, "exp": exp, "sub": self._subject})
            cached = (exp, str(headers["Authorization"]))
            self._signed[origin] = cached
        return cached[1]

    def _encrypt(self, device: Device, payload: bytes) -> bytes:
        import http_ece  # type: ignore[import-untyped]
        from cryptography.hazmat.primitives.asymmetric import ec

        def raw(value: str) -> bytes:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))

        body: bytes = http_ece.encrypt(
            payload,
            salt=os.urandom(16),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=raw(device.p256dh),
            auth_secret=raw(device.auth),
            version="aes128gcm",
        )
        return body

    def push(self, device: Device, payload: bytes, ttl_s: int) -> PushOutcome:
        parts = urlsplit(device.endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        headers = {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl_s),
            "Urgency": "normal",
            "Authorization": self._authorization(origin),
        }
        conn_type = (
            http.client.HTTPSConnection if parts.scheme == "https" else (http.client.HTTPConnection)
        )
        conn = conn_type(parts.netloc, timeout=self._timeout)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("POST", path or "/", body=self._encrypt(device, payload), headers=headers)
            resp = conn.getresponse()
            status, detail = resp.status, resp.read(200)
        except (OSError, http.client.HTTPException) as e:
            logs.warning("push_failed", error=type(e).__name__, detail=str(e)[:200])
            return PushOutcome.FAILED
        finally:
            conn.close()
        if status in GONE_STATUSES:
            return PushOutcome.GONE
        if not 200 <= status < 300:
            logs.warning("push_failed", status=status, detail=detail.decode("utf-8", "replace"))
            return PushOutcome.FAILED
        return PushOutcome.DELIVERED


class SnsMobilePush:
    """notification_ports.MobilePush and the mobile half of PushSender, on SNS."""

    def __init__(self, client: Any, apps: dict[str, str]):
        self._sns = client
        self._apps = apps

    def endpoint_for(self, platform: str, token: str, user_id: str) -> str:
        app = self._apps.get(platform)
        if app is None:
            from ..errors import BadRequest

            raise BadRequest(f"mobile platform {platform!r} is not configured")
        try:
            resp = self._sns.create_platform_endpoint(
                PlatformApplicationArn=app, Token=token, CustomUserData=user_id[:2048]
            )
        except (ClientError, BotoCoreError) as e:
            from ..errors import StorageError

            raise StorageError(f"CreatePlatformEndpoint failed: {type(e).__name__}") from e
        return str(resp["EndpointArn"])

    def push(self, device: Device, payload: bytes, ttl_s: int) -> PushOutcome:
        body = json.loads(payload)
        text = f"{body.get('sender')}: {body.get('excerpt') or ''}"[:200]
        message = {
            "default": text,
            "GCM": json.dumps(
                {
                    "notification": {"title": body.get("roomId"), "body": text},
                    "data": {"url": body.get("url")},
                }
            ),
            "APNS": json.dumps(
                {
                    "aps": {"alert": {"title": body.get("roomId"), "body": text}},
                    "url": body.get("url"),
                }
            ),
        }
        message["APNS_SANDBOX"] = message["APNS"]
        try:
            self._sns.publish(
                TargetArn=device.endpoint_arn, Message=json.dumps(message), MessageStructure="json"
            )
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code in ("EndpointDisabled", "NotFound"):
                return PushOutcome.GONE
            logs.warning("push_failed", error=code)
            return PushOutcome.FAILED
        except BotoCoreError as e:
            logs.warning("push_failed", error=type(e).__name__)
            return PushOutcome.FAILED
        return PushOutcome.DELIVERED


class Pushers:
    """notification_ports.PushSender: each device through its kind's sender."""

    def __init__(self, web: WebPushSender | None, mobile: SnsMobilePush | None):
        self._web = web
        self._mobile = mobile

    def push(self, device: Device, payload: bytes, ttl_s: int) -> PushOutcome:
        sender = self._web if device.kind == "webpush" else self._mobile
        if sender is None:
            logs.warning("push_unconfigured", kind=device.kind)
            return PushOutcome.FAILED
        return sender.push(device, payload, ttl_s)
