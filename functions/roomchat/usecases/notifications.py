"""Notifications for members who are away (docs/notifications.md).

Commands (the chat functions): ``register_device`` / ``unregister_device`` (a user's devices:
Web Push subscriptions, mobile tokens), ``set_level`` (a room's level: all, mentions (the
default) or none), ``watch`` (join remembers the user's name in the room, so an ``@name``
reaches them once they are gone) and ``hand_over`` (sendAll queues each stored message for the
`notify` worker: never a push inline).

The worker (``deliver``): for one message, the users to tell are the room's watchers whose
level is ``all``, or ``mentions`` and the message names them (``@name`` against the watchers'
names, ``@room`` from its owner or a moderator), never its author, and only those with no
connection in the room (online users see the message itself). Each gets at most one push per
room per ``notify_window_s`` (the coalescing rule, atomic in storage): the first message of a
window is pushed, carrying the count of messages held since the previous push; the rest are
held. One push per registered device; a push service answering 404/410 removes that device.
"""

from __future__ import annotations

import json
from typing import Any

from .. import logs, protocol
from ..errors import BadRequest, Forbidden, Internal
from ..notification_ports import Device, NotifyJob, PushOutcome, Watch
from ..protocol.notifications import MobileToken, RegisterDeviceRequest
from . import policy
from .core import Caller, Deps, iso_ms

# How long a room remembers a user who joined it (their name and level): refreshed by every
# join, so someone away for longer than this stops being notified.
WATCH_SECONDS = 30 * 86400
# A push the service could not deliver within this long is dropped (RFC 8030 TTL header).
PUSH_TTL_SECONDS = 24 * 3600


def _user(caller: Caller, what: str) -> str:
    if caller.user_id is None:
        raise Forbidden(f"sign in to {what}: notifications follow a user, not a connection")
    return caller.user_id


def _store(deps: Deps) -> Any:
    if deps.notifications is None:
        raise Internal("notifications are not configured on this deployment")
    return deps.notifications


# ---------------------------------------------------------------------------- commands


def register_device(deps: Deps, caller: Caller, req: RegisterDeviceRequest) -> dict[str, Any]:
    """Register (or refresh) one of the caller's devices; at most DEVICES_MAX a user."""
    store = _store(deps)
    user = _user(caller, "register a device")
    policy.check_budget(deps, caller, None, "registerDevice", "no device was registered")
    d = req.device
    if isinstance(d, MobileToken):
        if deps.mobile is None:
            raise BadRequest("mobile push is not configured on this deployment")
        arn = deps.mobile.endpoint_for(d.platform, d.token, user)
        device = Device(req.device_id, d.platform, token=d.token, endpoint_arn=arn)
    else:
        device = Device(req.device_id, "webpush", d.endpoint, d.p256dh, d.auth)
    device = Device(**{**device.__dict__, "created_at": iso_ms(deps.clock())})
    outcome, count = store.put_device(user, device, protocol.DEVICES_MAX)
    if outcome == "full":
        raise BadRequest(
            f"a user may register at most {protocol.DEVICES_MAX} devices; "
            "unregister one first (nothing was registered)"
        )
    logs.info("device_registered", kind=device.kind, deviceId=device.device_id, devices=count)
    return protocol.device_frame(device.device_id, True, count)


def unregister_device(deps: Deps, caller: Caller, req: protocol.DeviceRef) -> dict[str, Any]:
    store = _store(deps)
    user = _user(caller, "unregister a device")
    policy.check_budget(deps, caller, None, "unregisterDevice", "no device was removed")
    removed, count = store.delete_device(user, req.device_id)
    return protocol.device_frame(req.device_id, False, count) | {"removed": removed}


def set_level(deps: Deps, caller: Caller, req: protocol.NotifyLevelRequest) -> dict[str, Any]:
    """A room's level for the caller: they must be in it (its name is theirs there)."""
    store = _store(deps)
    user = _user(caller, "choose notifications")
    member, _, _ = policy.require_reader(deps, req.room_id, caller)
    policy.check_budget(deps, caller, req.room_id, "notifyLevel", "the level was not changed")
    store.set_level(req.room_id, user, member.name, req.level, deps.now_s() + WATCH_SECONDS)
    return protocol.notify_level_frame(req.room_id, req.level)


