"""What roomchat costs on AWS, next to managed chat services, from list prices (docs/cost.md).

    python -m roomchat_tools.costmodel            # prints the tables of docs/cost.md
    python -m roomchat_tools.costmodel --check    # exit 1 when docs/cost.md differs from this model

Pure arithmetic on the prices in PRICES (each with the page it comes from) and the load
assumptions in Load; tests/bench/test_costmodel.py recomputes the tables of docs/cost.md, so the
doc cannot drift from the model. Prices: us-east-1, USD, first pricing tier, no free tier.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COST_DOC = ROOT / "docs" / "cost.md"
PRICES_DATE = "2026-11-29"
ROOM_SIZES = (10, 100, 1000)
MINUTES_PER_MONTH = 730 * 60  # AWS bills a month as 730 hours


@dataclass(frozen=True)
class Price:
    usd: float
    per: float  # units the price is for
    source: str

    def cost(self, units: float) -> float:
        return self.usd * units / self.per


PRICES = {
    # https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs): messages in 32 KB units, both
    # client -> API and every @connections post API -> client; connection minutes.
    "apigw_message": Price(1.00, 1e6, "https://aws.amazon.com/api-gateway/pricing/"),
    "apigw_connection_minute": Price(0.25, 1e6, "https://aws.amazon.com/api-gateway/pricing/"),
    # https://aws.amazon.com/lambda/pricing/ (Arm, first tier)
    "lambda_gb_second": Price(0.0000133334, 1, "https://aws.amazon.com/lambda/pricing/"),
    "lambda_request": Price(0.20, 1e6, "https://aws.amazon.com/lambda/pricing/"),
    # https://aws.amazon.com/dynamodb/pricing/on-demand/ (standard table class)
    "dynamodb_write_unit": Price(0.625, 1e6, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "dynamodb_read_unit": Price(0.125, 1e6, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    # https://aws.amazon.com/cloudwatch/pricing/ (Logs, standard ingestion)
    "logs_gb": Price(0.50, 1, "https://aws.amazon.com/cloudwatch/pricing/"),
    # Managed services, same load. IVS Chat bills messages sent and delivered.
    "ivs_message": Price(0.01, 1000, "https://aws.amazon.com/ivs/pricing/"),
    # AppSync Events: every publish and every delivery is an Event API operation.
    "appsync_operation": Price(1.00, 1e6, "https://aws.amazon.com/appsync/pricing/"),
    "appsync_connection_minute": Price(0.08, 1e6, "https://aws.amazon.com/appsync/pricing/"),
    # Ably pay-as-you-go usage on top of its plan fee: messages in and out, connection minutes.
    "ably_message": Price(2.50, 1e6, "https://ably.com/pricing"),
    "ably_connection_minute": Price(1.00, 1e6, "https://ably.com/pricing"),
}


@dataclass(frozen=True)
class Load:
    """What one message and one connected user cost in requests; see docs/cost.md."""

    memory_gb: float = 0.25  # lambda_memory_size 256
    # send_all's billed duration: fixed work (GetItem, rate limit, PutItem, Query) plus the
    # posts, 32 at a time at ~10 ms each on AWS (bench/results/latest.md, "+10 ms per post").
    send_base_ms: float = 40.0
    post_ms: float = 10.0
    fanout_workers: int = 32
    member_item_bytes: int = 200  # a membership item as DynamoDB sizes it
    message_item_bytes: int = 400  # a stored message (attributes + a short text)
    log_bytes_per_message: int = 1300  # START/END/REPORT + the EMF "sent" line + access log
    # A connected user: the web client pings every 5 minutes (the API idles out after 10);
    # API Gateway ends connections after 2 h, so a user reconnects and rejoins 12 times a day.
    ping_minutes: float = 5.0
    reconnects_per_day: float = 12.0
    small_ms: float = 10.0  # billed duration of ping / connect / join / disconnect


LOAD = Load()


def _write_units(item_bytes: int) -> float:
    return math.ceil(item_bytes / 1024)


def _query_read_units(total_bytes: int) -> float:
    # Eventually consistent: 0.5 unit per 4 KB, summed over the page, at least one block.
    return max(1, math.ceil(total_bytes / 4096)) * 0.5


def ours_per_message(members: int, load: Load = LOAD) -> dict[str, float]:
    """Dollars per message sent to a room of ``members`` (the sender included)."""
    duration_s = (
        load.send_base_ms + load.post_ms * math.ceil(members / load.fanout_workers)
    ) / 1000
    # rate-limit counter, idempotency mark (clientMsgId, which the web client always sends),
    # the message itself
    writes = 1 + 1 + _write_units(load.message_item_bytes)
    reads = 1 + _query_read_units(members * load.member_item_bytes)  # GetItem (strong) + Query
    p = PRICES
    return {
        "API Gateway messages": p["apigw_message"].cost(1 + members),
        "Lambda": p["lambda_request"].cost(1)
        + p["lambda_gb_second"].cost(duration_s * load.memory_gb),
        "DynamoDB": p["dynamodb_write_unit"].cost(writes) + p["dynamodb_read_unit"].cost(reads),
        "CloudWatch Logs": p["logs_gb"].cost(load.log_bytes_per_message / 1e9),
    }


def ours_per_user_month(load: Load = LOAD) -> dict[str, float]:
    """Dollars per connected user per month with no messages sent: connection minutes,
    keepalive pings (frame in, pong out) and the reconnect every 2 h (connect, join, disconnect)."""
    p = PRICES
    pings = MINUTES_PER_MONTH / load.ping_minutes
    reconnects = load.reconnects_per_day * 365 / 12
    invocations = pings + 3 * reconnects
    gb_s = invocations * load.small_ms / 1000 * load.memory_gb
    # connect: PutItem profile; join: GetItem x2, PutItem, Query rooms + history; disconnect:
    # Query index, DeleteItem x2
    writes = reconnects * 4
    reads = reconnects * 5
    return {
        "API Gateway connection minutes": p["apigw_connection_minute"].cost(MINUTES_PER_MONTH),
        "API Gateway messages": p["apigw_message"].cost(2 * pings + 3 * reconnects),
        "Lambda": p["lambda_request"].cost(invocations) + p["lambda_gb_second"].cost(gb_s),
        "DynamoDB": p["dynamodb_write_unit"].cost(writes) + p["dynamodb_read_unit"].cost(reads),
    }


def managed_per_message(members: int) -> dict[str, float]:
    """List price of one message to ``members`` on each managed service: one message in,
    one delivered to every member (the sender included, as roomchat does)."""
    p = PRICES
    return {
        "IVS Chat": p["ivs_message"].cost(1 + members),
        "AppSync Events": p["appsync_operation"].cost(1 + members),
        "Ably": p["ably_message"].cost(1 + members),
    }


def managed_per_user_month() -> dict[str, float | None]:
    p = PRICES
    return {
        # IVS Chat bills concurrent chat connections per hour; that rate is not in PRICES
        # (see docs/cost.md), so it is left out rather than guessed.
        "IVS Chat": None,
        "AppSync Events": p["appsync_connection_minute"].cost(MINUTES_PER_MONTH),
        "Ably": p["ably_connection_minute"].cost(MINUTES_PER_MONTH),
    }


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if value >= 1 else f"${value:,.3f}"


def tables() -> str:
    """The markdown tables of docs/cost.md (between its generated markers)."""
    out = ["Per **million messages**, by room size (members who receive each message):", ""]
    out.append("| | " + " | ".join(f"room of {n:,}" for n in ROOM_SIZES) + " |")
    out.append("|---|" + "---:|" * len(ROOM_SIZES))
    parts = [ours_per_message(n) for n in ROOM_SIZES]
    for name in parts[0]:
        out.append(
            f"| roomchat: {name} | " + " | ".join(_money(p[name] * 1e6) for p in parts) + " |"
        )
    out.append(
        "| **roomchat total** | "
        + " | ".join(f"**{_money(sum(p.values()) * 1e6)}**" for p in parts)
        + " |"
    )
    managed = [managed_per_message(n) for n in ROOM_SIZES]
    for name in managed[0]:
        out.append(f"| {name} | " + " | ".join(_money(m[name] * 1e6) for m in managed) + " |")
    out += [
        "",
        "Per **thousand connected users** for a month (connections and keepalives only):",
        "",
    ]
    out.append("| | per 1,000 users a month |")
    out.append("|---|---:|")
    user = ours_per_user_month()
    for name, value in user.items():
        out.append(f"| roomchat: {name} | {_money(value * 1000)} |")
    out.append(f"| **roomchat total** | **{_money(sum(user.values()) * 1000)}** |")
    for name, value in managed_per_user_month().items():
        out.append(f"| {name} | {_money(None if value is None else value * 1000)} |")
    return "\n".join(out) + "\n"


BEGIN = "<!-- costmodel:begin (python -m roomchat_tools.costmodel) -->"
END = "<!-- costmodel:end -->"


def documented_tables(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with docs/cost.md")
    parser.add_argument("--write", action="store_true", help="rewrite the tables in docs/cost.md")
    args = parser.parse_args(argv)
    generated = tables()
    if args.write:
        text = COST_DOC.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        COST_DOC.write_text(text[:start] + "\n" + generated + text[end:])
        return 0
    if args.check:
        if documented_tables(COST_DOC.read_text()) != generated:
            print("docs/cost.md differs from roomchat_tools/costmodel.py: run it with --write")
            return 1
        return 0
    print(generated, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
