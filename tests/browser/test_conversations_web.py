"""Conversations in the web page, in headless Chromium against the local stack: two people
reply in a thread (the thread pane) and react (the reaction bar); a mention of the other is
completed from the members and highlighted; the thread's replies stay out of the room."""

from __future__ import annotations

import pytest

from tests.browser.support import room_name

pytestmark = pytest.mark.browser


def _message(page, text: str) -> str:
    return f'#timeline .msg:not(.pending):has(.msg-body:text-is("{text}"))'


def test_two_people_reply_in_a_thread_and_react(people, artifacts):
    room = room_name("thread")
    ana, bob = people(2)
    ana.open().connect("ana", room)
    bob.open().connect("bob", room)
    ana.say("lunch at noon?")
    bob.wait_for_message("lunch at noon?")

    # bob opens the thread and replies; ana sees the count on the parent and opens it too
    bob.page.click(f"{_message(bob.page, 'lunch at noon?')} button[data-action='thread']")
    bob.page.wait_for_selector("#thread:not([hidden])")
    bob.page.fill("#thread-message", "yes, see you")
    bob.page.press("#thread-message", "Enter")
    bob.page.wait_for_selector("#thread-replies .msg.reply:has-text('yes, see you')")
    ana.page.wait_for_selector(
        f"{_message(ana.page, 'lunch at noon?')} .thread-link:text-is('1 reply')"
    )
    ana.page.click(f"{_message(ana.page, 'lunch at noon?')} .thread-link")
    ana.page.wait_for_selector("#thread-replies .msg.reply:has-text('yes, see you')")
    ana.page.fill("#thread-message", "great")
    ana.page.press("#thread-message", "Enter")
    bob.page.wait_for_selector("#thread-replies .msg.reply:has-text('great')")
    # the replies are in the thread, not in the room
    assert [t for _, t in ana.messages()] == ["lunch at noon?"]
    ana.page.wait_for_selector(
        f"{_message(ana.page, 'lunch at noon?')} .thread-link:text-is('2 replies')"
    )

    # reactions: both react with 🎉 on the parent, and bob with 👍 on ana's reply
    ana.page.click(f"{_message(ana.page, 'lunch at noon?')} .quick[data-emoji='🎉']")
    bob.page.click(f"{_message(bob.page, 'lunch at noon?')} .quick[data-emoji='🎉']")
    for person in (ana, bob):
        person.page.wait_for_selector(
            f"{_message(person.page, 'lunch at noon?')} .reaction:text-is('🎉 2')"
        )
    bob.page.click("#thread-replies .msg.reply:has-text('great') .quick[data-emoji='👍']")
    ana.page.wait_for_selector(
        "#thread-replies .msg.reply:has-text('great') .reaction:text-is('👍 1')"
    )
    # ana takes hers back by clicking her chip
    ana.page.click(f"{_message(ana.page, 'lunch at noon?')} .reaction.mine")
    bob.page.wait_for_selector(f"{_message(bob.page, 'lunch at noon?')} .reaction:text-is('🎉 1')")

    # a mention: ana types @b, picks bob from the members offered; bob sees it highlighted
    ana.page.click("#thread [data-action='close-thread']")
    ana.page.fill("#message", "")
    ana.page.type("#message", "thanks @b")
    ana.page.wait_for_selector("#mention-options [data-name='bob']")
    ana.page.click("#mention-options [data-name='bob']")
    assert ana.page.input_value("#message") == "thanks @bob "
    ana.page.press("#message", "Enter")
    bob.page.wait_for_selector("#timeline .msg:has-text('thanks') mark.mention.me:text-is('@bob')")
    bob.page.screenshot(path=str(artifacts / "conversations.png"))
    ana.assert_healthy()
    bob.assert_healthy()
