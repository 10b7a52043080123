"""Budgets by cost, not count (docs/limits.md): what one connection, and one signed-in user
across all of their connections, may spend on every action, reads included.

- ``admit``: before an action, one unit from the connection's budget and the user's; a budget
  that has none (or is in debt) refuses the action (``RateLimited``) before anything is read.
- ``settle``: after it, what it cost beyond that unit: one more per BYTES_PER_UNIT bytes it
  read (``metering``: about what DynamoDB billed, so a history page of large messages or a
  member list of a huge room costs what it read) and per POSTS_PER_UNIT posts it made; the
  budgets may go into debt, and then refuse until refilled.
- ``refused``: a refusal for rate (these budgets or the per-second counters) is a strike; a
  connection with STRIKES_BEFORE_CLOSE strikes in a minute gets a ``closing`` frame saying
  why and is closed through @connections DELETE (API Gateway then runs its $disconnect).

The buckets are the rate limiter's (``RateLimiter.admit``/``charge``: one item per budget in
the history table's ``rate#`` partitions, shared by every Lambda instance).
"""

from __future__ import annotations

import math

from .. import logs, metering, protocol
from ..errors import RateLimited
from ..settings import BYTES_PER_UNIT, POSTS_PER_UNIT
from .core import Caller, Deps

STRIKE_WINDOW_S = 60


def _budgets(deps: Deps, caller: Caller) -> list[tuple[str, int, int]]:
    """(key, units per second, burst) of each budget the caller spends from."""
    s = deps.settings
    found = []
    if s.cost_per_second and caller.connection_id:
        found.append(("cost#" + caller.connection_id, s.cost_per_second, s.cost_burst))
    if s.user_cost_per_second and caller.user_id:
        found.append(("cost#u#" + caller.user_id, s.user_cost_per_second, s.user_cost_burst))
    return found


def admit(deps: Deps, caller: Caller, action: str) -> None:
    """Take the action's first unit from each budget, or refuse it (``RateLimited``)."""
    metering.reset()
    if deps.limiter is None:
        return
    now = deps.clock()
    for key, per_second, burst in _budgets(deps, caller):
        if not deps.limiter.admit(key, now, per_second, burst):
            whose = "your" if key.startswith("cost#u#") else "this connection's"
            raise RateLimited(
                f"{whose} request budget ({per_second} units a second, reads and posts "
                f"counted) is spent; {action} was not done, wait a moment"
            )


def cost(bytes_read: int, posts: int) -> int:
    """Units an action spent beyond its first: what it read and what it posted."""
    return math.ceil(bytes_read / BYTES_PER_UNIT) + math.ceil(posts / POSTS_PER_UNIT)


def settle(deps: Deps, caller: Caller) -> int:
    """Charge the budgets what the action read and posted beyond its first unit; the units."""
    units = cost(metering.bytes_read(), deps.counts.members)
    metering.reset()
    if deps.limiter is None or units <= 0:
        return units
    now = deps.clock()
    for key, per_second, _ in _budgets(deps, caller):
        deps.limiter.charge(key, now, per_second, units)
    return units


def refused(deps: Deps, caller: Caller) -> bool:
    """Count a refusal for rate against the connection; at STRIKES_BEFORE_CLOSE in a minute,
    tell it why and close it. Whether it was closed."""
    limit = deps.settings.strikes_before_close
    if deps.limiter is None or not limit or not caller.connection_id:
        return False
    try:
        strikes = deps.limiter.strikes(
            "strike#" + caller.connection_id, deps.clock(), STRIKE_WINDOW_S
        )
    except Exception as e:  # the refusal stands; only its count is lost
        logs.warning("strike_not_counted", error=type(e).__name__)
        return False
    if strikes < limit:
        return False
    frame = protocol.closing_frame(
        "rate_limited",
        f"this connection was closed: {strikes} requests refused for rate within a minute; "
        "reconnect and slow down",
    )
    data = protocol.encode(frame).encode("utf-8")
    deps.sender.send_many([caller.connection_id], data, deadline=deps.deadline)
    # The close ends it: API Gateway runs $disconnect, which takes it out of its rooms.
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
    deps.sender.disconnect(caller.connection_id)
    logs.metrics("closed_for_rate", {"closedForRate": (1, logs.COUNT)}, strikes=strikes)
    return True
