"""The authorizer's HMAC secret, read from SSM Parameter Store and cached for a while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import logs
from ..errors import StorageError

# After a failed refresh with a value in hand, try again this much later (not on every call).
RETRY_SECONDS = 30


class CachedParameter:
    """A SecureString's value, read again once ``ttl_seconds`` have passed so a rotated secret
    reaches warm functions. If a refresh fails, the value in hand is kept (and the failure
    logged) until a later refresh works; with no value in hand the failure is raised."""

    def __init__(
        self,
        client: Callable[[], Any],
        name: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._name = name
        self._ttl = ttl_seconds
        self._clock = clock
        self._value: bytes | None = None
        self._fresh_until = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        now = self._clock()
        if self._value is not None and now < self._fresh_until:
            return self._value
        with self._lock:
            if self._value is not None and now < self._fresh_until:
                return self._value
            try:
                resp = self._client().get_parameter(Name=self._name, WithDecryption=True)
                self._value = resp["Parameter"]["Value"].encode()
                self._fresh_until = now + self._ttl
            except (ClientError, BotoCoreError) as e:
                code = e.response["Error"]["Code"] if isinstance(e, ClientError) else repr(e)
                if self._value is None:
                    raise StorageError(f"GetParameter failed: {code}") from e
                logs.warning("secret_refresh_failed", parameter=self._name, error=code)
                self._fresh_until = now + RETRY_SECONDS
            return self._value
