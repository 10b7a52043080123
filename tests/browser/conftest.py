"""Fixtures for the web client tests: headless Chromium (Debian's, driven by Playwright) against
the whole local stack that `make run` starts (the e2e `stack` fixture: emulator + terraform apply +
gateway running the real functions, which also serves web/).

ROOMCHAT_BROWSER_STACK=.local/stack.json runs them against a stack that is already up (`make run`
in another terminal) instead of starting one: quicker while working on the page."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (
    DESKTOP,
    PAGE_OPTIONS,
    SEED_CONNECTIONS,
    ChatPage,
    WireClient,
)
from tests.stack import RunningStack

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("ROOMCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def playwright_sync():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the Python package playwright is not installed"
    )
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright_sync):
    # Debian's Chromium: Playwright's own download is not available here (no internet).
    executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if executable is None:
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    browser = playwright_sync.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def chat_stack(request) -> RunningStack:
    """The running local stack: the e2e `stack` fixture, or the one ROOMCHAT_BROWSER_STACK names."""
    stack_file = os.environ.get("ROOMCHAT_BROWSER_STACK")
    if not stack_file:
        return request.getfixturevalue("stack")
    path = Path(stack_file).resolve()
    info = json.loads(path.read_text())
    return RunningStack(None, info, path.parent, path.parent / "devstack.log", {})


@pytest.fixture(scope="package")
def base_url(chat_stack) -> str:
    return chat_stack.info["http_url"] + "/"


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def people(browser, base_url) -> Iterator[Any]:
    """`people(n, viewport=...)` -> n ChatPages, each in its own browser context (own storage)."""
    contexts: list[Any] = []
    pages: list[ChatPage] = []

    def make(count: int = 1, viewport: dict | None = None) -> list[ChatPage]:
        made = []
        for _ in range(count):
            context = browser.new_context(viewport=viewport or DESKTOP)
            context.add_init_script(f"window.roomchatOptions = {json.dumps(PAGE_OPTIONS)};")
            contexts.append(context)
            chat = ChatPage(context.new_page(), base_url)
            pages.append(chat)
            made.append(chat)
        return made

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    # Nothing the pages did may have raised a script error or opened a dialog.
    for chat in pages:
        chat.assert_healthy()


@pytest.fixture
def wire(chat_stack) -> Iterator[Any]:
    """`wire(name)` -> a WireClient connected to the stack; closed after the test."""
    from websockets.sync.client import connect

    with contextlib.ExitStack() as exits:

        def make(name: str) -> WireClient:
            ws = exits.enter_context(connect(chat_stack.url, open_timeout=10))
            return WireClient(ws, name)

        yield make


@pytest.fixture
def seed(wire) -> Any:
    """`seed(room, texts, name)`: says each text in order from several connections of `name`
    taking turns, so the per-connection rate limit (10 a second) never refuses one."""

    def say_all(room: str, texts: list[str], name: str = "seeder") -> None:
        clients = [wire(name) for _ in range(SEED_CONNECTIONS)]
        for client in clients:
            client.join(room)
        for i, text in enumerate(texts):
            clients[i % len(clients)].say(room, text)

    return say_all
