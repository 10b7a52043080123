"""Reports: the console table, latest.md and latest.json (latest.png: plot.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .analysis import _row, analyse
from .costmodel import ACCOUNT_RPS, COLD_TARGET_MS, INTEGRATION_TIMEOUT_S, LAMBDA_TIMEOUT_S
from .plan import BASELINE, LIMIT, OURS, VARIANTS, dynamodb_engine, engine_sentence
from .plot import plot
from .prose import (
    COLD_NOTES,
    COST_NOTES,
    DESIGN_NOTES,
    FANOUT_NOTES,
    PAPER_NOTES,
    TUNING_CHANGES,
    TUNING_NOTES,
    _cold_values,
    _design_values,
    _tuning_values,
)
from .tier_phase import console_lines as tier_console_lines
from .tier_phase import markdown_section as tier_section


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:,.0f} ms" if value >= 0.0995 else f"{value * 1000:,.1f} ms"


def _x(value: float | None, digits: int = 1) -> str:
    if not value:
        return "-"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.{digits}f}x"


def _n(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def console_table(results: dict[str, Any], analysis: dict[str, Any]) -> str:
    head = f"{'variant':<40}{'+ms/post':>9}{'members':>8}{'to':>6}"
    lines = [head + f"{'p50':>11}{'p95':>11}{'max':>11}{'deliv/s':>10}"]
    for variant in VARIANTS:
        for row in results["fanout"]:
            if row["variant"] != variant:
                continue
            lines.append(
                f"{variant:<40}{row.get('post_delay_ms', 0):>9.0f}{row['members']:>8}"
                f"{row['expected']:>6}{_ms(row['p50_s']):>11}{_ms(row['p95_s']):>11}"
                f"{_ms(row['max_s']):>11}{_n(row['deliveries_per_s']):>10}"
            )
    lines.append("")
    for ratio in analysis["ratios"]:
        delay = ratio["post_delay_ms"]
        mode = f"+{delay:.0f} ms/post" if delay else "loopback"
        lines.append(
            f"{ratio['members']:>5} members, {mode:<13}: baseline/ours "
            f"{_x(ratio['baseline_over_ours'])}, ours/limit {_x(ratio['ours_over_limit'], 2)}"
            + (f", ours/bare {_x(ratio['ours_over_bare'])}" if ratio["ours_over_bare"] else "")
        )
    cold = results["cold_start"]
    for kind in ("roomchat", "baseline"):
        entry = cold.get(kind, {})
        lines.append(
            f"cold start {kind:<9} import {entry.get('import_ms', 0):6.1f} ms, with SDK "
            f"{entry.get('sdk_ms', 0):6.1f} ms, with clients {entry.get('setup_ms', 0):6.1f} ms"
        )
    posters = results.get("posters") or {}
    if posters.get("signed_us_per_post"):
        lines.append(
            f"CPU per post: botocore client {posters['botocore_us_per_post']:,.0f} µs, signed "
            f"poster {posters['signed_us_per_post']:,.0f} µs "
            f"({posters['signed_over_botocore']:.2f}x)"
        )
    lines.extend(tier_console_lines(results))
    for target in analysis["targets"]:
        lines.append(f"[{'met' if target['met'] else 'MISSED'}] {target['target']}")
    return "\n".join(lines)


def _fmt_rcu(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def reading_the_targets(results: dict[str, Any], analysis: dict[str, Any]) -> str:
    """Why the fan-out targets come out as they do on this machine, from this run's numbers."""
    sizes = sorted({row["members"] for row in results["fanout"] if row["variant"] == OURS})
    if not sizes:
        return ""
    largest, rtt = max(sizes), results["plan"].get("rtt_ms") or 0.0
    ours0, base0 = _row(results, OURS, largest), _row(results, BASELINE, largest)
    ours1 = _row(results, OURS, largest, rtt) if rtt else None
    limit0 = _row(results, LIMIT, largest)
    if not (ours0 and base0 and limit0 and ours0["p50_s"] and base0["p50_s"]):
        return ""
    posters = results.get("posters") or {}
    botocore_us, signed_us = posters.get("botocore_us_per_post"), posters.get("signed_us_per_post")
    per_post = (
        f"about {signed_us:,.0f} µs with ours (the signed poster) against about "
        f"{botocore_us:,.0f} µs through the botocore client (the poster phase, same endpoint)"
        if botocore_us and signed_us
        else f"about {analysis['cpu_us_per_post']:,.0f} µs with ours"
    )
    parts = [
        f"**Reading the targets.** On loopback a post is answered in well under a millisecond, "
        f"so both designs are bound by CPU, one core's worth at most under the GIL, on 2 cores "
        f"shared with {largest:,} clients, the gateway and the emulator. Both post concurrently "
        "(the sample starts every post at once, 50 on the wire at a time); what separates them "
        f"is the CPU per post, {per_post}, and what each reads. Ours takes "
        f"{_ms(ours0['p50_s'])} for {largest:,} members "
        f"against {_ms(limit0['p50_s'])} for the posts alone, and the baseline "
        f"{_ms(base0['p50_s'])}. {_query_note(dynamodb_engine(results))}"
    ]
    smallest = min(sizes)
    ours_s, limit_s = _row(results, OURS, smallest), _row(results, LIMIT, smallest)
    if smallest != largest and ours_s and limit_s and ours_s["p50_s"] and limit_s["p50_s"]:
        parts.append(
            f"In small rooms a message's fixed work dominates (an invocation, then five "
            f"DynamoDB calls of a few milliseconds each in {dynamodb_engine(results)}: "
            "membership, rate "
            f"limit, idempotency mark, history, room): ours ÷ limit is "
            f"{ours_s['p50_s'] / limit_s['p50_s']:.1f}x at {smallest:,} members "
            f"({_ms(ours_s['p50_s'])} against {_ms(limit_s['p50_s'])}), and the baseline, "
            "which reads once and writes nothing, is faster there."
        )
    base1 = _row(results, BASELINE, largest, rtt) if rtt else None
    if ours1 and base1 and ours1["p50_s"] and base1["p50_s"]:
        ratio = base1["p50_s"] / ours1["p50_s"]
        parts.append(
            f"With {rtt:.0f} ms per post both overlap the round trips ({_ms(base1['p50_s'])} "
            f"for the baseline, {_ms(ours1['p50_s'])} for ours: {ratio:.1f}x)."
        )
        if ratio < 10:
            parts.append(
                "A 10x lead over the sample's real design is not there to be had in one room of "
                "everyone: it posts concurrently too, so what separates the two is the CPU per "
                "post and the read, not the waiting. Ours wins by more in the multi-room case "
                "(it reaches one room; the sample Scans and posts to every connection)."
            )
    return " ".join(parts)


