"""The web client (web/) in headless Chromium against the whole local stack: the same Terraform,
the same Lambda code, the gateway serving the page and the WebSocket on one port."""

from __future__ import annotations

import pytest

from tests.browser.support import PHONE, STACK_IDLE_TIMEOUT_S, room_name
from tests.reliability.support import GatewayFaults, Tables

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def test_page_prefills_the_local_stack_websocket_url(people, chat_stack):
    (ana,) = people(1)
    ana.open()
    assert ana.page.input_value("#ws-url") == chat_stack.info["websocket_url"]
    assert "local stack" in ana.page.text_content("#ws-source")


def test_ws_parameter_naming_another_server_is_ignored_and_said_so(people, chat_stack):
    """The page is configured (the local stack's devstack.json): a link cannot point it at
    another server, where a signed-in user's token would go."""
    (ana,) = people(1)
    ana.open("?ws=wss%3A%2F%2Fabc123.execute-api.eu-west-1.amazonaws.com%2Fprod")
    assert ana.page.input_value("#ws-url") == chat_stack.info["websocket_url"]
    assert "Ignored: the ?ws= parameter names wss://abc123" in ana.page.text_content("#ws-source")


def test_two_people_chat_in_one_room_while_a_third_in_another_room_sees_nothing(people, artifacts):
    lobby, other = room_name("lobby"), room_name("other")
    ana, bob, carl = people(3)
    ana.open().connect("ana", lobby)
    bob.open().connect("bob", lobby)
    carl.open().connect("carl", other)

    # when
    ana.say("hi bob, are you there?")
    bob.wait_for_message("hi bob, are you there?")
    bob.say("yes! hello ana")
    ana.wait_for_message("yes! hello ana")

    # then
    expected = [("ana", "hi bob, are you there?"), ("bob", "yes! hello ana")]
    assert ana.messages() == expected
    assert bob.messages() == expected
    assert "bob joined" in ana.notices()
    ana.page.wait_for_function(
        "() => document.querySelector('#member-list').textContent.includes('bob')"
    )
    carl.page.wait_for_timeout(500)
    assert carl.messages() == []
    assert carl.notices() == []
    assert carl.unread(other) is None


def _unused_room(stack, name: str) -> str:
    """`name` if this stack has never seen it (a tidier picture), else a fresh variant."""
    ddb = stack.client("dynamodb")
    for table in (stack.info["rooms_table"], stack.info["history_table"]):
        found = ddb.query(
            TableName=table,
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": name}},
            Limit=1,
        )["Items"]
        if found:
            return room_name(name)
    return name


def test_two_room_conversation_with_unread_counts(people, chat_stack, artifacts):
    """The picture for the README: one person in two rooms, messages waiting in the other one."""
    team, random_ = _unused_room(chat_stack, "team"), _unused_room(chat_stack, "random")
    ana, bob, carl = people(3)
    ana.open().connect("ana", team)
    bob.open().connect("bob", team)
    carl.open().connect("carl", random_)
    ana.join(random_)
    ana.show(team)

    bob.say("Morning! The deploy to staging went through.")
    ana.wait_for_message("Morning! The deploy to staging went through.")
    ana.say("Great. Did the history paging fix make it in?")
    bob.wait_for_message("Great. Did the history paging fix make it in?")
    bob.say("It did: `before` is the previous page's `next` now.")
    bob.say("Checked it with 500 messages, no gaps, no duplicates.")
    ana.wait_for_message("Checked it with 500 messages, no gaps, no duplicates.")
    ana.say("Lovely, I'll tell the others.")
    carl.say("Anyone up for lunch at 12:30?")
    carl.say("The new place on the corner does ramen.")

    # then: the other room counts what came in
    ana.page.wait_for_function(
        f"""() => document.querySelector('.room-tab[data-room="{random_}"] .badge')
                     ?.textContent === '2'"""
    )
    assert ana.unread(random_) == "2"
    assert ana.unread(team) is None
    ana.page.screenshot(path=str(artifacts / "two-rooms.png"))

    # when ana looks at the other room, it is read
    ana.show(random_)
    ana.wait_for_message("The new place on the corner does ramen.")
    assert ana.unread(random_) is None
    assert [s for s, _ in ana.messages()] == ["carl", "carl"]


def test_history_is_shown_again_after_a_reload(people):
    room = room_name("reload")
    (ana,) = people(1)
    ana.open().connect("ana", room)
    for text in ("first", "second", "third"):
        ana.say(text)
    ids = ana.message_ids()

    # when
    ana.page.reload()
    ana.page.wait_for_selector("html[data-ready=true]")
    ana.wait_joined(room)
    ana.wait_for_message("third")

    # then: the same messages, from the joined frame's `recent`, each once
    assert ana.messages() == [("ana", "first"), ("ana", "second"), ("ana", "third")]
    assert ana.message_ids() == ids


