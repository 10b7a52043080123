"""clients/js/examples/browser.html, from `npm pack`'s tarball installed in a new project and
served as a plain static site, chats with the local stack in headless Chromium."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sdk_packages import js_example_app

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def _serving(folder: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *args: None  # type: ignore[assignment]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_browser_example_chats_through_the_packed_sdk(browser, chat_stack, wire, tmp_path):
    room = f"page-{uuid.uuid4().hex[:8]}"
    app = js_example_app(tmp_path)
    bob = wire("bob")
    bob.join(room)
    with _serving(app) as origin:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/browser.html?ws={chat_stack.url}&room={room}&name=page")
            page.wait_for_selector(f"body[data-joined='{room}']", timeout=30_000)
            page.fill("#text", "hi from the page")
            page.click("button")
            heard = bob.until(lambda f: f.get("type") == "message" and f.get("sender") == "page")
            bob.say(room, "hi page")
            page.wait_for_selector("#log li:has-text('bob: hi page')", timeout=30_000)
        finally:
            page.close()
    assert heard["message"] == "hi from the page"
