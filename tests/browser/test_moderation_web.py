"""Issue 13 in the web client: edit and delete one's own message, the typing indicator, and unread
counts from the server's read marker, in headless Chromium against the local stack."""

from __future__ import annotations

import pytest

from tests.browser.support import room_name

pytestmark = pytest.mark.browser


def _own(page, text: str, action: str) -> None:
    page.click(
        f'#timeline .msg:not(.pending):has(.msg-body:text-is("{text}")) '
        f'button[data-action="{action}"]'
    )


def test_edit_delete_and_typing_between_two_people(people, artifacts):
    room = room_name("life")
    ana, bob = people(2)
    ana.open().connect("ana", room)
    bob.open().connect("bob", room)

    # edit: ana fixes a typo; both see the new text, marked edited, in the same place
    ana.say("helo")
    bob.wait_for_message("helo")
    bob.say("hi ana")
    ana.wait_for_message("hi ana")
    assert bob.page.query_selector('#timeline .msg button[data-action="edit"]').text_content()
    _own(ana.page, "helo", "edit")
    ana.page.fill("#message", "hello")
    ana.page.press("#message", "Enter")
    bob.wait_for_message("hello")
    ana.wait_for_message("hello")
    assert [t for _, t in bob.messages()] == ["hello", "hi ana"]
    assert bob.page.query_selector('#timeline .msg:has(.msg-body:text-is("hello")) .edited')
    # bob may not edit or delete ana's message: no edit or delete button on it
    assert not bob.page.query_selector(
        '#timeline .msg:has(.msg-body:text-is("hello")) '
        ':is(button[data-action="edit"], button[data-action="delete"])'
    )

    # delete: the message stays in its place as a tombstone without its text
    ana.say("my password is hunter2")
    bob.wait_for_message("my password is hunter2")
    _own(ana.page, "my password is hunter2", "delete")
    bob.page.wait_for_selector("#timeline .msg.deleted .msg-deleted")
    texts = [t for _, t in bob.messages()]
    assert "my password is hunter2" not in texts
    assert texts[-1] == "This message was deleted."

    # typing: bob types, ana sees it in the room's header, bob does not see himself
    bob.page.type("#message", "on my way")
    ana.page.wait_for_function(
        "() => document.querySelector('#room-meta').textContent.includes('bob is typing')"
    )
    assert "typing" not in bob.page.text_content("#room-meta")
    ana.page.screenshot(path=str(artifacts / "moderation.png"))


def test_unread_counts_come_from_the_server_after_a_reload(people, wire):
    room, other = room_name("here"), room_name("there")
    (ana,) = people(1)
    ana.open().connect("ana", room)
    ana.join(other)
    ana.show(room)
    bob = wire("bob")
    bob.join(other)
    for i in range(3):
        bob.say(other, f"news {i}")
    ana.page.wait_for_function(
        f"""() => document.querySelector('.room-tab[data-room="{other}"] .badge')
                     ?.textContent === '3'"""
    )

    # a reload is a new connection: its joined frame carries the server's unread count
    ana.page.reload()
    ana.page.wait_for_selector("html[data-ready=true]")
    ana.wait_joined(other)
    ana.page.wait_for_function(
        f"""() => document.querySelector('.room-tab[data-room="{other}"] .badge')
                     ?.textContent === '3'"""
    )
    assert ana.page.evaluate(f"() => window.roomchat.client.rooms.get('{other}').unread") == 3

    # reading the room moves the server's read marker to its newest message
    ana.show(other)
    ana.wait_for_message("news 2")
    assert ana.unread(other) is None
    newest = ana.message_ids()[-1]
    ana.page.wait_for_function(
        f"() => window.roomchat.client.rooms.get('{other}').lastRead === '{newest}'"
    )
