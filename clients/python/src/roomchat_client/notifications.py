"""Notifications while away (docs/notifications.md): register a device, remove it, choose a
room's level. The pushes go to the device's push service, not to this connection.

    reply = await client.register_device(web_push=subscription_json)   # `device`
    await client.unregister_device(reply["deviceId"])
    await client.notify_level("team", "none")                          # mute
"""

from __future__ import annotations

from typing import Any, Literal

from roomchat_client import protocol as p
from roomchat_client.features import _Actions
from roomchat_client.protocol import Frame


class Notifications(_Actions):
    async def register_device(
        self, web_push: dict[str, Any] | None = None, mobile: dict[str, str] | None = None
    ) -> Frame:
        """Register a Web Push subscription or a mobile token (signed in): ``device``."""
        return await self.call(p.register_device(web_push, mobile), "device")

    async def unregister_device(self, device_id: str) -> Frame:
        """Remove a device: ``device`` with ``registered`` false and ``removed``."""
        return await self.call(p.unregister_device(device_id), "device")

    async def notify_level(self, room: str, level: Literal["all", "mentions", "none"]) -> Frame:
        """A room's notifications for us: ``all``, ``mentions`` (default) or ``none``."""
        return await self.call(p.notify_level(room, level), "notifyLevel")
