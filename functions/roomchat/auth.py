"""Signed connect tokens: ``v1.<payload>.<signature>``, both parts base64url without padding.

The payload is JSON claims: ``sub`` (who), ``exp`` (epoch seconds, required), optional ``name``
(the display name the connection will use) and ``iat``. The signature is HMAC-SHA256 over
``v1.<payload>`` with a shared secret. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from .protocol import check_name

VERSION = "v1"
MAX_TOKEN_CHARS = 2048


class InvalidToken(Exception):
    """The token is malformed, forged or expired; the message says which, for the logs."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, signed: str) -> bytes:
    return hmac.new(secret, signed.encode("ascii"), hashlib.sha256).digest()


def sign(claims: dict[str, Any], secret: bytes) -> str:
    if not isinstance(claims.get("exp"), int):
        raise ValueError("claims need an integer 'exp' (epoch seconds)")
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signed = f"{VERSION}.{payload}"
    return f"{signed}.{_b64(_mac(secret, signed))}"


def verify(token: object, secret: bytes, now_s: int) -> dict[str, Any]:
    """The token's claims, or ``InvalidToken``."""
    if not isinstance(token, str) or not token:
        raise InvalidToken("missing token")
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("token too long")
    if not token.isascii():
        # base64url and the version are ASCII; anything else is not a token of ours (and
        # would not encode for the MAC).
        raise InvalidToken("token is not ASCII")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise InvalidToken("not a v1 token")
    try:
        signature = _unb64(parts[2])
    except (ValueError, UnicodeEncodeError):
        raise InvalidToken("signature is not base64url") from None
    if not hmac.compare_digest(signature, _mac(secret, f"{parts[0]}.{parts[1]}")):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise InvalidToken("payload is not an object")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int):
        raise InvalidToken("no expiry")
    if exp <= now_s:
        raise InvalidToken("expired")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("no subject")
    if "name" in claims:
        try:
            claims["name"] = check_name(claims["name"])
        except Exception:
            raise InvalidToken("name claim is not a valid display name") from None
    return claims
