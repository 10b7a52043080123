"""Configuration, read from the environment once per cold start into one typed object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .protocol import MESSAGE_BYTES_DEFAULT

# API Gateway closes a WebSocket connection after 2 hours at most; a membership whose
# $disconnect was missed must not outlive that by much.
CONNECTION_MAX_SECONDS = 2 * 60 * 60
TTL_MARGIN_SECONDS = 5 * 60
# Retries of one clientMsgId happen within a connection's life, so marks need not outlive it.
IDEMPOTENCY_SECONDS = CONNECTION_MAX_SECONDS + TTL_MARGIN_SECONDS
# `typing` frames one connection may send per second, on a budget apart from sendAll's, so a
# typing indicator never costs a message its slot.
TYPING_PER_SECOND = 2
# `react` requests one connection may make per second (each tells the whole room, as typing
# does), on a budget of their own.
REACTIONS_PER_SECOND = 3
# `thread`, `threads` and `mentions` requests one connection may make per second, together:
# each reads up to a page of messages (and counts unread replies).
READS_PER_SECOND = 5
# What one budget unit buys beyond the request itself: bytes read (4 KB: one strongly
# consistent read unit) and posts made (@connections POSTs to members).
BYTES_PER_UNIT = 4096
POSTS_PER_UNIT = 100
# `prepareUpload` requests one connection may make per second: each lets a file of up to
# ATTACHMENT_MAX_BYTES into the bucket (unattached ones go after a day), on a budget of its own.
UPLOADS_PER_SECOND = 2
# The namespace of operator-granted rooms unless GRANTED_ROOM_PREFIX says otherwise.
GRANTED_ROOM_PREFIX_DEFAULT = "org:"
_PREFIX_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,32}$")


POSTERS = ("signed", "botocore")
ATTACHMENT_MAX_BYTES_DEFAULT = 25 * 1024 * 1024
ATTACHMENT_TYPES_DEFAULT = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
)
_MEDIA_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _attachment_types(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("ATTACHMENT_TYPES", "").strip()
    if not raw:
        return ATTACHMENT_TYPES_DEFAULT
    types = tuple(t.strip() for t in raw.split(",") if t.strip())
    bad = [t for t in types if not _MEDIA_TYPE_RE.match(t)]
    if bad or not types:
        raise SettingsError(f"ATTACHMENT_TYPES must be comma-separated type/subtype, got {raw!r}")
    return types


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    rooms_table: str
    history_table: str
    rooms_by_connection_index: str = "byConnection"
    callback_url: str | None = None
    # Lambda sets AWS_REGION; without CALLBACK_URL the @connections endpoint is built from it.
    region: str | None = None
    fanout_workers: int = 32
    # "signed": roomchat.adapters.poster (SigV4 + kept-alive http.client, a third of the CPU);
    # "botocore": the apigatewaymanagementapi client (roomchat.adapters.connections).
    fanout_poster: str = "signed"
    history_retention_days: int = 0
    recent_on_join: int = 20
    max_message_bytes: int = MESSAGE_BYTES_DEFAULT
    rate_limit_per_second: int = 10
    log_level: str = "INFO"
    # How long after sending its author may edit a message (0: editing is off).
    edit_window_seconds: int = 900
    # The message review hook: a Lambda function name or ARN, invoked before a message is
    # stored; None: no review.
    review_function: str | None = None
    review_timeout_ms: int = 200
    # What a failed or slow review decides: allow | deny. Deny unless configured: a hook that
    # is cold (after idle or a scale-out) or down must not let messages through unreviewed.
    review_fallback: str = "deny"
    # The fan-out tier (docs/design.md, "Big rooms"): rooms with more members than this are
    # fanned out by the `fanout` workers through the queue FANOUT_QUEUE_NAME (its URL is looked
    # up once, on first use); 0 = never (always inline).
    fanout_tier_threshold: int = 0
    fanout_queue_name: str | None = None
    # Recipients per queue message (one worker's chunk) and per progress step within it.
    fanout_chunk_size: int = 1000
    fanout_step_size: int = 250
    # Hand-overs of a chunk's unreached recipients before they count as failed.
    fanout_max_attempts: int = 3
    # Room ids starting with this are the operator's, granted by tokens' `rooms` claims: no
    # createRoom takes them, and without a record they are private to the users granted them.
    # "": no such namespace (a claim then grants only rooms created with createRoom).
    granted_room_prefix: str = GRANTED_ROOM_PREFIX_DEFAULT
    # Budgets by cost (docs/limits.md): every action of a connection, and of a signed-in user
    # across their connections, spends units from a token bucket refilled at *_per_second and
    # holding at most *_burst; one unit a request, plus one per BYTES_PER_UNIT bytes it read
    # and one per POSTS_PER_UNIT posts it made. 0 per second: that budget is off.
    cost_per_second: int = 100
    cost_burst: int = 500
    user_cost_per_second: int = 200
    user_cost_burst: int = 1000
    # Refusals (rate_limited) of one connection within a minute before it is closed (a
    # `closing` frame, then @connections DELETE); 0: never.
    strikes_before_close: int = 120
    # Connections one signed-in user may hold at once (the next $connect is refused); 0: any.
    max_connections_per_user: int = 10
    # Attachments (issue 24): the bucket (None: no attachments), the largest file, the content
    # types a file may be declared as, and how long a presigned POST or GET stays valid.
    attachments_bucket: str | None = None
    attachment_max_bytes: int = ATTACHMENT_MAX_BYTES_DEFAULT
    attachment_types: tuple[str, ...] = ATTACHMENT_TYPES_DEFAULT
    attachment_url_seconds: int = 300
    # Notifications for away members (docs/notifications.md): the queue to the `notify` worker
    # (None: off), one push per user and room per window (seconds), whether a Web Push
    # endpoint may be http:// on a loopback host (the local stack's stand-in only), the VAPID
    # key's secret (Secrets Manager) and subject, and SNS platform applications by platform.
    notify_queue_name: str | None = None
    notify_window_s: int = 60
    push_allow_loopback: bool = False
    vapid_secret_id: str | None = None
    vapid_subject: str = "mailto:ops@example.invalid"
    sns_platform_apps: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def required(key: str) -> str:
            value = env.get(key, "").strip()
            if not value:
                raise SettingsError(f"environment variable {key} is required")
            return value

        def integer(key: str, default: int, low: int, high: int) -> int:
            raw = env.get(key, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"{key} must be a whole number, got {raw!r}") from None
            if not low <= value <= high:
                raise SettingsError(f"{key} must be from {low} to {high}, got {value}")
            return value

        level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        fallback = env.get("REVIEW_FALLBACK", "deny").strip().lower() or "deny"
        if fallback not in ("allow", "deny"):
            raise SettingsError(f"REVIEW_FALLBACK must be allow or deny, got {fallback!r}")
        poster = env.get("FANOUT_POSTER", "").strip().lower() or "signed"
        if poster not in POSTERS:
            raise SettingsError(f"FANOUT_POSTER must be signed or botocore, got {poster!r}")
        return cls(
            rooms_table=required("ROOMS_TABLE"),
            history_table=required("HISTORY_TABLE"),
            rooms_by_connection_index=env.get("ROOMS_BY_CONNECTION_INDEX", "").strip()
            or "byConnection",
            callback_url=env.get("CALLBACK_URL", "").strip().rstrip("/") or None,
            region=env.get("AWS_REGION", "").strip() or None,
            fanout_workers=integer("FANOUT_WORKERS", 32, 1, 256),
            fanout_poster=poster,
            history_retention_days=integer("HISTORY_RETENTION_DAYS", 0, 0, 36500),
            recent_on_join=integer("RECENT_ON_JOIN", 20, 0, 100),
            # Up to API Gateway's 32 KB frame, as infra/variables.tf allows.
            max_message_bytes=integer(
                "MAX_MESSAGE_BYTES", MESSAGE_BYTES_DEFAULT, 1, MESSAGE_BYTES_DEFAULT
            ),
            rate_limit_per_second=integer("RATE_LIMIT_PER_SECOND", 10, 0, 10_000),
            log_level=level,
            edit_window_seconds=integer("EDIT_WINDOW_SECONDS", 900, 0, 7 * 86400),
            review_function=env.get("REVIEW_FUNCTION", "").strip() or None,
            review_timeout_ms=integer("REVIEW_TIMEOUT_MS", 200, 10, 10_000),
            review_fallback=fallback,
            fanout_tier_threshold=integer("FANOUT_TIER_THRESHOLD", 0, 0, 10_000_000),
            fanout_queue_name=env.get("FANOUT_QUEUE_NAME", "").strip() or None,
            fanout_chunk_size=integer("FANOUT_CHUNK_SIZE", 1000, 1, 5000),
            fanout_step_size=integer("FANOUT_STEP_SIZE", 250, 1, 5000),
            fanout_max_attempts=integer("FANOUT_MAX_ATTEMPTS", 3, 1, 10),
            granted_room_prefix=_granted_room_prefix(env),
            cost_per_second=integer("COST_PER_SECOND", 100, 0, 100_000),
            cost_burst=integer("COST_BURST", 500, 1, 1_000_000),
            user_cost_per_second=integer("USER_COST_PER_SECOND", 200, 0, 100_000),
            user_cost_burst=integer("USER_COST_BURST", 1000, 1, 1_000_000),
            strikes_before_close=integer("STRIKES_BEFORE_CLOSE", 120, 0, 100_000),
            max_connections_per_user=integer("MAX_CONNECTIONS_PER_USER", 10, 0, 10_000),
            attachments_bucket=env.get("ATTACHMENTS_BUCKET", "").strip() or None,
            attachment_max_bytes=integer(
                "ATTACHMENT_MAX_BYTES", ATTACHMENT_MAX_BYTES_DEFAULT, 1, 5 * 1024**3
            ),
            attachment_types=_attachment_types(env),
            attachment_url_seconds=integer("ATTACHMENT_URL_SECONDS", 300, 60, 900),
            notify_queue_name=env.get("NOTIFY_QUEUE_NAME", "").strip() or None,
            notify_window_s=integer("NOTIFY_WINDOW_SECONDS", 60, 0, 86400),
            push_allow_loopback=env.get("PUSH_ALLOW_LOOPBACK", "").strip().lower() == "true",
            vapid_secret_id=env.get("VAPID_SECRET_ID", "").strip() or None,
            vapid_subject=env.get("VAPID_SUBJECT", "").strip() or "mailto:ops@example.invalid",
            sns_platform_apps=_platform_apps(env),
        )


def _platform_apps(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """SNS_PLATFORM_APPS: "fcm=<arn>,apns=<arn>" (the platforms mobile devices may use)."""
    found = []
    for part in env.get("SNS_PLATFORM_APPS", "").split(","):
        if not part.strip():
            continue
        platform, _, arn = part.strip().partition("=")
        if platform not in ("fcm", "apns", "apns_sandbox") or not arn.startswith("arn:"):
            raise SettingsError(
                "SNS_PLATFORM_APPS must be platform=arn pairs (fcm, apns, apns_sandbox), "
                f"got {part[:80]!r}"
            )
        found.append((platform, arn))
    return tuple(found)


def _granted_room_prefix(env: Mapping[str, str]) -> str:
    raw = env.get("GRANTED_ROOM_PREFIX")
    prefix = GRANTED_ROOM_PREFIX_DEFAULT if raw is None else raw.strip()
    if not _PREFIX_RE.match(prefix):
        raise SettingsError(
            "GRANTED_ROOM_PREFIX must be empty or up to 32 room-id characters "
            f"([A-Za-z0-9_.:-]), got {prefix[:40]!r}"
        )
    return prefix


# How long the authorizer trusts a secret read from SSM before reading it again, so a rotated
# secret is picked up by warm functions within this time.
AUTH_SECRET_CACHE_SECONDS = 300


AUTH_MODES = ("jwt", "oidc")
# Hosts a plain http:// JWKS may be on: the local stack's emulator, never the network.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def secure_url(url: str) -> bool:
    """https://, or http:// to a loopback host: the keys that decide who may connect must not
    cross a network in clear (anyone on the path could serve their own)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)


