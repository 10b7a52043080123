"""Helpers for the web client tests: a person in a browser page, a plain WebSocket client."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.stack import STACK_IDLE_TIMEOUT_S

# The stack fixture closes connections idle for STACK_IDLE_TIMEOUT_S; the page pings well within.
PAGE_OPTIONS = {"pingIntervalMs": int(STACK_IDLE_TIMEOUT_S * 1000 / 3)}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SEED_CONNECTIONS = 8


def room_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class ChatPage:
    """One person in one browser context, with the steps a person takes."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        # Chromium logs a failed WebSocket handshake as an error; while the page reconnects that
        # is expected, anything else is a defect.
        if message.type == "error" and "WebSocket connection to" not in message.text:
            self.errors.append(message.text)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    # --- steps
    def open(self, query: str = "") -> ChatPage:
        self.page.goto(self.base_url + query)
        self.page.wait_for_selector("html[data-ready=true]")
        return self

    def connect(self, name: str, room: str) -> ChatPage:
        self.page.fill("#name", name)
        self.page.fill("#first-room", room)
        self.page.click("#connect-form button[type=submit]")
        self.wait_joined(room)
        return self

    def wait_joined(self, room: str, timeout: float = 20_000) -> None:
        self.page.wait_for_selector(f'.room-tab[data-room="{room}"]:not(.pending)', timeout=timeout)

    def join(self, room: str) -> ChatPage:
        self.page.fill("#join-room", room)
        self.page.click("#join-form button[type=submit]")
        self.wait_joined(room)
        return self

    def show(self, room: str) -> ChatPage:
        self.page.click(f'.room-tab[data-room="{room}"]')
        self.page.wait_for_selector(f'#timeline[data-room="{room}"]', state="attached")
        return self

    def say(self, text: str) -> ChatPage:
        """Types a message, sends it with Enter and waits until the server's echo replaces it."""
        self.page.fill("#message", text)
        self.page.press("#message", "Enter")
        self.page.wait_for_function("() => !document.querySelector('#timeline .msg.pending')")
        self.wait_for_message(text)
        return self

    def wait_for_message(self, text: str, timeout: float = 15_000) -> None:
        self.page.wait_for_function(
            """text => [...document.querySelectorAll('#timeline .msg:not(.pending) .msg-body')]
                 .some(node => node.textContent === text)""",
            arg=text,
            timeout=timeout,
        )

    # --- what the person sees
    def messages(self) -> list[tuple[str, str]]:
        """(sender, text) of each delivered message in the shown room, top to bottom."""
        return [
            tuple(pair)
            for pair in self.page.eval_on_selector_all(
                "#timeline .msg:not(.pending)",
                """nodes => nodes.map(n => [n.querySelector('.sender').textContent,
                                            n.querySelector('.msg-body').textContent])""",
            )
        ]

    def message_ids(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#timeline .msg:not(.pending)", "nodes => nodes.map(n => n.dataset.messageId)"
        )

    def notices(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#timeline .notice", "nodes => nodes.map(n => n.textContent)"
        )

    def unread(self, room: str) -> str | None:
        badge = self.page.query_selector(f'.room-tab[data-room="{room}"] .badge')
        return None if badge is None or badge.is_hidden() else badge.text_content()

    def state(self) -> dict:
        return self.page.evaluate(
            """() => {
                const c = window.roomchat.client;
                return {status: c.status, connections: c.connections,
                        rooms: [...c.rooms.values()].map(r => ({id: r.id, status: r.status}))};
            }"""
        )

    def assert_healthy(self) -> None:
        assert self.dialogs == [], f"dialogs fired: {self.dialogs}"
        assert self.errors == [], f"errors in the page: {self.errors}"


class WireClient:
    """A plain WebSocket client of the same stack, to set the scene quickly (seed history)."""

    def __init__(self, ws: Any, name: str) -> None:
        self.ws = ws
        self.name = name

    def until(self, predicate: Any, timeout: float = 15) -> dict:
        """The next frame that matches (others are dropped); TimeoutError if none comes."""
        while True:
            frame = json.loads(self.ws.recv(timeout=timeout))
            if predicate(frame):
                return frame

    def join(self, room: str) -> dict:
        self.ws.send(json.dumps({"action": "join", "roomId": room, "name": self.name}))
        return self.until(lambda f: f.get("type") == "joined" and f.get("roomId") == room)

    def say(self, room: str, text: str) -> dict:
        cid = uuid.uuid4().hex
        self.ws.send(
            json.dumps({"action": "sendAll", "roomId": room, "message": text, "clientMsgId": cid})
        )
        frame = self.until(lambda f: f.get("clientMsgId") == cid)
        assert frame["type"] == "message", frame
        return frame
