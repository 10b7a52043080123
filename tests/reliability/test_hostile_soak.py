"""One hostile client against honest ones on the shared stack, with the gateway's limits on
(tests/reliability/hostile.py). `make test` runs the small version: 2 rooms of 3 honest clients,
a big room of 30 rows, and the gateway-level attacks (a typing flood that hits the route's
throttle, a connect storm, oversize URLs); `make soak` (ROOMCHAT_SOAK=full) runs every attack on
200 honest clients in 20 rooms and a room of 2,000 members. No timed assertion: the latencies are
reported (-s), the losses and the attacker's refusals are asserted."""

from __future__ import annotations

import os

import pytest

from tests.e2e.support import run
from tests.reliability.hostile import FULL, SMALL, run_soak, table

pytestmark = pytest.mark.e2e


def test_one_hostile_client_costs_the_honest_ones_no_message(stack):
    shape = FULL if os.environ.get("ROOMCHAT_SOAK") == "full" else SMALL
    reports = run(run_soak(stack, shape), timeout=3600 if shape is FULL else 300)
    print("\n" + table(reports))
    for report in reports:
        print(report.line())
    by_attack = {r.attack: r for r in reports}
    for report in reports:
        assert report.honest_lost == 0, report.line()
        assert report.honest_sent == (
            shape.honest_rooms * shape.clients_per_room * shape.messages_per_phase
        )
    typing = by_attack["typing"]
    # the typing route's bucket (10/s, burst 10) refused most of the flood: a frame each
    assert typing.attacker.get("throttled (429 frame)", 0) >= shape.flood // 2, typing.line()
    assert typing.throttled >= shape.flood // 2
    oversize = by_attack["oversize URL"]
    assert set(oversize.attacker) == {"refused 414"}, oversize.line()
    storm = by_attack["connect storm"]
    assert sum(storm.attacker.values()) == shape.flood
    assert set(storm.attacker) <= {"connected", "refused 429"}, storm.line()
