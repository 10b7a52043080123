"""How much a roomchat deployment accepts per second, and which AWS quota stops it first.

    python -m roomchat_tools.capacity            # prints the tables of docs/capacity.md
    python -m roomchat_tools.capacity --check    # exit 1 when docs/capacity.md differs
    python -m roomchat_tools.capacity --write    # rewrites them

For a deployment's variables (``Deployment``: the stage's route throttles, the account's quotas,
the reserved concurrency, the fan-out tier) and a room size, ``accepted(action, members)`` gives
the requests per second of ``sendAll`` (messages), ``join`` and ``$connect`` the deployment
accepts, the quota that binds first, the next one, and what to raise. Each quota is one line of
arithmetic on the documented limits (QUOTAS, with their pages) and on costs measured on this
project (COSTS, with where). ``recommended_route_throttling()`` sizes the per-route throttles for
a community (COMMUNITY): they are the defaults of ``route_throttling`` in infra/variables.tf
(tests/bench/test_capacity.py checks both, and that docs/capacity.md is this model's output).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAPACITY_DOC = ROOT / "docs" / "capacity.md"
ROOM_SIZES = (10, 50, 500, 5_000)


@dataclass(frozen=True)
class Quota:
    value: float
    source: str


QUOTAS = {
    # Account throttle, every API of the account in the Region, @connections posts included.
    "account_rps": Quota(
        10_000, "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
    ),
    "new_connections": Quota(
        500,
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html",
    ),
    # Lambda's default concurrency quota per account and Region; 100 must stay unreserved.
    "lambda_concurrency": Quota(
        1_000, "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html"
    ),
    # One DynamoDB partition: 1,000 write units and 3,000 read units a second. A room's
    # memberships and its history each share one partition key (the room).
    "partition_wcu": Quota(
        1_000,
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
    ),
    "partition_rcu": Quota(
        3_000,
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
    ),
}


@dataclass(frozen=True)
class Costs:
    """What one request costs, from this project's measurements (bench/results/latest.md;
    infra/README.md, "Function sizes")."""

    base_s: float = 0.03  # a small function's own work (one or two DynamoDB calls)
    post_s_send_all: float = 0.001  # ~1 ms of CPU per inline post at 1,769 MB (one vCPU)
    post_s_presence: float = 1 / 570  # join/leave/typing at 1,024 MB: ~570 posts/s
    fanout_posts_per_instance: float = 1_000.0  # the fan-out tier's lean poster, one vCPU
    member_item_bytes: int = 200
    message_item_bytes: int = 1_024  # a stored message with its attributes, rounded up
    # sendAll writes the rate counter, the idempotency claim and the message: the message and the
    # claim are in the room's history partition
    send_partition_wcu: int = 2
    recent_on_join: int = 50  # joined.recent + the unread count read on a join
    authorizer_s: float = 0.03
    # send_all reading a big room and queueing its chunks: ~1.2 s of CPU at 100,000 members
    # (docs/design.md, "Reading a big room")
    read_s_per_member: float = 1.2 / 100_000


COSTS = Costs()


@dataclass(frozen=True)
class RouteLimit:
    rate: float
    burst: int


@dataclass(frozen=True)
class Deployment:
    """The variables of infra/variables.tf the capacity depends on (their defaults)."""

    throttling_rate_limit: float = 100.0
    throttling_burst_limit: int = 200
    route_throttling: Mapping[str, RouteLimit] = field(default_factory=dict)
    account_rps: float = QUOTAS["account_rps"].value
    new_connections_per_s: float = QUOTAS["new_connections"].value
    lambda_concurrency_quota: int = int(QUOTAS["lambda_concurrency"].value)
    reserved_concurrency: Mapping[str, int] = field(default_factory=dict)
    fanout_tier_threshold: int = 2_000
    fanout_max_concurrency: int = 8
    auth: bool = False  # a Lambda authorizer on $connect

    def route(self, key: str) -> RouteLimit:
        return self.route_throttling.get(
            key, RouteLimit(self.throttling_rate_limit, self.throttling_burst_limit)
        )

    def concurrency(self, function: str) -> float:
        """The concurrent executions a function may use: its reservation, or the unreserved pool."""
        if function in self.reserved_concurrency:
            return self.reserved_concurrency[function]
        return self.lambda_concurrency_quota - sum(self.reserved_concurrency.values())


@dataclass(frozen=True)
class Community:
    """The community the default route throttles are sized for (docs/capacity.md)."""

    users_online: int = 10_000
    room_members: int = 50  # the room a typical message or presence frame goes to
    messages_per_user_per_min: float = 0.5
    peak_factor: float = 2.0  # the busiest minute against the average
    reconnect_window_s: float = 60.0  # every user reconnects within a minute (a deploy, an outage)
    ping_interval_s: float = 240.0  # roomchat_client.session.PING_INTERVAL_S
    # The share of the account's 10,000 requests/s each kind of traffic may take at most: what
    # one flooding client can spend through a route is bounded by the route's throttle.
    typing_share: float = 0.1


COMMUNITY = Community()

RAISE = {
    "stage route throttle": "raise route_throttling[{route}] (at most 10,000/s, burst 5,000)",
    "account requests/s": "ask AWS for a higher account throttle (Service Quotas)",
    "new connections/s": 'ask AWS for more "New connections per second" (L-9ED1E49A)',
    "@connections posts (fan-out tier)": "raise fanout_max_concurrency (1,000 posts/s each)",
    "Lambda concurrency": "reserve more for {function} (lambda_reserved_concurrency)",
    "DynamoDB partition (room)": "nothing to raise: a room is one partition; split the room",
}


@dataclass(frozen=True)
class Capacity:
    action: str
    members: int
    limits: dict[str, float]  # quota -> requests/s of the action it allows

    @property
    def accepted(self) -> float:
        return min(self.limits.values())

    @property
    def binding(self) -> str:
        return min(self.limits, key=lambda k: self.limits[k])

    @property
    def next_binding(self) -> str:
        ordered = sorted(self.limits, key=lambda k: self.limits[k])
        return ordered[1] if len(ordered) > 1 else ordered[0]

    def advice(self) -> str:
        route = {"message": "sendAll", "join": "join", "connect": "$connect"}[self.action]
        function = {"message": "send_all", "join": "join", "connect": "connect"}[self.action]
        if self.action == "message" and self.members > 0 and self.binding == "Lambda concurrency":
            function = "send_all"
        return RAISE[self.binding].format(route=f'"{route}"', function=function)


def _strong_query_rcu(total_bytes: int) -> float:
    """A strongly consistent Query: 1 read unit per 4 KB of the page, at least one."""
    return max(1, math.ceil(total_bytes / 4096))


def accepted(
    action: str, members: int, deployment: Deployment | None = None, costs: Costs = COSTS
) -> Capacity:
    """Requests/s of ``action`` ("message", "join", "connect") one deployment accepts, for
    requests going to rooms of ``members`` (all in one room for the partition limit)."""
    d = deployment or Deployment()
    limits: dict[str, float] = {}
    if action == "message":
        limits["stage route throttle"] = d.route("sendAll").rate
        # one request in, one post per member (inline or through the tier): all count
        limits["account requests/s"] = d.account_rps / (1 + members)
        tier = d.fanout_tier_threshold and members > d.fanout_tier_threshold
        if tier:
            posts = d.fanout_max_concurrency * costs.fanout_posts_per_instance
            limits["@connections posts (fan-out tier)"] = posts / members
            duration = costs.base_s + members * costs.read_s_per_member
        else:
            duration = costs.base_s + members * costs.post_s_send_all
        limits["Lambda concurrency"] = d.concurrency("send_all") / duration
        wcu = costs.send_partition_wcu * math.ceil(costs.message_item_bytes / 1024)
        rcu = _strong_query_rcu(members * costs.member_item_bytes)
        limits["DynamoDB partition (room)"] = min(
            QUOTAS["partition_wcu"].value / wcu, QUOTAS["partition_rcu"].value / rcu
        )
    elif action == "join":
        limits["stage route throttle"] = d.route("join").rate
        limits["account requests/s"] = d.account_rps / (1 + members)  # presence to every member
        duration = costs.base_s + members * costs.post_s_presence
        limits["Lambda concurrency"] = d.concurrency("join") / duration
        rcu = _strong_query_rcu(members * costs.member_item_bytes) + _strong_query_rcu(
            costs.recent_on_join * costs.message_item_bytes
        )
        limits["DynamoDB partition (room)"] = min(
            QUOTAS["partition_wcu"].value / 1, QUOTAS["partition_rcu"].value / rcu
        )
    elif action == "connect":
        limits["stage route throttle"] = d.route("$connect").rate
        limits["new connections/s"] = d.new_connections_per_s
        limits["account requests/s"] = d.account_rps
        duration = costs.base_s + (costs.authorizer_s if d.auth else 0.0)
        limits["Lambda concurrency"] = d.concurrency("connect") / duration
    else:
        raise ValueError(f"unknown action {action!r}")
    return Capacity(action=action, members=members, limits=limits)


def _nice(value: float) -> int:
    """Rounded up to 1, 2 or 5 times a power of ten (10, 20, 50, 100, 200, ...)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    raise AssertionError("unreachable")


