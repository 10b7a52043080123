"""The web client on a stack that needs a token (`auth_mode = "oidc"` with a Cognito user pool on
the emulator: the session's one auth stack, `oidc_stack` of tests/stack.py): people sign in
through the page (InitiateAuth USER_PASSWORD_AUTH against the emulator, from the browser, under
the page's CSP) or paste a token, create a private room, invite by user id, and a third person can
neither join nor read it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.request import urlopen

import pytest

from roomchat_tools.local import webpage
from tests import hosting
from tests.browser.support import DESKTOP, PAGE_OPTIONS, ChatPage
from tests.stack import COGNITO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def visitors(browser, oidc_stack) -> Iterator[Any]:
    """`visitors(n)` -> n ChatPages on the auth stack's page, each in its own browser context."""
    contexts: list[Any] = []
    pages: list[ChatPage] = []

    def make(count: int) -> list[ChatPage]:
        for _ in range(count):
            context = browser.new_context(viewport=DESKTOP)
            context.add_init_script(f"window.roomchatOptions = {json.dumps(PAGE_OPTIONS)};")
            contexts.append(context)
            pages.append(ChatPage(context.new_page(), oidc_stack.info["http_url"] + "/"))
        return pages[-count:]

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    for chat in pages:
        chat.assert_healthy()


def sign_in_on_page(chat: ChatPage, username: str) -> str:
    """Signs in with the form; returns the user id the page shows."""
    page = chat.page
    page.wait_for_selector("#auth-box:not([hidden]) #sign-in-fields:not([hidden])")
    page.fill("#auth-user", username)
    page.fill("#auth-password", COGNITO_PASSWORD)
    page.click("#sign-in")
    page.wait_for_function(
        "name => document.querySelector('#auth-state').textContent"
        ".includes('Signed in as ' + name)",
        arg=username,
        timeout=15_000,
    )
    assert page.input_value("#auth-password") == ""  # never kept
    return page.evaluate("() => window.roomchat.identity.user.userId")


def connect(chat: ChatPage, room: str) -> None:
    chat.page.fill("#first-room", room)
    chat.page.click("#connect-form button[type=submit]")
    chat.wait_joined(room)


def wait_log(chat: ChatPage, text: str) -> None:
    chat.page.wait_for_function(
        "text => [...document.querySelectorAll('#room-admin-log li')]"
        ".some(n => n.textContent.includes(text))",
        arg=text,
        timeout=15_000,
    )


def error_answer(chat: ChatPage, frame: dict) -> dict:
    """Sends a frame from the page's connection and returns the error frame it gets."""
    return chat.page.evaluate(
        """frame => new Promise((resolve, reject) => {
            const client = window.roomchat.client;
            const hook = (f) => {
              if (f.type === 'error' && f.action === frame.action) {
                client.frameHooks.delete(hook);
                resolve(f);
              }
            };
            client.frameHooks.add(hook);
            if (!client.sendFrame(frame)) reject(new Error('not connected'));
            setTimeout(() => reject(new Error('no answer')), 10000);
        })""",
        frame,
    )