# A token may live at most this long (exp - iat) unless AUTH_MAX_LIFETIME_SECONDS says otherwise.
AUTH_MAX_LIFETIME_DEFAULT = 24 * 3600


@dataclass(frozen=True)
class AuthSettings:
    """The $connect authorizer's configuration (the authorizer function is given nothing else).

    ``jwt`` mode: the verification keys (``parse_keys``' format) themselves in AUTH_SECRET, or
    the SSM parameter holding them in AUTH_SECRET_PARAMETER. ``oidc`` mode: AUTH_JWKS_URL.
    Both: AUTH_ISSUER, AUTH_AUDIENCE and AUTH_MAX_LIFETIME_SECONDS.
    """

    mode: str = "jwt"
    issuer: str = ""
    audience: str = ""
    max_lifetime_s: int = AUTH_MAX_LIFETIME_DEFAULT
    secret: bytes | None = None
    secret_parameter: str | None = None
    jwks_url: str | None = None
    cache_seconds: int = AUTH_SECRET_CACHE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        mode = env.get("AUTH_MODE", "jwt").strip() or "jwt"
        if mode not in AUTH_MODES:
            raise SettingsError(f"AUTH_MODE must be jwt or oidc, got {mode!r}")
        issuer = env.get("AUTH_ISSUER", "").strip()
        audience = env.get("AUTH_AUDIENCE", "").strip()
        if not issuer or not audience:
            raise SettingsError("set AUTH_ISSUER and AUTH_AUDIENCE for the authorizer")
        raw = env.get("AUTH_MAX_LIFETIME_SECONDS", "").strip()
        try:
            lifetime = int(raw) if raw else AUTH_MAX_LIFETIME_DEFAULT
        except ValueError:
            raise SettingsError("AUTH_MAX_LIFETIME_SECONDS must be a whole number") from None
        if not 60 <= lifetime <= 30 * 24 * 3600:
            raise SettingsError("AUTH_MAX_LIFETIME_SECONDS must be from 60 to 2592000")
        common = {"mode": mode, "issuer": issuer, "audience": audience, "max_lifetime_s": lifetime}
        if mode == "oidc":
            url = env.get("AUTH_JWKS_URL", "").strip()
            if not url:
                raise SettingsError("set AUTH_JWKS_URL (the issuer's JWKS) in oidc mode")
            if not secure_url(url):
                raise SettingsError(
                    "AUTH_JWKS_URL must be an https:// URL (http:// only on a loopback host, "
                    f"for the local stack), got {url[:100]!r}"
                )
            return cls(**common, jwks_url=url)  # type: ignore[arg-type]
        secret = env.get("AUTH_SECRET", "")
        parameter = env.get("AUTH_SECRET_PARAMETER", "").strip()
        if not secret and not parameter:
            raise SettingsError("set AUTH_SECRET or AUTH_SECRET_PARAMETER for the authorizer")
        return cls(
            **common,  # type: ignore[arg-type]
            secret=secret.encode() if secret else None,
            secret_parameter=parameter or None,
        )