def _query_note(engine: str) -> str:
    if engine == "moto":
        return (
            "Ours also pays the emulator's slow Query of a large partition (below), which "
            "DynamoDB answers in milliseconds."
        )
    return f"Ours also pays {engine}'s Query of the room on every message (below)."


def _reads_intro(engine: str) -> str:
    if engine == "moto":
        return (
            "The emulator's own read times, measured outside the timed runs (moto, not "
            "DynamoDB: its Query of one partition is slower than its Scan of a whole table "
            "of the same size, the opposite of DynamoDB, and ours pays it on every message): "
        )
    return (
        f"{engine}'s own read times, measured outside the timed runs (the same engine for both "
        "designs; ours pays its Query on every message, the baseline its Scan): "
    )


def markdown_report(results: dict[str, Any], analysis: dict[str, Any], png_name: str) -> str:
    m, s, plan = results["machine"], results["settings"], results["plan"]
    sizes = sorted({row["members"] for row in results["fanout"] if row["variant"] == OURS})
    largest = max(sizes) if sizes else 0
    counts = plan["iterations"]
    iterations = ", ".join(f"{counts.get(k, counts.get(str(k)))} at {k:,}" for k in sizes)
    out: list[str] = []
    add = out.append
    engine = dynamodb_engine(results)
    add("# roomchat benchmark: fan-out, DynamoDB read cost, cold start")
    add("")
    dirty = f", plus {m['uncommitted_files']} uncommitted files" if m["uncommitted_files"] else ""
    add(
        f"`make bench` (`python -m roomchat_tools.bench`), {results['generated_at']}, "
        f"commit `{m['commit']}` "
        f"({m['commit_subject']}){dirty}. Machine: {m['cpu_count']} CPUs ({m['cpu_model']}), "
        f"Python {m['python']}, {m['platform']}; botocore {m['versions'].get('botocore')}, "
        f"aiohttp {m['versions'].get('aiohttp')}, moto {m['versions'].get('moto')}. Load average "
        f"{m['loadavg_start'][0]:.2f} at the start and {m.get('loadavg_end', [0])[0]:.2f} at the "
        "end: everything below shares these cores (clients, gateway, Lambda workers, emulator)."
    )
    add("")
    add(engine_sentence(results))
    add("")
    add(
        f"Settings: `FANOUT_WORKERS={s.get('fanout_workers')}` (read back from the deployed "
        f"function), {s.get('lambda_concurrency')} concurrent invocations per function, "
        f"frames of {s.get('frame_bytes')} bytes (a {s.get('message_chars')}-character message "
        f"with a `clientMsgId`); broadcasts per point: {iterations}, after {plan['warmup']} "
        "warm-up; p50/p95/max are nearest-rank over those broadcasts of the time from the send "
        "to the **last** member receiving the frame; deliveries/s = members / p50. The stack was "
        f"{s.get('stack')} (ready in {s.get('stack_ready_s')} s)."
    )
    add("")
    add(f"![fan-out, read cost and cold start]({png_name})")
    add("")
    add("## Targets")
    add("")
    add("| target | measured | met |")
    add("|---|---|---|")
    for target in analysis["targets"]:
        measured = target["measured"]
        if isinstance(measured, dict):
            parts = ", ".join(
                f"{_fmt_rcu(v)} RCU with {int(k):,} connections"
                for k, v in measured["rcu_with_connections"].items()
            )
            shown = f"room of {measured['room_members']}: {parts}"
        elif measured is None:
            shown = "-"
        elif target["unit"] == "x":
            shown = f"{measured:.2f}x"
        else:
            shown = f"{measured:.0f} {target['unit']}"
        add(f"| {target['target']} | {shown} | {'yes' if target['met'] else '**no**'} |")
    add("")
    add(reading_the_targets(results, analysis))
    add("")
    add("## 1-3. Fan-out: from `sendAll` to the last member")
    add("")
    add(FANOUT_NOTES.format(rtt=plan["rtt_ms"], tables=engine))
    delays = sorted({row.get("post_delay_ms", 0.0) for row in results["fanout"]})
    for delay in delays:
        add("")
        if delay:
            add(f"**With {delay:.0f} ms added to every @connections post** (both gateways):")
        else:
            add("**Loopback, as this machine is:**")
        add("")
        add(
            "| members | variant | delivered to | p50 | p95 | max | deliveries/s "
            "| missing / extra |"
        )
        add("|---:|---|---:|---:|---:|---:|---:|---|")
        for size in sizes:
            for variant in VARIANTS:
                row = _row(results, variant, size, delay)
                if row is None:
                    continue
                add(
                    f"| {size:,} | {variant} | {row['expected']:,} | {_ms(row['p50_s'])} | "
                    f"{_ms(row['p95_s'])} | {_ms(row['max_s'])} | "
                    f"{_n(row['deliveries_per_s'])} | {row['missing']} / {row['extra']} |"
                )
    add("")
    add(
        "| members | post round trip | baseline ÷ ours (p50) | ours ÷ limit | "
        "ours ÷ bare broadcast | baseline ÷ ours, one of 10 rooms |"
    )
    add("|---:|---|---:|---:|---:|---:|")
    for ratio in analysis["ratios"]:
        delay = ratio["post_delay_ms"]
        add(
            f"| {ratio['members']:,} | {f'+{delay:.0f} ms' if delay else 'loopback'} | "
            f"{_x(ratio['baseline_over_ours'])} | {_x(ratio['ours_over_limit'], 2)} | "
            f"{_x(ratio['ours_over_bare'])} | {_x(ratio['room_of_10th_baseline_over_ours'])} |"
        )
    add("")
    reads = []
    for size in sizes:
        ours = next((e for e in results["cost"].get("ours", []) if e["connections"] == size), None)
        base = next(
            (e for e in results["cost"].get("baseline", []) if e["connections"] == size), None
        )
        if ours and base and ours.get("emulator_read_s") and base.get("emulator_read_s"):
            query, scan = _ms(ours["emulator_read_s"]), _ms(base["emulator_read_s"])
            reads.append(f"{size:,}: Query {query}, Scan {scan}")
    if reads:
        add(_reads_intro(engine) + "; ".join(reads) + ".")
        add("")
    add(
        f'**What "same members" means.** For the {largest:,}-member case there are '
        f"{largest:,} WebSocket connections in total on each API (one at a time: never more "
        f"than {largest:,} clients). *Ours*: all {largest:,} are members of one room and "
        "`sendAll` reads that room (GetItem of the sender's membership + a Query of the room) "
        f"and posts to its {largest:,} members concurrently. *Baseline*: the same number of "
        f"connections, spread over {plan['baseline_rooms']} rooms (`?room=` on connect, stored "
        "with the connection); the sample design ignores rooms when it sends: it Scans every "
        f"connection and starts a post to each of all {largest:,} at once (50 on the wire at a "
        "time, as the JavaScript SDK's sockets). Both deliver the same "
        "number of frames of the same size, so their times compare directly. The row *ours: one "
        f"of 10 rooms* is the realistic multi-room case: the same {largest:,} connections, also in "
        f"10 rooms of {largest // 10:,}; ours reaches only that room (`extra` = 0 shows no one "
        f"else got it) while the baseline still reads and posts to all {largest:,}. The *limit* "
        "is the same frame to the same members posted by `bench/poster.py`, a process like the "
        "sendAll function's (its environment, `roomchat.wiring.build_container(...).sender_for`, "
        "the same worker count) doing no DynamoDB work, through the same gateway; the *bare "
        "broadcast* is an aiohttp server writing the frame to its own sockets (no HTTP, no "
        "Lambda): the floor of this machine."
    )
    add("")
    add("### Tuning the fan-out")
    add("")
    loop_rows = results["sweeps"].get("loopback", [])
    if loop_rows:
        add(
            f"Management-API limit for {loop_rows[0]['posts']:,} members through the gateway, by "
            "worker count (`FANOUT_WORKERS`):"
        )
        add("")
        add("| workers | p50 | posts/s | poster CPU per post |")
        add("|---:|---:|---:|---:|")
        for row in loop_rows:
            add(
                f"| {row['workers']} | {_ms(row['p50_s'])} | {_n(row['posts_per_s'])} | "
                f"{row['cpu_us_per_post']:,.0f} µs |"
            )
        add("")
    rtt = results["sweeps"].get("rtt", {})
    if rtt.get("rows"):
        add(
            f"The same pool against a stand-in @connections endpoint that answers after "
            f"{rtt['rtt_ms']:.0f} ms (an AWS-like post round trip; nothing else is slow), "
            f"{rtt['rows'][0]['posts']:,} posts:"
        )
        add("")
        add("| workers | time | posts/s | CPU per post |")
        add("|---:|---:|---:|---:|")
        for row in rtt["rows"]:
            add(
                f"| {row['workers']} | {_ms(row['wall_s'])} | {_n(row['posts_per_s'])} | "
                f"{row['cpu_us_per_post']:,.0f} µs |"
            )
        add("")
    add(TUNING_NOTES.format(**_tuning_values(results, analysis)))
    add("")
    add(TUNING_CHANGES.format(cpu=f"{analysis['cpu_us_per_post']:,.0f}"))
    posters = results.get("posters") or {}
    if posters.get("signed_us_per_post"):
        add("")
        add(
            f"**CPU per post, botocore client vs signed poster** (`bench/poster.py` with "
            f"`FANOUT_POSTER=botocore` and `signed`, {posters['workers']} workers, "
            f"{posters['posts']:,} posts per round to a loopback endpoint that answers at once, "
            f"{posters['rounds']} rounds each, interleaved; the poster process's CPU clock):"
        )
        add("")
        add("| poster | CPU per post (median) | rounds |")
        add("|---|---:|---|")
        for kind, label in (
            ("botocore", "botocore `apigatewaymanagementapi` client"),
            ("signed", "signed poster (`SigV4Auth` + kept-alive `http.client`)"),
        ):
            rounds = ", ".join(f"{v:,.0f}" for v in posters["rounds_us"][kind])
            add(f"| {label} | {posters[kind + '_us_per_post']:,.0f} µs | {rounds} |")
        add("")
        add(
            f"Signed ÷ botocore: **{posters['signed_over_botocore']:.2f}x** (target: at most "
            "1/3). The deployed functions use the signed poster (`FANOUT_POSTER` unset)."
        )
    out.extend(tier_section(results))
    add("")
    add("## 4. DynamoDB read cost per message")
    add("")
    add(COST_NOTES)
    add("")
    add(
        "| connections | ours: room of all (GetItem + Query) | ours: one of 10 rooms | "
        f"baseline: Scan of all | {engine}'s own figure (ours / baseline) |"
    )
    add("|---:|---:|---:|---:|---|")
    cost = results["cost"]
    by_conn = {e["connections"]: e for e in cost.get("ours", [])}
    tenth = {e["connections"]: e for e in cost.get("ours_one_of_10", [])}
    for base in cost.get("baseline", []):
        n = base["connections"]
        ours, one = by_conn.get(n), tenth.get(n)
        ours_cell = (
            f"{_fmt_rcu(ours['rcu'])} RCU ({ours['items_read']:,} items, {ours['bytes_read']:,} B)"
            if ours
            else "-"
        )
        one_cell = f"{_fmt_rcu(one['rcu'])} RCU (room of {one['room_members']:,})" if one else "-"
        moto = f"{(ours or {}).get('moto_reported_rcu', '-')} / {base.get('moto_reported_rcu')}"
        add(
            f"| {n:,} | {ours_cell} | {one_cell} | {_fmt_rcu(base['rcu'])} RCU "
            f"({base['items_read']:,} items, {base['bytes_read']:,} B) | {moto} |"
        )
    add("")
    items = analysis["item_bytes"]
    everyone = max(cost.get("ours", []), key=lambda e: e["connections"], default=None)
    scan_all = max(cost.get("baseline", []), key=lambda e: e["connections"], default=None)
    if everyone and scan_all and everyone["connections"] == scan_all["connections"]:
        add(
            f"When one room holds every connection ({everyone['connections']:,} here), ours "
            f"reads more than the Scan ({_fmt_rcu(everyone['rcu'])} vs "
            f"{_fmt_rcu(scan_all['rcu'])} RCU): a membership item carries the name, `joinedAt` "
            f"and the TTL ({items['ours_membership']:.0f} B against "
            f"{items['baseline_connection']:.0f} B) and the sender's membership is read "
            "strongly consistent. As soon as there is more than one room, ours reads only its "
            "room and the Scan reads them all."
        )
        add("")
    add(
        f"As rooms and connections grow (the measured item sizes: {items['ours_membership']:.0f} B "
        f"per membership, {items['baseline_connection']:.0f} B per baseline connection):"
    )
    add("")
    add(
        "| connections | ours, room of 100 | ours, room of connections/10 | baseline Scan "
        "| Scan ÷ ours (room of 100) |"
    )
    add("|---:|---:|---:|---:|---:|")
    for row in analysis["grid"]:
        add(
            f"| {row['connections']:,} | {_fmt_rcu(row['ours_room_100'])} | "
            f"{_fmt_rcu(row['ours_room_tenth'])} (room of {row['room_tenth']:,}) | "
            f"{_fmt_rcu(row['baseline_scan'])} | "
            f"{_x(row['baseline_scan'] / row['ours_room_100'])} |"
        )
    writes = cost.get("ours_writes")
    if writes:
        add("")
        add(
            f"For the record, ours also **writes** {writes['wcu_per_message']} WCU per message "
            f"({writes['detail']}; the stored message is {writes['history_item_bytes']} B); the "
            "baseline writes nothing (it keeps no history, no idempotency and no rate limit)."
        )
    add("")
    add("## 5. Cold start")
    add("")
    cold = results["cold_start"]
    add(
        f"Fresh interpreters (median of {plan['cold_runs']}), from the extracted deployment zip "
        "(found first through `PYTHONPATH`), with the function's environment, "
        "`PYTHONDONTWRITEBYTECODE=1` included: no `.pyc` is written, as on Lambda's read-only "
        "/var/task, so the package's modules are compiled at every cold start (runs before "
        "2026-11-29 used `python -I`, which ignored that variable and reused `.pyc` files: "
        "about 20 ms less for ours); an empty interpreter starts in "
        f"{cold.get('interpreter_start_ms', 0):.0f} ms, not counted below."
    )
    add("")
    add(
        "| handler | import (Lambda's init) | + AWS SDK import | + clients (first invocation) "
        "| modules loaded | zip | unzipped |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|")
    for kind, label in (
        ("roomchat", "ours: `roomchat.handlers` (botocore, clients built lazily)"),
        ("baseline", "baseline: `handler` (`import boto3`, resource + client)"),
    ):
        entry = cold.get(kind)
        if not entry:
            continue
        add(
            f"| {label} | {entry['import_ms']:.0f} ms | {entry['sdk_ms']:.0f} ms | "
            f"{entry['setup_ms']:.0f} ms | {entry['modules']} | {entry['zip_bytes']:,} B | "
            f"{entry['unzipped_bytes']:,} B |"
        )
    add("")
    add(COLD_NOTES.format(target=COLD_TARGET_MS, **_cold_values(cold)))
    add("")
    add("## 6. On AWS, on paper")
    add("")
    add(
        PAPER_NOTES.format(
            cpu=analysis["cpu_us_per_post"],
            workers=s.get("fanout_workers"),
            memory=s.get("send_all_memory_mb"),
            timeout=LAMBDA_TIMEOUT_S,
            integration=INTEGRATION_TIMEOUT_S,
            rps=ACCOUNT_RPS,
        )
    )
    add("")
    add(
        "| send_all memory | post round trip | posts/s per invocation | bound by | 1k members "
        "| 10k members | 100k members |"
    )
    add("|---:|---:|---:|---|---:|---:|---:|")
    for row in analysis["projection"]:
        cells = []
        for seconds in row["seconds"].values():
            verdict = ""
            if seconds > INTEGRATION_TIMEOUT_S:
                verdict = " (over 29 s)"
            elif seconds > LAMBDA_TIMEOUT_S:
                verdict = " (over 15 s)"
            cells.append(f"{seconds:,.1f} s{verdict}")
        add(
            f"| {row['memory_mb']:,} MB | {row['rtt_ms']} ms | {_n(row['posts_per_s'])} | "
            f"{row['bound']} | {' | '.join(cells)} |"
        )
    add("")
    add(DESIGN_NOTES.format(**_design_values(analysis)))
    add("")
    add("## Reproduce")
    add("")
    total_min = sum(results.get("phases_s", {}).values()) / 60
    add(
        f"`make bench` (this run: {total_min:.0f} minutes in all, by phase below; a minute of it "
        "is `terraform apply` against the emulator, and the tier phase's rooms of 5,000 take "
        "most of the rest). "
        "`python -m roomchat_tools.bench --help` for the options; `--stack-file .local/stack.json` "
        "measures a running `make run` stack instead of starting one. Raw numbers, every "
        "broadcast included: `latest.json` beside this file."
    )
    phases = results.get("phases_s", {})
    if phases:
        add("")
        add(
            "Phases: "
            + ", ".join(f"{name.replace('_', ' ')} {sec:.0f} s" for name, sec in phases.items())
            + "."
        )
    return "\n".join(out) + "\n"


def write_reports(
    results: dict[str, Any], out: Path, keep_run: bool = True
) -> tuple[Path, Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    analysis = analyse(results)
    results = {**results, "analysis": analysis}
    json_path, md_path, png_path = out / "latest.json", out / "latest.md", out / "latest.png"
    json_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if keep_run:  # every run's raw numbers, kept out of git (bench/results/runs/)
        runs = out / "runs"
        runs.mkdir(exist_ok=True)
        stamp = results["generated_at"].replace(":", "").replace("-", "")
        (runs / f"{stamp}.json").write_text(json.dumps(results, default=str) + "\n")
    plot(results, analysis, png_path)
    md_path.write_text(markdown_report(results, analysis, png_path.name))
    return md_path, png_path, json_path