def test_load_older_pages_back_through_history(people, seed):
    room = room_name("paging")
    seed(room, [f"message {i:03d}" for i in range(75)])
    (ana,) = people(1)
    ana.open().connect("ana", room)
    ana.wait_for_message("message 074")
    assert [t for _, t in ana.messages()] == [f"message {i:03d}" for i in range(55, 75)]

    # when: one page back (50 before the oldest shown)
    ana.page.click("#load-older")
    ana.wait_for_message("message 005")
    assert [t for _, t in ana.messages()] == [f"message {i:03d}" for i in range(5, 75)]
    assert ana.page.is_visible("#load-older")

    # when: the last page
    ana.page.click("#load-older")
    ana.wait_for_message("message 000")

    # then: all of it, in order, once; and nothing older to load
    assert [t for _, t in ana.messages()] == [f"message {i:03d}" for i in range(75)]
    assert len(set(ana.message_ids())) == 75
    ana.page.wait_for_selector("#load-older", state="hidden")
    assert ana.page.text_content("#older-state") == "This is the start of the room."


def test_markup_in_a_message_or_a_name_is_shown_as_text(people):
    room = room_name("xss")
    mallory, ana = people(2)
    mallory.open().connect(XSS, room)
    ana.open().connect("ana", room)

    # when
    mallory.say(XSS)
    ana.wait_for_message(XSS)

    # then: shown literally, no element made of it, nothing ran
    assert ana.messages() == [(XSS, XSS)]
    assert mallory.messages() == [(XSS, XSS)]
    for chat in (ana, mallory):
        assert chat.page.query_selector_all("#timeline img, #member-list img, .alerts img") == []
        assert XSS in chat.page.inner_text("#member-list")
        assert chat.dialogs == []


def test_a_server_error_is_shown_in_words(people):
    room = room_name("errors")
    (ana,) = people(1)
    ana.open().connect("ana", room)

    # when: a request the server refuses (the page itself never sends one)
    ana.page.evaluate(
        "room => window.roomchat.client.sendFrame({action: 'history', roomId: room, limit: 500})",
        room,
    )

    # then
    alert = ana.page.wait_for_selector(".alert .alert-text")
    text = alert.text_content()
    assert text.startswith("The server could not accept that request")  # code bad_request
    assert "limit" in text  # and the server's own words
    ana.page.click(".alert .alert-close")
    ana.page.wait_for_selector(".alert", state="detached")


def test_a_message_too_big_for_one_frame_is_refused_before_sending(people):
    room = room_name("big")
    (ana,) = people(1)
    ana.open().connect("ana", room)
    ana.page.fill("#message", "x" * 33_000)
    ana.page.press("#message", "Enter")
    assert "too long" in ana.page.text_content("#composer-problem")
    assert ana.state()["connections"] == 1  # the gateway would have closed it (1009)


def _connection_ids(stack, room: str, name: str) -> list[str]:
    items = stack.client("dynamodb").query(
        TableName=stack.info["rooms_table"],
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": room}},
    )["Items"]
    return [i["connectionId"]["S"] for i in items if i.get("name", {}).get("S") == name]


def test_a_deleted_connection_reconnects_and_rejoins_by_itself(people, chat_stack):
    room = room_name("drop")
    ana, bob = people(2)
    ana.open().connect("ana", room)
    bob.open().connect("bob", room)
    ana.say("before the drop")
    bob.wait_for_message("before the drop")
    (connection_id,) = _connection_ids(chat_stack, room, "ana")

    # when: the server side ends ana's connection (DELETE @connections/{id})
    chat_stack.management().delete_connection(ConnectionId=connection_id)

    # then: ana's page reconnects and re-joins on a new connection
    ana.page.wait_for_function(
        "() => window.roomchat.client.connections === 2 && window.roomchat.client.status === 'open'"
    )
    ana.wait_joined(room)
    bob.page.wait_for_function(
        "() => [...document.querySelectorAll('.notice')].some(n => n.textContent === 'ana joined')"
    )
    assert _connection_ids(chat_stack, room, "ana") not in ([], [connection_id])
    ana.say("after the drop")
    bob.wait_for_message("after the drop")
    assert ana.messages() == [("ana", "before the drop"), ("ana", "after the drop")]
    assert bob.messages() == ana.messages()
    assert "bob left" not in ana.notices()