def _nice_down(value: float) -> int:
    """Rounded down to 1, 2 or 5 times a power of ten."""
    if value < 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (5, 2, 1):
        if value >= step * power:
            return int(step * power)
    raise AssertionError("unreachable")


def recommended_route_throttling(
    community: Community = COMMUNITY, deployment: Deployment | None = None
) -> dict[str, RouteLimit]:
    """Per-route throttles for ``community``: the defaults of route_throttling.

    - ``sendAll``: the community's peak message rate (users x messages/min / 60 x peak factor);
    - ``$connect``: every user reconnecting within the window, at most 80% of the account's
      new connections/s (the rest for the other APIs and a second region's failover);
    - ``typing``: its share of the account's requests/s divided by what one costs (1 + room);
    - ``join``/``leave``: every user (re)joining a room within the reconnect window; its presence
      frames then take the account's requests/s in rooms of ~50 (docs/capacity.md shows it);
    - ``ping``: every user's keepalive, twice over.
    Bursts are two seconds' worth (one for ``typing``), at most AWS's 5,000 and, for
    ``$connect``, the account's new connections/s.
    """
    c = community
    d = deployment or Deployment()
    send = _nice(c.users_online * c.messages_per_user_per_min / 60 * c.peak_factor)
    connect = min(
        _nice(c.users_online / c.reconnect_window_s), _nice_down(0.8 * d.new_connections_per_s)
    )
    typing = _nice_down(c.typing_share * d.account_rps / (1 + c.room_members))
    presence = _nice(c.users_online / c.reconnect_window_s)  # every user rejoining a room
    ping = _nice(2 * c.users_online / c.ping_interval_s)
    return {
        "$connect": RouteLimit(connect, int(min(2 * connect, d.new_connections_per_s))),
        "sendAll": RouteLimit(send, min(2 * send, 5_000)),
        "typing": RouteLimit(typing, typing),
        "join": RouteLimit(presence, 2 * presence),
        "leave": RouteLimit(presence, 2 * presence),
        "ping": RouteLimit(ping, 2 * ping),
    }


