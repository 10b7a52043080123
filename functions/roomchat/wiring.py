"""Builds the adapters from settings. The only module that creates AWS clients.

Clients are created once per process and reused across warm invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .conversation_ports import (
    MentionsRepository,
    PinsRepository,
    ReactionsRepository,
    ThreadsRepository,
)
from .notification_ports import MobilePush, NotificationsRepository, NotifyQueue, PushSender
from .ports import (
    AttachmentStore,
    ChangeLog,
    ConnectionSender,
    FanoutProgress,
    FanoutQueue,
    HistoryRepository,
    MessageReviewer,
    ModerationRepository,
    RateLimiter,
    RoomsRepository,
)
from .settings import AuthSettings, Settings


@dataclass
class Container:
    settings: Settings
    rooms: RoomsRepository
    history: HistoryRepository
    sender_for: Callable[[str], ConnectionSender]
    limiter: RateLimiter | None = None
    moderation: ModerationRepository | None = None
    reviewer: MessageReviewer | None = None
    # The fan-out tier (FANOUT_QUEUE_NAME set): the queue to the workers and their progress.
    queue: FanoutQueue | None = None
    progress: FanoutProgress | None = None
    changes: ChangeLog | None = None
    # Conversations (threads, reactions, mentions, pins): cheap objects over the same client.
    threads: ThreadsRepository | None = None
    reactions: ReactionsRepository | None = None
    mentions: MentionsRepository | None = None
    pins: PinsRepository | None = None
    # The clock in epoch ms (tests fix it: budgets refill with time).
    clock: Callable[[], int] | None = None
    # The attachments bucket (ATTACHMENTS_BUCKET): its S3 client is made on first use.
    attachments: AttachmentStore | None = None
    # Notifications (NOTIFY_QUEUE_NAME set): devices and levels, the queue to `notify`, the
    # SNS platform endpoints (SNS_PLATFORM_APPS), and the push senders, built on first use so
    # only the `notify` function loads the Web Push libraries.
    notifications: NotificationsRepository | None = None
    notify_queue: NotifyQueue | None = None
    mobile: MobilePush | None = None
    pusher: Callable[[], PushSender] = lambda: _no_pusher()


def _no_pusher() -> PushSender:
    from .errors import Internal

    raise Internal("notifications are not configured on this deployment")


def read_vapid_key(secrets_client: Any, secret_id: str) -> str:
    """The VAPID private key (base64url, 32 raw bytes) from the Secrets Manager secret
    VAPID_SECRET_ID, whose value is {"privateKey": ..., "publicKey": ...}."""
    import json

    value = secrets_client.get_secret_value(SecretId=secret_id)["SecretString"]
    return str(json.loads(value)["privateKey"])


def _notifications(settings: Settings, session: Any, dynamodb: Any, config: Any) -> dict[str, Any]:
    if not settings.notify_queue_name:
        return {}
    from .adapters.dynamodb.notifications import DynamoNotifications
    from .adapters.push import Pushers, SnsMobilePush, SqsNotifyQueue, WebPushSender

    def client(name: str) -> Any:
        return session.create_client(name, config=config)

    mobile = (
        SnsMobilePush(client("sns"), dict(settings.sns_platform_apps))
        if (settings.sns_platform_apps)
        else None
    )
    built: list[PushSender] = []
    lock = threading.Lock()

    def pusher() -> PushSender:
        with lock:
            if not built:
                web = None
                if settings.vapid_secret_id:
                    key = read_vapid_key(client("secretsmanager"), settings.vapid_secret_id)
                    web = WebPushSender(key, settings.vapid_subject)
                built.append(Pushers(web, mobile))
            return built[0]

    return {
        "notifications": DynamoNotifications(dynamodb, settings.rooms_table),
        "notify_queue": SqsNotifyQueue(client("sqs"), settings.notify_queue_name),
        "mobile": mobile,
        "pusher": pusher,
    }


def build_container(settings: Settings) -> Container:
    # botocore directly: boto3's import adds ~100 ms of s3transfer to every cold start, and the
    # clients are the same objects.
    import botocore.session
    from botocore.config import Config

    from .adapters.connections import ManagementApiSender, SharedExecutor
    from .adapters.dynamodb import (
        DynamoChanges,
        DynamoFanoutProgress,
        DynamoHistory,
        DynamoMentions,
        DynamoModeration,
        DynamoPins,
        DynamoRateLimiter,
        DynamoReactions,
        DynamoRooms,
        DynamoThreads,
    )

    session = botocore.session.get_session()
    dynamodb = session.create_client(
        "dynamodb",
        config=Config(
            connect_timeout=2,
            read_timeout=5,
            retries={"mode": "standard", "total_max_attempts": 5},
        ),
    )
    executor = SharedExecutor(settings.fanout_workers)
    senders: dict[str, ConnectionSender] = {}
    lock = threading.Lock()

    def sender_for(endpoint: str) -> ConnectionSender:
        sender = senders.get(endpoint)
        if sender is None:
            with lock:
                sender = senders.get(endpoint)
                if sender is None and settings.fanout_poster == "signed":
                    from .adapters.poster import SignedHttpSender

                    sender = SignedHttpSender(
                        endpoint,
                        session.get_credentials,
                        session.get_config_variable("region") or "us-east-1",
                        executor,
                        workers=settings.fanout_workers,
                        connect_timeout_s=2,
                        read_timeout_s=3,
                    )
                    senders[endpoint] = sender
                elif sender is None:
                    client = session.create_client(
                        "apigatewaymanagementapi",
                        endpoint_url=endpoint,
                        config=Config(
                            # One pooled HTTP connection per worker thread, or posts queue up.
                            max_pool_connections=max(10, settings.fanout_workers),
                            connect_timeout=2,
                            read_timeout=3,
                            # Standard mode retries 429 and 5xx with jittered backoff; 410 is final.
                            retries={"mode": "standard", "total_max_attempts": 3},
                            # The fan-out is CPU-bound on botocore's per-request work; checking
                            # our own (always a str id and bytes) parameters again on every post
                            # costs 5-10% of it (the bench). The API still validates.
                            parameter_validation=False,
                        ),
                    )
                    sender = ManagementApiSender(client, executor)
                    senders[endpoint] = sender
        return sender

    reviewer: MessageReviewer | None = None
    if settings.review_function:
        from .adapters.review import LambdaReviewer

        budget = settings.review_timeout_ms / 1000
        lambda_client = session.create_client(
            "lambda",
            config=Config(
                connect_timeout=budget,
                read_timeout=budget,
                # No retry: a second attempt would double the budget; the fallback decides.
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        )
        reviewer = LambdaReviewer(lambda_client, settings.review_function, settings.review_fallback)
    queue: FanoutQueue | None = None
    if settings.fanout_queue_name:
        from .adapters.queue import SqsFanoutQueue

        sqs = session.create_client(
            "sqs",
            config=Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"mode": "standard", "total_max_attempts": 3},
            ),
        )
        queue = SqsFanoutQueue(sqs, settings.fanout_queue_name)

    return Container(
        queue=queue,
        progress=DynamoFanoutProgress(dynamodb, settings.rooms_table),
        settings=settings,
        rooms=DynamoRooms(dynamodb, settings.rooms_table, settings.rooms_by_connection_index),
        history=DynamoHistory(dynamodb, settings.history_table),
        sender_for=sender_for,
        limiter=DynamoRateLimiter(dynamodb, settings.history_table, settings.rate_limit_per_second),
        moderation=DynamoModeration(dynamodb, settings.history_table),
        reviewer=reviewer,
        changes=DynamoChanges(dynamodb, settings.history_table),
        threads=DynamoThreads(dynamodb, settings.history_table),
        reactions=DynamoReactions(dynamodb, settings.history_table),
        mentions=DynamoMentions(dynamodb, settings.history_table),
        pins=DynamoPins(dynamodb, settings.rooms_table),
        attachments=_attachments(session, settings),
        **_notifications(
            settings,
            session,
            dynamodb,
            Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"mode": "standard", "total_max_attempts": 3},
            ),
        ),
    )


def _attachments(session: Any, settings: Settings) -> AttachmentStore | None:
    """The bucket's store, whose S3 client is created on the first call that needs it: only
    the functions that touch attachments pay for it."""
    bucket = settings.attachments_bucket
    if not bucket:
        return None
    from .adapters.attachments import LazyS3AttachmentStore

    def client() -> Any:
        from botocore.config import Config

        return session.create_client(
            "s3",
            config=Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"mode": "standard", "total_max_attempts": 3},
                signature_version="s3v4",
            ),
        )

    return LazyS3AttachmentStore(client, bucket)


def build_secret_source(settings: AuthSettings) -> Callable[[], bytes]:
    """The authorizer's HMAC secret: the value configured, or the SSM parameter's, re-read every
    ``cache_seconds`` so a rotated secret is picked up without a cold start."""
    secret = settings.secret
    if secret is not None:
        return lambda: secret
    assert settings.secret_parameter is not None  # AuthSettings.from_env requires one of them
    import botocore.session

    from .adapters.secrets import CachedParameter

    clients: list[object] = []

    def ssm() -> object:
        # Created on first use, so a warm function reuses it.
        if not clients:
            clients.append(botocore.session.get_session().create_client("ssm"))
        return clients[0]

    return CachedParameter(ssm, settings.secret_parameter, settings.cache_seconds)


def build_verifier(settings: AuthSettings) -> Any:
    """The authorizer's token verifier for its mode: ``jwt`` reads its keys through the secret
    source (SSM, re-read every ``cache_seconds``), ``oidc`` the issuer's JWKS."""
    from .auth import JwksKeys, JwtVerifier, OidcVerifier, Policy, parse_keys

    policy = Policy(settings.issuer, settings.audience, settings.max_lifetime_s)
    if settings.mode == "oidc":
        assert settings.jwks_url is not None  # AuthSettings.from_env requires it
        return OidcVerifier(policy, JwksKeys(settings.jwks_url))
    source = build_secret_source(settings)
    parsed: dict[bytes, dict[str, str]] = {}

    def keys() -> dict[str, str]:
        raw = source()
        if raw not in parsed:  # parsed once per value the source returns (a rotation: again)
            parsed.clear()
            parsed[raw] = parse_keys(raw.decode())
        return parsed[raw]

    return JwtVerifier(policy, keys)
