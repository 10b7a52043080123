"""``ChatService``: the one object the handlers and the tools call, a router and no more."""

from __future__ import annotations

from typing import Any

from .. import protocol
from ..notification_ports import NotifyJob
from ..ports import FanoutJob
from .core import Caller, Deps, FanoutCounts


class ChatService(Deps):
    """The ports (``Deps``) plus one method per command, each a call of that command's
    function in its capability's module, with nothing else: no rule, check or I/O lives
    here. What an action does is in ``membership``, ``messages``, ``moderation``, ``rooms``,
    ``fanout``, ``resume``, ``threads``, ``reactions``, ``mentions``, ``pins`` or
    ``notifications``; who may do it in ``policy``; how a room is told in ``broadcast``.

    A new command is a function in its module and one method here. Each method imports its
    module when first called, so a function loads only the capability it serves.
    """

    # ------------------------------------------------------------------ membership

    def connect(self, caller: Caller, name: str | None) -> None:
        from . import membership

        membership.connect(self, caller, name)

    def join(self, caller: Caller, req: protocol.JoinRequest) -> dict[str, Any]:
        from . import membership

        return membership.join(self, caller, req)

    def leave(self, caller: Caller, req: protocol.RoomRequest) -> dict[str, Any]:
        from . import membership

        return membership.leave(self, caller, req)

    def disconnect(self, caller: Caller) -> int:
        from . import membership

        return membership.disconnect(self, caller)

    def members(self, caller: Caller, req: protocol.RoomRequest) -> dict[str, Any]:
        from . import membership

        return membership.members(self, caller, req)

    # ------------------------------------------------------------------ messages

    def send(self, caller: Caller, req: protocol.SendRequest) -> dict[str, Any] | None:
        from . import messages

        return messages.send(self, caller, req)

    def history_page(self, caller: Caller, req: protocol.HistoryRequest) -> dict[str, Any]:
        from . import messages

        return messages.history_page(self, caller, req)

    def delete(self, caller: Caller, req: protocol.MessageRef) -> dict[str, Any] | None:
        from . import messages

        return messages.delete(self, caller, req)

    def edit(self, caller: Caller, req: protocol.EditRequest) -> dict[str, Any] | None:
        from . import messages

        return messages.edit(self, caller, req)

    def typing(self, caller: Caller, req: protocol.RoomRequest) -> None:
        from . import messages

        messages.typing(self, caller, req)

    def mark_read(self, caller: Caller, req: protocol.MessageRef) -> dict[str, Any]:
        from . import messages

        return messages.mark_read(self, caller, req)

    def resume(self, caller: Caller, req: protocol.ResumeRequest) -> dict[str, Any]:
        from . import resume

        return resume.resume(self, caller, req)

    # ------------------------------------------------------------------ the fan-out tier

    def deliver_chunk(self, job: FanoutJob, redelivered: bool = False) -> FanoutCounts:
        from . import fanout

        return fanout.deliver_chunk(self, job, redelivered)

    # ------------------------------------------------------------------ moderation

    def kick(self, caller: Caller, req: protocol.KickRequest) -> dict[str, Any]:
        from . import moderation

        return moderation.kick(self, caller, req)

    def disconnect_user(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        from . import moderation

        return moderation.disconnect_user(self, caller, req)

    # ------------------------------------------------------------------ rooms and roles

    def create_room(self, caller: Caller, req: protocol.CreateRoomRequest) -> dict[str, Any]:
        from . import rooms

        return rooms.create_room(self, caller, req)

    def invite(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        from . import rooms

        return rooms.invite(self, caller, req)

    def uninvite(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        from . import rooms

        return rooms.uninvite(self, caller, req)

    def promote(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        from . import rooms

        return rooms.promote(self, caller, req)

    def demote(self, caller: Caller, req: protocol.UserRequest) -> dict[str, Any]:
        from . import rooms

        return rooms.demote(self, caller, req)

    # ------------------------------------------------------------------ conversations

    def thread_page(self, caller: Caller, req: protocol.ThreadRequest) -> dict[str, Any]:
        from . import threads

        return threads.thread_page(self, caller, req)

    def follow_thread(self, caller: Caller, req: protocol.FollowRequest) -> dict[str, Any]:
        from . import threads

        return threads.follow(self, caller, req)

    def followed_threads(self, caller: Caller, req: protocol.ThreadsRequest) -> dict[str, Any]:
        from . import threads

        return threads.followed(self, caller, req)

    def react(self, caller: Caller, req: protocol.ReactRequest) -> dict[str, Any] | None:
        from . import reactions

        return reactions.react(self, caller, req)

    def mentions_page(self, caller: Caller, req: protocol.MentionsRequest) -> dict[str, Any]:
        from . import mentions

        return mentions.listing(self, caller, req)

    def pin(self, caller: Caller, req: protocol.PinRequest) -> dict[str, Any] | None:
        from . import pins

        return pins.pin(self, caller, req)

    # ------------------------------------------------------------------ attachments

    def prepare_upload(self, caller: Caller, req: protocol.PrepareUploadRequest) -> dict[str, Any]:
        from . import attachments

        return attachments.prepare_upload(self, caller, req)

    def attachment_url(self, caller: Caller, req: protocol.AttachmentUrlRequest) -> dict[str, Any]:
        from . import attachments

        return attachments.attachment_url(self, caller, req)

    # ------------------------------------------------------------------ notifications

    def register_device(
        self, caller: Caller, req: protocol.RegisterDeviceRequest
    ) -> dict[str, Any]:
        from . import notifications

        return notifications.register_device(self, caller, req)

    def unregister_device(self, caller: Caller, req: protocol.DeviceRef) -> dict[str, Any]:
        from . import notifications

        return notifications.unregister_device(self, caller, req)

    def set_notify_level(self, caller: Caller, req: protocol.NotifyLevelRequest) -> dict[str, Any]:
        from . import notifications

        return notifications.set_level(self, caller, req)

    def notify(self, job: NotifyJob) -> dict[str, int]:
        from . import notifications

        return notifications.deliver(self, job)