def default_deployment() -> Deployment:
    """infra/variables.tf's defaults: the recommended route throttles, nothing reserved."""
    return Deployment(route_throttling=recommended_route_throttling())


def _rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:.2f}"


def tables() -> str:
    """The markdown tables of docs/capacity.md (between its generated markers)."""
    out = ["Route throttles sized for the community (`route_throttling`'s defaults):", ""]
    out.append("| route | rate (requests/s, all clients) | burst | sized by |")
    out.append("|---|---:|---:|---|")
    why = {
        "$connect": "everyone reconnecting within a minute, under 80% of 500 new connections/s",
        "sendAll": "the community's peak message rate",
        "typing": "10% of the account's requests/s, each typing frame reaching a room",
        "join": "every user rejoining a room within a minute",
        "leave": "as join",
        "ping": "twice every user's keepalive",
    }
    for key, limit in recommended_route_throttling().items():
        out.append(f"| `{key}` | {_rate(limit.rate)} | {limit.burst:,} | {why[key]} |")
    out.append(
        f"| every other route | {_rate(Deployment().throttling_rate_limit)} | "
        f"{Deployment().throttling_burst_limit:,} | `throttling_rate_limit`, "
        "`throttling_burst_limit` |"
    )
    deployment = default_deployment()
    for action, title in (
        ("message", "Messages (`sendAll`)"),
        ("join", "Joins"),
        ("connect", "Connects"),
    ):
        out += ["", f"**{title}** per second the default deployment accepts, by room size:", ""]
        out.append("| room of | accepted/s | binds first | then | to go higher |")
        out.append("|---:|---:|---|---|---|")
        sizes = ROOM_SIZES if action != "connect" else (0,)
        for members in sizes:
            cap = accepted(action, members, deployment)
            room = f"{members:,}" if action != "connect" else "-"
            out.append(
                f"| {room} | {_rate(cap.accepted)} | {cap.binding} "
                f"({_rate(cap.limits[cap.binding])}) | {cap.next_binding} "
                f"({_rate(cap.limits[cap.next_binding])}) | {cap.advice()} |"
            )
    return "\n".join(out) + "\n"


BEGIN = "<!-- capacity:begin (python -m roomchat_tools.capacity) -->"
END = "<!-- capacity:end -->"


def documented_tables(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with docs/capacity.md")
    parser.add_argument(
        "--write", action="store_true", help="rewrite the tables in docs/capacity.md"
    )
    args = parser.parse_args(argv)
    generated = tables()
    if args.write:
        text = CAPACITY_DOC.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        CAPACITY_DOC.write_text(text[:start] + "\n" + generated + text[end:])
        return 0
    if args.check:
        if documented_tables(CAPACITY_DOC.read_text()) != generated:
            print("docs/capacity.md differs from roomchat_tools/capacity.py: run it with --write")
            return 1
        return 0
    print(generated, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
