"""Notifications for away members: registering a device (a Web Push subscription, or a mobile
token for an SNS platform application), removing it, and a room's notification level; and the
payload a push carries.

A Web Push subscription is what the browser's ``PushSubscription.toJSON()`` gives:
``{"endpoint": "https://...", "keys": {"p256dh": <base64url>, "auth": <base64url>}}``.
``p256dh`` is the browser's P-256 public key as an uncompressed point (65 bytes, first 0x04)
and ``auth`` its 16-byte authentication secret (RFC 8291, section 3). The endpoint must be
https (RFC 8030, section 8: the push service's URL is https); the local stack's stand-in on a
loopback address is allowed only when the deployment says so (``allow_loopback``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .common import check_room_id, excerpt

LEVELS = ("all", "mentions", "none")
LEVEL_DEFAULT = "mentions"
ENDPOINT_MAX = 2048  # browsers' endpoints are a few hundred characters
TOKEN_MAX = 4096
PLATFORMS = ("fcm", "apns", "apns_sandbox")
DEVICES_MAX = 10  # devices one user may register (the oldest is not evicted: a clear error)
# base64url of a 65-byte uncompressed P-256 point (first byte 0x04: "B" then A-P) and of a
# 16-byte secret, unpadded or with their one or two '=' (RFC 8291, 3; the same as the schema's).
P256DH_RE = re.compile(r"^B[A-P][A-Za-z0-9_-]{84}[AEIMQUYcgkosw048]=?\Z")
AUTH_RE = re.compile(r"^[A-Za-z0-9_-]{21}[AQgw](==)?\Z")
ENDPOINT_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?\Z")
LOOPBACK_RE = re.compile(r"^http://(127\.0\.0\.1|localhost)(:[0-9]{1,5})?(/[!-~]*)?\Z")
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
TOKEN_RE = re.compile(r"^[!-~]{1,4096}\Z")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class WebPushSubscription:
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class MobileToken:
    platform: str
    token: str


@dataclass(frozen=True)
class RegisterDeviceRequest:
    device: WebPushSubscription | MobileToken

    @property
    def device_id(self) -> str:
        return device_id_of(self.device)


@dataclass(frozen=True)
class DeviceRef:
    device_id: str


@dataclass(frozen=True)
class NotifyLevelRequest:
    room_id: str
    level: str


def device_id_of(device: WebPushSubscription | MobileToken) -> str:
    """A stable id for a device: the same subscription registered again is the same device."""
    what = device.endpoint if isinstance(device, WebPushSubscription) else device.token
    kind = "webpush" if isinstance(device, WebPushSubscription) else device.platform
    digest = hashlib.sha256(f"{kind}\n{what}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _key(value: object, field: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise BadRequest(f"'{field}' must be {what}, base64url")
    return value.rstrip("=")


def check_endpoint(value: object, allow_loopback: bool) -> str:
    """An https:// URL (host, optional port and path of printable ASCII); with
    ``allow_loopback`` also http:// on a loopback host (the local stack's stand-in)."""
    if not isinstance(value, str) or len(value) > ENDPOINT_MAX:
        raise BadRequest(f"'endpoint' must be a URL of at most {ENDPOINT_MAX} characters")
    if ENDPOINT_RE.match(value):
        return value
    loopback = LOOPBACK_RE.match(value)
    if allow_loopback and loopback and loopback.group(1) in LOOPBACK_HOSTS:
        return value
    raise BadRequest("'endpoint' must be an https:// URL of a push service")


def parse_register_device(
    frame: dict[str, Any], allow_loopback: bool = False, mobile: bool = False
) -> RegisterDeviceRequest:
    """``webPush`` (a PushSubscription's JSON) or ``mobile`` ({platform, token}); the latter
    only where the deployment has an SNS platform application (``mobile``)."""
    web, phone = frame.get("webPush"), frame.get("mobile")
    if (web is None) == (phone is None):
        raise BadRequest("send exactly one of 'webPush' (a push subscription) or 'mobile'")
    if web is not None:
        if not isinstance(web, dict) or not isinstance(web.get("keys"), dict):
            raise BadRequest("'webPush' must be {endpoint, keys: {p256dh, auth}}")
        keys = web["keys"]
        return RegisterDeviceRequest(
            WebPushSubscription(
                check_endpoint(web.get("endpoint"), allow_loopback),
                _key(keys.get("p256dh"), "p256dh", P256DH_RE, "a 65-byte P-256 point (0x04...)"),
                _key(keys.get("auth"), "auth", AUTH_RE, "16 bytes"),
            )
        )
    if not mobile:
        raise BadRequest("mobile push is not configured on this deployment; use 'webPush'")
    if not isinstance(phone, dict) or phone.get("platform") not in PLATFORMS:
        raise BadRequest("'mobile.platform' must be one of: " + ", ".join(PLATFORMS))
    token = phone.get("token")
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise BadRequest(f"'mobile.token' must be 1-{TOKEN_MAX} printable ASCII characters")
    return RegisterDeviceRequest(MobileToken(phone["platform"], token))


def parse_device_ref(frame: dict[str, Any]) -> DeviceRef:
    value = frame.get("deviceId")
    if not isinstance(value, str) or not DEVICE_ID_RE.match(value):
        raise BadRequest("'deviceId' must be the id registerDevice answered")
    return DeviceRef(value)


def parse_notify_level(frame: dict[str, Any]) -> NotifyLevelRequest:
    level = frame.get("level")
    if level not in LEVELS:
        raise BadRequest("'level' must be one of: " + ", ".join(LEVELS))
    return NotifyLevelRequest(check_room_id(frame.get("roomId")), str(level))


def device_frame(device_id: str, registered: bool, devices: int) -> dict[str, Any]:
    """The answer to registerDevice / unregisterDevice: the device and how many the user has."""
    return {"type": "device", "deviceId": device_id, "registered": registered, "devices": devices}


def notify_level_frame(room_id: str, level: str) -> dict[str, Any]:
    return {"type": "notifyLevel", "roomId": room_id, "level": level}


def push_payload(
    room_id: str, message_id: str, sender: str, text: str | None, count: int, mention: bool
) -> dict[str, Any]:
    """What a push carries (encrypted, RFC 8291; at most ~3.9 KB, so an excerpt): enough for
    the service worker to show it and a deep link that opens the room at the message."""
    return {
        "type": "notification",
        "roomId": room_id,
        "messageId": message_id,
        "sender": sender,
        "excerpt": excerpt(text),
        "mention": mention,
        # Messages this one stands for: 1, or more when a burst was coalesced.
        "count": count,
        "url": f"/?room={room_id}&message={message_id}",
    }