def test_messages_sent_while_away_are_filled_in_without_duplicates(people, chat_stack, wire, seed):
    room = room_name("gap")
    bob = wire("bob")
    bob.join(room)
    bob.say(room, "one")
    (ana,) = people(1)
    ana.open().connect("ana", room)
    ana.wait_for_message("one")
    (connection_id,) = _connection_ids(chat_stack, room, "ana")
    # a long back-off, so the gap is there for sure; the user ends it with "Retry now"
    ana.page.evaluate("() => { window.roomchat.client.backoff = {baseMs: 120000, capMs: 120000}; }")

    # when: dropped, and more than one `recent` worth (20) is said while ana is away
    chat_stack.management().delete_connection(ConnectionId=connection_id)
    ana.page.wait_for_selector("#retry-now:visible")
    assert "Connection lost" in ana.page.text_content("#conn-text")
    ana.page.fill("#message", "typed while away")
    ana.page.press("#message", "Enter")
    ana.page.wait_for_selector("#timeline .msg.pending.queued")
    seed(room, [f"missed {i:02d}" for i in range(30)], name="bob")
    ana.page.click("#retry-now")

    # then: every message once, in order, and ana's queued message delivered once
    ana.wait_for_message("typed while away", timeout=20_000)
    texts = [t for _, t in ana.messages()]
    assert texts == ["one", *(f"missed {i:02d}" for i in range(30)), "typed while away"]
    assert len(set(ana.message_ids())) == len(texts)
    echo = bob.until(lambda f: f.get("type") == "message" and f.get("sender") == "ana")
    assert echo["message"] == "typed while away"
    with pytest.raises(TimeoutError):
        bob.until(lambda f: f.get("type") == "message" and f.get("sender") == "ana", timeout=1.5)
    assert ana.state()["status"] == "open"


def test_keepalive_holds_an_idle_page_past_the_idle_timeout(people):
    room = room_name("idle")
    (ana,) = people(1)
    ana.open().connect("ana", room)
    ana.page.wait_for_timeout((STACK_IDLE_TIMEOUT_S + 2) * 1000)
    assert ana.state() == {
        "status": "open",
        "connections": 1,
        "rooms": [{"id": room, "status": "joined"}],
    }


def test_leaving_a_room_removes_it_and_tells_the_others(people):
    room, other = room_name("stay"), room_name("go")
    ana, bob = people(2)
    ana.open().connect("ana", room)
    ana.join(other)
    bob.open().connect("bob", other)
    ana.show(other)

    # when
    ana.page.click("#leave")

    # then
    ana.page.wait_for_selector(f'.room-tab[data-room="{other}"]', state="detached")
    assert ana.page.text_content("#room-title") == f"#{room}"
    bob.page.wait_for_function(
        "() => [...document.querySelectorAll('.notice')].some(n => n.textContent === 'ana left')"
    )


def test_phone_width_layout(people, artifacts):
    room, other = room_name("phone"), room_name("side")
    ana, bob = people(2, viewport=PHONE)
    ana.open().connect("ana", room)
    ana.join(other)
    ana.show(room)
    bob.open().connect("bob", room)
    bob.say("Hi from a phone-width screen, this line is long enough to wrap around.")
    ana.wait_for_message("Hi from a phone-width screen, this line is long enough to wrap around.")
    ana.say("Same here, the rooms are up there.")

    # then: nothing wider than the screen, the composer and the room strip in view
    width = ana.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    for selector in ("#message", "#send", f'.room-tab[data-room="{room}"]'):
        box = ana.page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
        assert box["y"] + box["height"] <= PHONE["height"], selector
    assert not ana.page.is_visible("#members")  # a drawer on phones
    ana.page.screenshot(path=str(artifacts / "phone.png"))
    ana.page.click("#members-toggle")
    ana.page.wait_for_function(
        "() => document.querySelector('#member-list').textContent.includes('bob')"
    )
    ana.page.locator("#members").wait_for(state="visible")
    ana.page.click("#members-close")
    ana.page.locator("#members").wait_for(state="hidden")


def test_twenty_messages_typed_at_once_are_stored_and_delivered_in_the_order_typed(
    people, chat_stack
):
    # API Gateway may run one connection's frames concurrently: the page's outbox (one sendAll
    # in flight per room) keeps a fast typist's messages in the order typed.
    room = room_name("typist")
    ana, bob = people(2)
    ana.open().connect("ana", room)
    bob.open().connect("bob", room)
    typed = [f"quick {i:02d}" for i in range(20)]
    # the gateway runs ana's first sendAll late, as API Gateway may
    faults = GatewayFaults(chat_stack.info["http_url"])
    faults.hold_frames(Tables(chat_stack).member_ids(room)["ana"], "sendAll", 0.8)

    # when ana types 20 messages as fast as she can
    try:
        for text in typed:
            ana.page.fill("#message", text)
            ana.page.press("#message", "Enter")
        ana.page.wait_for_function(
            "() => !document.querySelector('#timeline .msg.pending')", timeout=60_000
        )
    finally:
        faults.clear()

    # then both see them in that order, and history holds them in that order
    bob.wait_for_message(typed[-1], timeout=30_000)
    assert ana.messages() == [("ana", text) for text in typed]
    assert bob.messages() == [("ana", text) for text in typed]
    items = chat_stack.client("dynamodb").query(
        TableName=chat_stack.info["history_table"],
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": room}},
        ConsistentRead=True,
    )["Items"]
    assert [item["message"]["S"] for item in items] == typed
    ana.assert_healthy()
    bob.assert_healthy()
