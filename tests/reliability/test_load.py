"""Load on the local stack with nothing lost: many clients in many rooms sending concurrently.

Every member must receive every message of its room exactly once, each sender's messages in the
order it sent them (by arrival, and by messageId), nothing from another room, and the history
table must hold exactly the messages sent. The size is ``ROOMCHAT_LOAD=CLIENTSxROOMSxMESSAGES``:
small by default (``make test``), ``200x20x20`` under ``make soak``.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.reliability.load import LoadRun, Shape
from tests.reliability.support import Tables
from tests.stack import STACK_IDLE_TIMEOUT_S

pytestmark = pytest.mark.e2e

SMALL = "40x8x5"


def test_every_member_receives_every_message_of_its_room_once_and_in_order(stack):
    shape = Shape.parse(os.environ.get("ROOMCHAT_LOAD") or SMALL)
    # Generous: on 2 cores the stack handles roughly 20-40 sendAll a second.
    deadline = 60 + shape.clients * shape.messages / 5
    load = LoadRun(stack.url, shape, idle_timeout=STACK_IDLE_TIMEOUT_S, deadline_s=deadline)

    asyncio.run(asyncio.wait_for(load.run(), deadline + 60))

    tables = Tables(stack)
    history = {load.room(r): tables.messages(load.room(r)) for r in range(shape.rooms)}
    figures = load.account(history)
    print(f"\nload figures: {figures.summary()}")
    assert figures.messages == shape.clients * shape.messages, figures
    assert figures.deliveries == figures.expected_deliveries, figures
    assert (figures.lost, figures.duplicated, figures.crossed_rooms) == (0, 0, 0), figures
    assert (figures.out_of_order_arrival, figures.out_of_order_id) == (0, 0), figures
    assert (figures.history_missing, figures.history_extra) == (0, 0), figures
    assert (figures.errors, figures.echo_timeouts) == (0, 0), figures


@pytest.mark.parametrize(
    ("text", "shape"), [("40x8x5", Shape(40, 8, 5)), (" 200x20x20 ", Shape(200, 20, 20))]
)
def test_load_shape_is_clients_rooms_messages(text, shape):
    assert Shape.parse(text) == shape


@pytest.mark.parametrize("text", ["", "40x8", "8x40x5", "40x0x5", "40x8x0", "ax8x5"])
def test_load_shape_refuses_what_it_cannot_run(text):
    with pytest.raises(ValueError):
        Shape.parse(text)