def test_the_page_is_told_how_to_sign_in_and_may_reach_only_that_endpoint(oidc_stack):
    base = oidc_stack.info["http_url"]
    with urlopen(base + "/devstack.json", timeout=10) as response:
        auth = json.load(response)["auth"]
    outputs = oidc_stack.info["outputs"]
    assert auth == {
        "authMode": "oidc",
        "cognitoClientId": outputs["cognito_client_id"],
        "cognitoEndpoint": oidc_stack.info["emulator_endpoint"].rstrip("/") + "/",
    }
    with urlopen(base + "/", timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
        html = response.read().decode()
    emulator = webpage.origin(oidc_stack.info["emulator_endpoint"])
    websocket = webpage.websocket_origin(oidc_stack.url)
    connect_src = next(d for d in csp.split(";") if d.strip().startswith("connect-src"))
    assert connect_src.split() == ["connect-src", "'self'", websocket, emulator]
    assert csp == webpage.narrowed_csp(webpage.page_csp(html), emulator, oidc_stack.url)


def test_signed_in_people_share_a_private_room_and_a_third_can_neither_join_nor_read_it(
    visitors, cognito_user, sign_in, artifacts
):
    suffix = uuid.uuid4().hex[:6]
    ana_name, bo_name = cognito_user(f"ana-{suffix}"), cognito_user(f"bo-{suffix}")
    cy_token, _ = sign_in(f"cy-{suffix}")
    lobby, team = f"lobby-{suffix}", f"team-{suffix}"
    ana, bo, cy = (chat.open() for chat in visitors(3))

    sign_in_on_page(ana, ana_name)
    assert ana.page.input_value("#name") == ana_name  # from the token, the server's name too
    connect(ana, lobby)
    ana.page.fill("#create-room", team)
    ana.page.select_option("#create-policy", "private")
    ana.page.click("#create-form button[type=submit]")
    ana.wait_joined(team)
    ana.show(team)
    access = ana.page.text_content("#room-access")
    assert "private" in access and "you: owner" in access

    bo_id = sign_in_on_page(bo, bo_name)
    connect(bo, lobby)
    ana.page.fill("#role-user", bo_id)
    ana.page.select_option("#role-action", "invite")
    ana.page.click("#role-form button[type=submit]")
    wait_log(ana, f"{bo_id} is now member of #{team}")

    bo.join(team).show(team)
    assert "you: member" in bo.page.text_content("#room-access")
    ana.say("plan")
    bo.wait_for_message("plan")
    bo.say("on it")
    ana.wait_for_message("on it")
    assert ana.messages() == [(ana_name, "plan"), (bo_name, "on it")]

    # A member may not promote: the page says so in words.
    bo.page.fill("#role-user", bo_id)
    bo.page.select_option("#role-action", "promote")
    bo.page.click("#role-form button[type=submit]")
    wait_log(bo, f"Only the room owner may promote or demote (#{team})")

    # Cy pastes a token instead of signing in.
    cy.page.fill("#auth-token", cy_token)
    connect(cy, lobby)
    cy.page.fill("#join-room", team)
    cy.page.click("#join-form button[type=submit]")
    cy.page.wait_for_selector("#alerts .alert", timeout=15_000)
    alert = cy.page.text_content("#alerts .alert-text")
    assert "You may not do that in that room" in alert and team in alert
    wait_log(cy, "You may not enter that room: it is private and you are not invited")
    assert cy.page.query_selector(f'.room-tab[data-room="{team}"]') is None
    # Reading it is refused word for word as for a room that does not exist.
    nowhere = f"nowhere-{suffix}"
    refused = error_answer(cy, {"action": "history", "roomId": team})
    missing = error_answer(cy, {"action": "history", "roomId": nowhere})
    assert refused["code"] == missing["code"] == "not_member"
    assert refused["message"].replace(team, "X") == missing["message"].replace(nowhere, "X")
    assert "plan" not in cy.page.text_content("body")
    ana.page.screenshot(path=str(artifacts / "private-room.png"))


def test_the_hosted_page_signs_in_with_what_config_json_says(browser, oidc_stack, cognito_user):
    """As CloudFront serves it: config.json holds `auth` (here the emulator stands in for
    cognito-idp.<region>.amazonaws.com) and the CSP header allows that one sign-in origin."""
    name = cognito_user(f"dee-{uuid.uuid4().hex[:6]}")
    endpoint = oidc_stack.info["emulator_endpoint"].rstrip("/") + "/"
    auth = {
        "authMode": "oidc",
        "cognitoClientId": oidc_stack.info["outputs"]["cognito_client_id"],
        "cognitoEndpoint": endpoint,
    }
    room = f"hosted-{uuid.uuid4().hex[:6]}"
    with hosting.serving(hosting.site(oidc_stack.url, auth), sign_in_url=endpoint) as url:
        context = browser.new_context(viewport=DESKTOP)
        try:
            chat = ChatPage(context.new_page(), url).open()
            sign_in_on_page(chat, name)
            connect(chat, room)
            chat.say("from the hosted page")
        finally:
            context.close()
    # The page probes devstack.json first: 403 on the hosted site, as on CloudFront.
    assert [e for e in chat.errors if "status of 403" not in e] == []


class OtherServer:
    """A server on another local port that records every request line it receives (where a
    link's `?ws=` would send the page, as in the issue's reproduction)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.requests: list[str] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._sock.getsockname()[1]}/live"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    head = conn.recv(4096).decode(errors="replace")
                except OSError:
                    head = ""
                self.requests.append(head.split("\r\n", 1)[0])

    def close(self) -> None:
        self._sock.close()


def test_the_hosted_page_sends_its_token_to_no_other_server(browser, oidc_stack, cognito_user):
    """A link to the real page with `?ws=<another server>` is ignored (the page says so), a
    server typed by hand is refused while a token would go with it, and the page connects with
    its token to the configured stack only. Before, the page connected (twice, reconnecting)
    to the other server with `?token=` in the URL."""
    from urllib.parse import quote

    name = cognito_user(f"eve-{uuid.uuid4().hex[:6]}")
    endpoint = oidc_stack.info["emulator_endpoint"].rstrip("/") + "/"
    auth = {
        "authMode": "oidc",
        "cognitoClientId": oidc_stack.info["outputs"]["cognito_client_id"],
        "cognitoEndpoint": endpoint,
    }
    other = OtherServer()
    room = f"hosted-{uuid.uuid4().hex[:6]}"
    try:
        with hosting.serving(hosting.site(oidc_stack.url, auth), sign_in_url=endpoint) as url:
            context = browser.new_context(viewport=DESKTOP)
            try:
                chat = ChatPage(context.new_page(), url).open(f"?ws={quote(other.url, safe='')}")
                page = chat.page
                assert page.input_value("#ws-url") == oidc_stack.url
                assert "Ignored: the ?ws= parameter names" in page.text_content("#ws-source")
                sign_in_on_page(chat, name)
                page.fill("#ws-url", other.url)
                page.fill("#first-room", room)
                page.click("#connect-form button[type=submit]")
                assert "This page signs in only to" in page.text_content("#connect-problem")
                page.fill("#ws-url", oidc_stack.url)
                connect(chat, room)
                chat.say("only to my own server")
                page.wait_for_timeout(1000)
            finally:
                context.close()
    finally:
        other.close()
    assert other.requests == []
    assert [e for e in chat.errors if "status of 403" not in e] == []
