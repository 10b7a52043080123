"""API Gateway's shared limits, as the local gateway enforces them (docs/aws-behaviour.md).

AWS throttles a WebSocket API with token buckets, "where a token counts for a request"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-protect.html):

- **route-level**: the stage's ``DefaultRouteSettings`` (``ThrottlingRateLimit`` /
  ``ThrottlingBurstLimit``) give every route one bucket, ``RouteSettings`` override them per
  route. A bucket belongs to the route of the stage, shared by every client: the API has no
  API keys, so the limits are global, not per connection;
- **account-level**: 10,000 requests per second with a burst of 5,000 across every API of the
  account in the Region (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
  one gateway serves one API, so here it is the gateway's;
- **new connections**: 500 per second per account and Region across all WebSocket APIs
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html);
  AWS documents no burst for it, so the bucket holds one second's worth;
- **URL length**: 4,096 characters (same table).

A request refused by a bucket never reaches the integration: a frame is answered with API
Gateway's error frame ``{"message": "Too Many Requests", "connectionId": ..., "requestId": ...}``
and the connection stays open; a ``$connect`` is refused with HTTP 429 before the authorizer
runs. ``ThrottleSettings`` holds what the gateway enforces; ``StageThrottle`` the buckets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_RATE = 10_000.0  # requests/s per account and Region (API Gateway quotas, "Throttle quota")
ACCOUNT_BURST = 5_000
NEW_CONNECTIONS_PER_S = 500.0  # WebSocket quotas: "New connections per second per account"
MAX_URL_CHARS = 4_096  # WebSocket quotas: "Length, in characters, of the URL"
TOO_MANY_REQUESTS = "Too Many Requests"


@dataclass(frozen=True)
class RouteLimit:
    """A route's ``ThrottlingRateLimit`` (requests/s) and ``ThrottlingBurstLimit`` (bucket size)."""

    rate: float
    burst: int


@dataclass(frozen=True)
class StageLimits:
    """The throttling a stage applies: its default route settings and per-route overrides.

    ``default`` is None when the stage sets no route throttling (then only the account's limit
    applies, as on AWS)."""

    default: RouteLimit | None = None
    routes: Mapping[str, RouteLimit] = field(default_factory=dict)

    def for_route(self, route_key: str) -> RouteLimit | None:
        return self.routes.get(route_key, self.default)


def _limit(settings: Mapping[str, Any] | None, fallback: RouteLimit | None) -> RouteLimit | None:
    """A route limit from one RouteSettings object; a field it leaves out is the fallback's."""
    settings = settings or {}
    rate = settings.get("ThrottlingRateLimit")
    burst = settings.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return fallback
    if rate is None:
        rate = fallback.rate if fallback else ACCOUNT_RATE
    if burst is None:
        burst = fallback.burst if fallback else ACCOUNT_BURST
    return RouteLimit(rate=float(rate), burst=int(burst))


def stage_limits(stage: Mapping[str, Any]) -> StageLimits:
    """The limits of a stage as GetStage answers it (boto3's apigatewayv2 shape)."""
    default = _limit(stage.get("DefaultRouteSettings"), None)
    routes: dict[str, RouteLimit] = {}
    for key, settings in (stage.get("RouteSettings") or {}).items():
        found = _limit(settings, default)
        if found is not None:
            routes[key] = found
    return StageLimits(default=default, routes=routes)


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; starts full. Thread-safe."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()
        self.allowed = 0
        self.refused = 0

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self.allowed += 1
                return True
            self.refused += 1
            return False


@dataclass(frozen=True)
class ThrottleSettings:
    """What the gateway enforces (each on by default at AWS's values; ``enabled=False`` none)."""

    enabled: bool = True
    account_rate: float = ACCOUNT_RATE
    account_burst: int = ACCOUNT_BURST
    connect_rate: float = NEW_CONNECTIONS_PER_S
    connect_burst: int = int(NEW_CONNECTIONS_PER_S)
    max_url_chars: int = MAX_URL_CHARS


class StageThrottle:
    """The buckets of one API's stage and of the account, and what each refused."""

    def __init__(
        self,
        limits: StageLimits,
        settings: ThrottleSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.settings = settings
        self._clock = clock
        self._routes: dict[str, TokenBucket | None] = {}
        self._lock = threading.Lock()
        self.account = TokenBucket(settings.account_rate, settings.account_burst, clock)
        self.connections = TokenBucket(settings.connect_rate, settings.connect_burst, clock)

    def reset(self) -> None:
        """Full buckets again (tests and the soak start each phase from a rested API)."""
        with self._lock:
            self._routes.clear()
            self.account = TokenBucket(
                self.settings.account_rate, self.settings.account_burst, self._clock
            )
            self.connections = TokenBucket(
                self.settings.connect_rate, self.settings.connect_burst, self._clock
            )

    def _route_bucket(self, route_key: str) -> TokenBucket | None:
        with self._lock:
            if route_key not in self._routes:
                limit = self.limits.for_route(route_key)
                self._routes[route_key] = (
                    TokenBucket(limit.rate, limit.burst, self._clock) if limit else None
                )
            return self._routes[route_key]

    def allow_request(self, route_key: str) -> bool:
        """One request on a route: its stage bucket, then the account's."""
        if not self.settings.enabled:
            return True
        bucket = self._route_bucket(route_key)
        if bucket is not None and not bucket.take():
            return False
        return self.account.take()

    def allow_callback(self) -> bool:
        """One @connections request (POST, GET or DELETE): the account's bucket, which the
        callback API shares with every API of the account (API Gateway quotas)."""
        if not self.settings.enabled:
            return True
        return self.account.take()

    def allow_connect(self) -> bool:
        """One new connection: the account's new-connection rate, then ``$connect``'s buckets."""
        if not self.settings.enabled:
            return True
        if not self.connections.take():
            return False
        return self.allow_request("$connect")

    def url_too_long(self, url: str) -> bool:
        return self.settings.enabled and len(url) > self.settings.max_url_chars

    def counts(self) -> dict[str, dict[str, int]]:
        """Allowed and refused requests by bucket (route keys, ``account``, ``newConnections``)."""
        with self._lock:
            found = {k: b for k, b in self._routes.items() if b is not None}
        found_all: dict[str, TokenBucket] = {
            **found,
            "account": self.account,
            "newConnections": self.connections,
        }
        return {k: {"allowed": b.allowed, "refused": b.refused} for k, b in found_all.items()}