def watch(deps: Deps, caller: Caller, room_id: str, name: str) -> None:
    """On join: remember the signed-in user's name in the room (one write; the level kept)."""
    if deps.notifications is None or caller.user_id is None:
        return
    deps.notifications.watch(room_id, caller.user_id, name, deps.now_s() + WATCH_SECONDS)


def hand_over(deps: Deps, room_id: str, message_id: str, reply_to: str | None) -> None:
    """A stored message to the `notify` worker. A refused enqueue is logged, not raised: the
    message is stored and delivered; only its notifications are lost (the metric says so)."""
    if deps.notify_queue is None:
        return
    if not deps.notify_queue.enqueue(NotifyJob(room_id, message_id, reply_to)):
        logs.metrics("notify_enqueue_failed", {"notifyEnqueueFailed": (1, logs.COUNT)})


# ---------------------------------------------------------------------------- the worker


def recipients(
    watchers: list[Watch],
    text: str,
    author: str | None,
    everyone: bool = False,
    named_at_send: frozenset[str] = frozenset(),
) -> list[tuple[Watch, bool]]:
    """Who a message is for, by level and mention (not yet by presence): (watch, mentioned).
    Mentions are the ``@name``s of the text resolved against the watchers' names (the room's
    members, away ones included) and those resolved when it was sent."""
    resolved, _ = protocol.resolve_mentions(
        text, [(w.user_id, w.name) for w in watchers], False, author
    )
    named = {identity for identity, _ in resolved} | named_at_send
    found = []
    for w in watchers:
        if w.user_id == author or w.level == "none":
            continue
        mentioned = w.user_id in named or everyone
        if w.level == "all" or mentioned:
            found.append((w, mentioned))
    return found


def deliver(deps: Deps, job: NotifyJob) -> dict[str, int]:
    """One stored message: push it to the away users it is for (module docstring)."""
    store = _store(deps)
    if deps.pusher is None:
        raise Internal("no push sender configured")
    counts = {"candidates": 0, "online": 0, "held": 0, "pushed": 0, "gone": 0, "failed": 0}
    msg = deps.history.get(job.room_id, job.message_id, job.reply_to)
    if msg is None or msg.deleted:
        return counts
    now_s = deps.now_s()
    found = recipients(
        store.watchers(job.room_id, now_s),
        msg.message or "",
        msg.author,
        msg.mentions_room,
        frozenset(m.user_id for m in msg.mentions),
    )
    counts["candidates"] = len(found)
    if not found:
        return counts
    online = {m.identity for m in deps.rooms.list_members(job.room_id, now_s)}
    window_ms = deps.settings.notify_window_s * 1000
    for watch_, mentioned in found:
        if watch_.user_id in online:
            counts["online"] += 1
            continue
        held = store.claim(job.room_id, watch_.user_id, deps.clock(), window_ms)
        if held is None:
            counts["held"] += 1
            continue
        payload = protocol.push_payload(
            msg.room_id, msg.message_id, msg.sender, msg.message, 1 + held, mentioned
        )
        _push_all(deps, store, watch_.user_id, payload, counts)
    logs.metrics(
        "notified",
        {k: (v, logs.COUNT) for k, v in counts.items()},
        roomId=job.room_id,
        messageId=job.message_id,
    )
    return counts


def _push_all(
    deps: Deps, store: Any, user_id: str, payload: dict[str, Any], counts: dict[str, int]
) -> None:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert deps.pusher is not None
    for device in store.devices(user_id):
        outcome = deps.pusher.push(device, data, PUSH_TTL_SECONDS)
        if outcome is PushOutcome.GONE:
            store.delete_device(user_id, device.device_id)
            counts["gone"] += 1
        elif outcome is PushOutcome.DELIVERED:
            counts["pushed"] += 1
        else:
            counts["failed"] += 1
