"""Analysis: ratios, targets, the cost model past the measured sizes, and AWS on paper."""

from __future__ import annotations

import statistics
from typing import Any

from .costmodel import (
    ACCOUNT_RPS,
    COLD_TARGET_MS,
    LAMBDA_MB_PER_VCPU,
    PAPER_RTTS_MS,
    ours_rcu,
    scan_rcu,
)
from .plan import BARE, BASELINE, LIMIT, OURS, OURS_ROOM
from .tier_phase import tier_targets


def _row(
    results: dict[str, Any], variant: str, members: int, delay: float = 0.0
) -> dict[str, Any] | None:
    for row in results["fanout"]:
        if (
            row["variant"] == variant
            and row["members"] == members
            and row.get("post_delay_ms", 0.0) == delay
        ):
            return row
    return None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top and bottom else None


def analyse(results: dict[str, Any]) -> dict[str, Any]:
    sizes = sorted({row["members"] for row in results["fanout"] if row["variant"] == OURS})
    delays = sorted({row.get("post_delay_ms", 0.0) for row in results["fanout"]})
    ratios = []
    for delay in delays:
        for size in sizes:
            ours = _row(results, OURS, size, delay)
            base = _row(results, BASELINE, size, delay)
            limit = _row(results, LIMIT, size, delay)
            bare = _row(results, BARE, size, delay)
            room = _row(results, OURS_ROOM, size, delay)
            p50 = (ours or {}).get("p50_s")
            ratios.append(
                {
                    "members": size,
                    "post_delay_ms": delay,
                    "baseline_over_ours": _ratio((base or {}).get("p50_s"), p50),
                    "ours_over_limit": _ratio(p50, (limit or {}).get("p50_s")),
                    "ours_over_bare": _ratio(p50, (bare or {}).get("p50_s")),
                    "room_of_10th_baseline_over_ours": _ratio(
                        (base or {}).get("p50_s"), (room or {}).get("p50_s")
                    ),
                }
            )
    cost = results["cost"]
    ours_item = (
        statistics.mean(e["mean_item_bytes"] for e in cost.get("ours", []))
        if cost.get("ours")
        else 130.0
    )
    base_item = (
        statistics.mean(e["mean_item_bytes"] for e in cost.get("baseline", []))
        if cost.get("baseline")
        else 60.0
    )
    grid = []
    for connections in (100, 1_000, 10_000, 100_000, 1_000_000):
        tenth = max(1, connections // 10)
        grid.append(
            {
                "connections": connections,
                "ours_room_100": ours_rcu(
                    round(ours_item), [round(ours_item)] * min(100, connections)
                ),
                "ours_room_tenth": ours_rcu(round(ours_item), [round(ours_item)] * tenth),
                "room_tenth": tenth,
                "baseline_scan": scan_rcu([round(base_item)] * connections),
            }
        )
    largest = max(sizes) if sizes else None
    limit_row = _row(results, LIMIT, largest) if largest else None
    cpu_post_s = ((limit_row or {}).get("poster_cpu_us_per_post") or 1000.0) / 1e6
    workers = int(results["settings"].get("fanout_workers") or 32)
    projection = []
    for memory in (256, 1024, 1769):
        share = min(1.0, memory / LAMBDA_MB_PER_VCPU)
        for rtt_ms in PAPER_RTTS_MS:
            rate = min(workers / (rtt_ms / 1000), share / cpu_post_s)
            bound = "CPU" if share / cpu_post_s < workers / (rtt_ms / 1000) else "workers x RTT"
            rows = {}
            for members in (1_000, 10_000, 100_000):
                rows[members] = members / min(rate, ACCOUNT_RPS)
            projection.append(
                {
                    "memory_mb": memory,
                    "rtt_ms": rtt_ms,
                    "posts_per_s": rate,
                    "bound": bound,
                    "seconds": rows,
                }
            )
    cold = results.get("cold_start", {})
    ours_cold = cold.get("roomchat", {})
    one_room = {e["room_members"]: e for e in cost.get("ours_one_of_10", [])}
    same_room = {e["room_members"]: e for e in cost.get("ours", [])}
    proportional = None
    for members, entry in one_room.items():
        if members in same_room:
            proportional = {
                "room_members": members,
                "rcu_with_connections": {
                    same_room[members]["connections"]: same_room[members]["rcu"],
                    entry["connections"]: entry["rcu"],
                },
            }
    targets = []
    for delay in delays:
        found = next(
            (r for r in ratios if r["members"] == largest and r["post_delay_ms"] == delay), {}
        )
        where = f"with {delay:.0f} ms per post (AWS-like)" if delay else "on loopback"
        targets.append(
            {
                "target": f"fan-out to {largest:,} members at least 10x faster than the "
                f"baseline, {where}",
                "measured": found.get("baseline_over_ours"),
                "unit": "x",
                "met": (found.get("baseline_over_ours") or 0) >= 10,
            }
        )
    for delay in delays:
        found = next(
            (r for r in ratios if r["members"] == largest and r["post_delay_ms"] == delay), {}
        )
        where = f"with {delay:.0f} ms per post" if delay else "on loopback"
        targets.append(
            {
                "target": f"within 3x of the management-API limit, {where}",
                "measured": found.get("ours_over_limit"),
                "unit": "x",
                "met": (found.get("ours_over_limit") or 99) <= 3,
            }
        )
    targets += [
        {
            "target": "read cost per message proportional to the room, not to all connections",
            "measured": proportional,
            "unit": "RCU",
            "met": bool(proportional)
            and len(set(proportional["rcu_with_connections"].values())) == 1,
        },
        {
            "target": f"handler cold import under {COLD_TARGET_MS} ms including the AWS SDK",
            "measured": ours_cold.get("sdk_ms"),
            "unit": "ms",
            "met": (ours_cold.get("sdk_ms") or 1e9) < COLD_TARGET_MS,
        },
    ]
    posters = results.get("posters") or {}
    targets.append(
        {
            "target": "lean poster CPU per post at most 1/3 of the botocore client's (same run)",
            "measured": posters.get("signed_over_botocore"),
            "unit": "x",
            "met": (posters.get("signed_over_botocore") or 99) <= 1 / 3,
        }
    )
    targets.extend(tier_targets(results))
    rtt = results["sweeps"].get("rtt", {})
    rtt_rows = rtt.get("rows", [])
    serial = next((r for r in rtt_rows if r["workers"] == 1), None)
    chosen = next((r for r in rtt_rows if r["workers"] == workers), None)
    return {
        "ratios": ratios,
        "grid": grid,
        "item_bytes": {"ours_membership": ours_item, "baseline_connection": base_item},
        "projection": projection,
        "cpu_us_per_post": cpu_post_s * 1e6,
        "targets": targets,
        "rtt_speedup": _ratio((chosen or {}).get("posts_per_s"), (serial or {}).get("posts_per_s")),
    }
