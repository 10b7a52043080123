"""latest.png: fan-out, read cost, cold start, pool width and AWS on paper, in one figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .costmodel import (
    ACCOUNT_RPS,
    COLD_TARGET_MS,
    INTEGRATION_TIMEOUT_S,
    LAMBDA_TIMEOUT_S,
    PAPER_RTTS_MS,
)
from .plan import BARE, BASELINE, LIMIT, OURS, OURS_ROOM, VARIANTS


def plot(results: dict[str, Any], analysis: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        OURS: "#1f77b4",
        OURS_ROOM: "#17becf",
        BASELINE: "#d62728",
        LIMIT: "#2ca02c",
        BARE: "#7f7f7f",
    }
    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    m = results["machine"]
    fig.suptitle(
        f"roomchat `make bench` — {m['cpu_count']} CPUs, Python {m['python']}, commit "
        f"{m['commit']}, {results['generated_at']}",
        fontsize=12,
    )
    ax_lat, ax_rtt, ax_cost, ax_cold, ax_sweep, ax_paper = axes.flatten()
    rtt_ms = results["plan"].get("rtt_ms") or 0.0
    for ax, delay in ((ax_lat, 0.0), (ax_rtt, rtt_ms)):
        for variant in VARIANTS:
            rows = [
                r
                for r in results["fanout"]
                if r["variant"] == variant and r["p50_s"] and r.get("post_delay_ms", 0.0) == delay
            ]
            if not rows:
                continue
            ax.errorbar(
                [r["expected"] for r in rows],
                [r["p50_s"] * 1000 for r in rows],
                yerr=[
                    [(r["p50_s"] - min(r["last_s"])) * 1000 for r in rows],
                    [(r["p95_s"] - r["p50_s"]) * 1000 for r in rows],
                ],
                marker="o",
                ls="--" if variant in (LIMIT, BARE) else "-",
                capsize=3,
                label=variant,
                color=colours[variant],
            )
        where = f"+{delay:.0f} ms on every post (AWS-like)" if delay else "loopback"
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("members reached per message")
        ax.set_ylabel("ms, send → last member")
        ax.set_title(f"fan-out, {where}\n(p50; bars: fastest..p95)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    grid = analysis["grid"]
    conns = [g["connections"] for g in grid]
    ax_cost.plot(
        conns,
        [g["baseline_scan"] for g in grid],
        "o-",
        color=colours[BASELINE],
        label="baseline: Scan of every connection",
    )
    ax_cost.plot(
        conns,
        [g["ours_room_tenth"] for g in grid],
        "o-",
        color=colours[OURS],
        label="ours: room of connections/10",
    )
    ax_cost.plot(
        conns,
        [g["ours_room_100"] for g in grid],
        "o-",
        color=colours[OURS_ROOM],
        label="ours: room of 100",
    )
    measured = results["cost"]
    for label, key, colour in (
        ("baseline", "rcu", colours[BASELINE]),
        ("ours_one_of_10", "rcu", colours[OURS]),
    ):
        pts = measured.get(label, [])
        ax_cost.scatter(
            [p["connections"] for p in pts],
            [p[key] for p in pts],
            s=70,
            facecolors="none",
            edgecolors=colour,
            zorder=5,
        )
    ax_cost.set_xscale("log")
    ax_cost.set_yscale("log")
    ax_cost.set_xlabel("connections in total (10 rooms of connections/10)")
    ax_cost.set_ylabel("RCU per message (rings: measured items)")
    ax_cost.set_title("DynamoDB read cost per message")
    ax_cost.grid(True, which="both", alpha=0.3)
    ax_cost.legend(fontsize=8)
    cold = results["cold_start"]
    labels = ["import", "+ SDK import", "+ clients"]
    keys = ["import_ms", "sdk_ms", "setup_ms"]
    width = 0.38
    for offset, kind, colour in (
        (-width / 2, "roomchat", colours[OURS]),
        (width / 2, "baseline", colours[BASELINE]),
    ):
        entry = cold.get(kind)
        if entry:
            values = [entry[k] for k in keys]
            bars = ax_cold.bar(
                [i + offset for i in range(3)],
                values,
                width,
                label="ours" if kind == "roomchat" else "baseline",
                color=colour,
            )
            ax_cold.bar_label(bars, fmt="%.0f", fontsize=8)
    ax_cold.axhline(
        COLD_TARGET_MS, ls="--", color="black", lw=1, label=f"target {COLD_TARGET_MS} ms"
    )
    ax_cold.set_xticks(range(3), labels)
    ax_cold.set_ylabel("ms (median, fresh interpreter)")
    ax_cold.set_title("cold start from the deployment zip")
    ax_cold.legend(fontsize=8)
    rtt = results["sweeps"].get("rtt", {})
    loop = results["sweeps"].get("loopback", [])
    if rtt.get("rows"):
        rows = rtt["rows"]
        ax_sweep.plot(
            [r["workers"] for r in rows],
            [r["posts_per_s"] for r in rows],
            "o-",
            color=colours[OURS],
            label=f"endpoint answering after {rtt['rtt_ms']:.0f} ms",
        )
    if loop:
        ax_sweep.plot(
            [r["workers"] for r in loop],
            [r["posts_per_s"] for r in loop],
            "s--",
            color=colours[LIMIT],
            label="this gateway on loopback (CPU-bound)",
        )
    workers = results["settings"].get("fanout_workers")
    if workers:
        ax_sweep.axvline(workers, color="black", lw=1, ls=":", label=f"FANOUT_WORKERS={workers}")
    ax_sweep.set_xscale("log", base=2)
    ax_sweep.set_xlabel("fan-out threads")
    ax_sweep.set_ylabel("posts/s from one process")
    ax_sweep.set_title("fan-out pool width")
    ax_sweep.grid(True, which="both", alpha=0.3)
    ax_sweep.legend(fontsize=8)
    members = [1_000, 10_000, 100_000]
    for row in analysis["projection"]:
        if row["rtt_ms"] != PAPER_RTTS_MS[-1]:
            continue
        ax_paper.plot(
            members,
            [row["seconds"][k] for k in members],
            "o-",
            label=f"{row['memory_mb']} MB, {row['rtt_ms']} ms posts",
        )
    ax_paper.plot(
        members,
        [k / ACCOUNT_RPS for k in members],
        "k:",
        label=f"account quota alone ({ACCOUNT_RPS:,} req/s)",
    )
    ax_paper.axhline(
        LAMBDA_TIMEOUT_S,
        color="orange",
        lw=1,
        ls="--",
        label=f"function timeout {LAMBDA_TIMEOUT_S} s",
    )
    ax_paper.axhline(
        INTEGRATION_TIMEOUT_S,
        color="red",
        lw=1,
        ls="--",
        label=f"integration timeout {INTEGRATION_TIMEOUT_S} s",
    )
    ax_paper.set_xscale("log")
    ax_paper.set_yscale("log")
    ax_paper.set_xlabel("room members")
    ax_paper.set_ylabel("s to fan out one message")
    ax_paper.set_title(f"on AWS, on paper ({analysis['cpu_us_per_post']:.0f} µs CPU per post)")
    ax_paper.grid(True, which="both", alpha=0.3)
    ax_paper.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=80)
    plt.close(fig)
