"""The web client as the hosting module serves it (infra/modules/hosting): the files it uploads,
with their content types, the response headers policy's CSP and a config.json holding the stack's
WebSocket URL, on an origin of their own (as CloudFront is), against the local stack.

tests/infra/test_emulator_apply.py proves these are the objects Terraform puts in the bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import hosting
from tests.browser.support import DESKTOP, PAGE_OPTIONS, ChatPage, room_name

pytestmark = pytest.mark.browser

# The page looks for the local stack's devstack.json before config.json; the hosted site has no
# such object, so the browser logs that one 403, as it would on CloudFront.
PROBE_403 = "the server responded with a status of 403"


@pytest.fixture
def hosted(chat_stack) -> Iterator[str]:
    with hosting.serving(hosting.site(chat_stack.url)) as url:
        yield url


@pytest.fixture
def visitor(browser, hosted) -> Iterator[ChatPage]:
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(f"window.roomchatOptions = {json.dumps(PAGE_OPTIONS)};")
    page = ChatPage(context.new_page(), hosted)
    try:
        yield page
    finally:
        context.close()
    page.errors = [e for e in page.errors if PROBE_403 not in e]
    page.assert_healthy()


def test_the_hosted_page_is_served_with_its_csp_and_types(browser, hosted, chat_stack) -> None:
    context = browser.new_context()
    try:
        page: Any = context.new_page()
        response = page.goto(hosted)
        assert response.status == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == hosting.served_csp(chat_stack.url)
        script = page.request.get(hosted + "js/app.js")
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    finally:
        context.close()


def test_the_hosted_page_finds_the_stack_in_config_json_and_chats(visitor, chat_stack, wire):
    room = room_name("hosted")
    bob = wire("bob")
    bob.join(room)

    visitor.open()
    assert visitor.page.input_value("#ws-url") == chat_stack.url
    assert "config.json" in visitor.page.text_content("#ws-source")
    visitor.connect("ana", room)

    bob.say(room, "hello from the wire")
    visitor.wait_for_message("hello from the wire")
    visitor.say("hello from the hosted page")
    frame = bob.until(lambda f: f.get("message") == "hello from the hosted page")
    assert (frame["sender"], frame["roomId"]) == ("ana", room)
