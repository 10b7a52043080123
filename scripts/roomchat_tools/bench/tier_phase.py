"""The tier phase of `make bench`: one room of N real WebSocket members (1,000 and 5,000 by
default), send -> last member, four ways in the same run:

- ours inline: `sendAll` posts to every member itself (``FANOUT_TIER_THRESHOLD=0``);
- ours through the tier: `sendAll` stores the message and queues the recipients in chunks, the
  `fanout` function posts them (``FANOUT_TIER_THRESHOLD=1``; the queue, the function and its
  event source mapping as Terraform declared them, polled by the local stack's poller code in
  the same gateway process: bench/ownqueue.py);
- the sample's real design (Scan + every post in flight at once) behind its own gateway, as many
  connections;
- the management-API limit: the same frame to the same members posted by bench/poster.py (the
  sendAll function's environment and worker count, no DynamoDB, no Lambda in the way) through
  the same gateway.

Inline and tier run on the same gateway process and the same connections; only the threshold
changes between them (a function configuration update: the gateway's idle workers are retired
and the next invocation starts with the new environment, as on Lambda). Memberships are written
directly, as the main phases do (a real join of N members would broadcast ~N^2/2 presence frames).
"""

from __future__ import annotations

import json
import resource
from typing import Any

from roomchat_client.protocol import send_all, with_query
from roomchat_tools.stackfile import dynamodb_endpoint

from .fleet import Client, Fleet, Tracker, broadcast_series, pace
from .plan import BASELINE, Series, dynamodb_engine, engine_sentence

INLINE = "ours inline"
TIER = "ours through the tier"
LIMIT = "limit: management API only"
MODES = ((INLINE, "0"), (TIER, "1"))  # variant, FANOUT_TIER_THRESHOLD
TIER_TARGET = 1.5  # the tier within 1.5x of the management-API limit (issue 11)


class TierPhases:
    """Mixed into Bench (run.py): the tier phase's series, recorded in results["tier"]."""

    def tier_results(self) -> dict[str, Any]:
        results: dict[str, Any] = self.results
        return results.setdefault("tier", {"sizes": list(self.plan.tier_sizes), "series": []})

    def record_tier(self, series: Series) -> None:
        self.tier_results()["series"].append({**series.summary(), "last_s": series.last_s})
        p50 = series.summary()["p50_s"]
        shown = f"p50 {p50 * 1000:8.1f} ms" if p50 is not None else "no complete broadcast"
        self.log(
            f"tier phase: {series.variant:<28} {series.members:>6}: {shown}  "
            f"missing {series.missing} extra {series.extra}"
        )

    def tier_rounds(self, size: int) -> tuple[int, int]:
        return self.plan.tier_iterations.get(size, 3), 1

    # ----- the sample's design, behind its own gateway (called by baseline_phase) ---------------
    async def baseline_tier(
        self, fleet: Fleet, tracker: Tracker, url_for: Any, name_for: Any, ddb: Any, table: str
    ) -> None:
        for size in self.plan.tier_sizes:
            connect_s = await fleet.grow(size, url_for, name_for)
            await self.wait_for_items(ddb, table, size, timeout_s=300)
            clients = fleet.clients[:size]

            async def trigger(seq: int, clients: list[Client] = clients) -> None:
                sender = clients[seq % len(clients)]
                await pace(sender)
                body = {"action": "sendmessage", "data": self.frame(seq)}
                await sender.ws.send_str(json.dumps(body))

            iterations, warmup = self.tier_rounds(size)
            series = Series(BASELINE, size, size)
            series.notes["connect_s"] = connect_s
            await broadcast_series(
                series,
                tracker,
                trigger,
                iterations=iterations,
                warmup=warmup,
                timeout_s=self.plan.delivery_timeout_s * 2,
            )
            self.record_tier(series)

    # ----- ours inline, ours through the tier, and the limit (called by ours_phase) -------------
    async def ours_tier(
        self,
        info: dict[str, Any],
        helper: Any,
        gateway: dict[str, Any],
        fleet: Fleet,
        tracker: Tracker,
        written: list[dict[str, Any]],
    ) -> None:
        from .stack import aws_client

        ddb = aws_client("dynamodb", dynamodb_endpoint(info), info["region"])
        table = info["rooms_table"]
        self.tier_results()["queue"] = gateway.get("tier") or {}
        self.tier_results()["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        poster = self.poster(info, self.fanout_workers, callback_url=gateway["callback_url"])
        await poster.start()
        try:
            for size in self.plan.tier_sizes:
                before = len(fleet.clients)
                connect_s = await fleet.grow(
                    size,
                    lambda i: with_query(gateway["websocket_url"], name=self.member_name(i)),
                    self.member_name,
                )
                self.tier_results().setdefault("connect_s", {})[str(size)] = connect_s
                self.tier_results().setdefault("clients_before", {})[str(size)] = before
                self.log(f"tier phase: {size:,} members connected ({connect_s:.1f} s)")
                await self.resolve_ids(ddb, table, fleet.clients)
                members = fleet.clients[:size]
                room = f"bench-{self.run_id}-tier-{size}"
                items = self.membership_items(table, [(room, c) for c in members])
                await self.batch_write(ddb, table, [{"PutRequest": {"Item": i}} for i in items])
                written.extend(
                    {"roomId": i["roomId"], "connectionId": i["connectionId"]} for i in items
                )
                from roomchat.adapters.dynamodb import DynamoRooms

                rooms = DynamoRooms(ddb, table, "byConnection")
                self.tier_results().setdefault("emulator_read_s", {})[str(size)] = self.time_read(
                    lambda r=rooms, room=room: r.recipient_ids(room, 0)  # what sendAll reads
                )
                for variant, threshold in MODES:
                    reply = await self.set_env(helper, {"FANOUT_TIER_THRESHOLD": threshold})
                    series = await self._ours_tier_series(tracker, room, members, variant)
                    await helper.send({})  # no change: the fanout invocations so far
                    invocations = (await helper.read())["tier_invocations"]
                    series.notes["fanout_invocations"] = invocations - reply["tier_invocations"]
                    self.record_tier(series)
                ids = [c.connection_id or "" for c in members]
                iterations, _ = self.tier_rounds(size)
                series = Series(LIMIT, size, size)
                await self.limit_series(tracker, poster, ids, series, iterations=iterations)
                self.record_tier(series)
        finally:
            await self.set_env(helper, {"FANOUT_TIER_THRESHOLD": "0"})
            await poster.stop()

    async def set_env(self, helper: Any, env: dict[str, str]) -> dict[str, Any]:
        await helper.send({"env": env})
        reply: dict[str, Any] = await helper.read()
        return reply

    async def _ours_tier_series(
        self, tracker: Tracker, room: str, members: list[Client], variant: str
    ) -> Series:
        async def trigger(seq: int) -> None:
            sender = members[seq % len(members)]
            await pace(sender)
            frame = send_all(room, self.text(seq), f"b{self.run_id}-t{seq}")
            await sender.ws.send_str(json.dumps(frame))

        iterations, warmup = self.tier_rounds(len(members))
        series = Series(variant, len(members), len(members))
        return await broadcast_series(
            series,
            tracker,
            trigger,
            iterations=iterations,
            warmup=warmup,
            timeout_s=self.plan.delivery_timeout_s * 2,
        )


# ----- what the report shows ----------------------------------------------------------------------
def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top and bottom else None


def tier_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per room size: the four p50s and their ratios, all from the same run."""
    series = (results.get("tier") or {}).get("series") or []
    by = {(s["variant"], s["members"]): s for s in series}
    rows = []
    for size in sorted({s["members"] for s in series}):
        p50 = {v: (by.get((v, size)) or {}).get("p50_s") for v in (INLINE, TIER, BASELINE, LIMIT)}
        rows.append(
            {
                "members": size,
                "inline_s": p50[INLINE],
                "tier_s": p50[TIER],
                "baseline_s": p50[BASELINE],
                "limit_s": p50[LIMIT],
                "tier_over_limit": _ratio(p50[TIER], p50[LIMIT]),
                "inline_over_limit": _ratio(p50[INLINE], p50[LIMIT]),
                "tier_over_inline": _ratio(p50[TIER], p50[INLINE]),
                "baseline_over_tier": _ratio(p50[BASELINE], p50[TIER]),
                "baseline_over_inline": _ratio(p50[BASELINE], p50[INLINE]),
                "missing": sum((by.get((v, size)) or {}).get("missing", 0) for v in p50),
                "extra": sum((by.get((v, size)) or {}).get("extra", 0) for v in p50),
                "broadcasts": (by.get((TIER, size)) or {}).get("broadcasts", 0),
                "fanout_invocations": {
                    v: (by.get((v, size)) or {}).get("fanout_invocations") for v in (INLINE, TIER)
                },
            }
        )
    return rows


def tier_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = tier_rows(results)
    if not rows:
        return []
    largest = rows[-1]
    measured = largest["tier_over_limit"]
    return [
        {
            "target": f"a {largest['members']:,}-member room through the fan-out tier within "
            f"{TIER_TARGET}x of the management-API limit (same run)",
            "measured": measured,
            "unit": "x",
            "met": measured is not None and measured <= TIER_TARGET,
        }
    ]


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} s"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| members | ours inline | ours through the tier | sample design (Scan + all posts at "
        "once) | limit (management API only) | tier ÷ limit | inline ÷ limit | tier ÷ inline "
        "| sample ÷ tier | missing / extra |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['members']:,} | {_s(r['inline_s'])} | {_s(r['tier_s'])} | "
            f"{_s(r['baseline_s'])} | {_s(r['limit_s'])} | **{_x(r['tier_over_limit'])}** | "
            f"{_x(r['inline_over_limit'])} | {_x(r['tier_over_inline'])} | "
            f"{_x(r['baseline_over_tier'])} | {r['missing']} / {r['extra']} |"
        )
    return "\n".join(lines)


def console_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for r in tier_rows(results):
        lines.append(
            f"tier phase {r['members']:>6,} members: inline {_s(r['inline_s'])}, tier "
            f"{_s(r['tier_s'])}, sample {_s(r['baseline_s'])}, limit {_s(r['limit_s'])}; "
            f"tier/limit {_x(r['tier_over_limit'])}, inline/limit {_x(r['inline_over_limit'])}, "
            f"sample/tier {_x(r['baseline_over_tier'])}, missing {r['missing']} extra {r['extra']}"
        )
    return lines


TIER_NOTES = """\
One room of N real WebSocket members, send -> last member, measured four ways in this run (the \
clients all live in the bench's process, as above). *Ours inline* and *ours through the tier* use \
the same gateway process and the same N connections: only `FANOUT_TIER_THRESHOLD` changes \
between them (0: `sendAll` posts to everyone; 1: `sendAll` stores the message and queues the \
recipients in chunks of {chunk:,} for the `fanout` function, {function_memory} MB, polled in \
batches of {batch} with at most {concurrency} instances at once, the mapping Terraform declared, \
run by the local stack's poller code in that gateway on a copy of the queue: \
`roomchat_tools/bench/ownqueue.py`). The *sample design* is the AWS sample behind its own gateway \
with as many connections (Scan + every post in flight at once). The *limit* is \
`bench/poster.py` posting the same frame to the same members through the same gateway as ours, \
with no DynamoDB and no Lambda in the way. Broadcasts per point: {rounds}, after one warm-up; \
times are p50 of send -> last member."""

MACHINE_NOTES = """\
**What limits this machine.** Connecting the members took {connects}: ~{rate:.0f} a second \
(each `$connect` is a function invocation writing a profile, at most {concurrency} at once). \
{largest:,} members means {largest:,} client sockets in the bench's one process and as many \
server sockets in the gateway's (the open-file limit here is {nofile:,}), and every post of \
every variant is handled on these {cpus} shared cores by the one gateway process that parses \
the posts and writes the frames, next to the function workers and the emulator. Those shared \
cores, not memory or descriptors, are what limits it: at {largest:,} nothing was missing. A room \
of 10,000 is not in the default run for its time, not because it failed: {more_s:.0f} s more of \
connecting on each of the two APIs at that rate and twice the time of every broadcast (this run \
took {minutes:.0f} minutes, it would take at least {ten_k_minutes:.0f}); \
`--tier-sizes 1000,5000,10000` measures it. Locally a bigger room measures this machine's one \
gateway process, not AWS's scale-out, which the table below models."""


def _setup(results: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    queue = (results.get("tier") or {}).get("queue") or {}
    iterations = results["plan"].get("tier_iterations") or {}
    rounds = ", ".join(
        f"{iterations.get(str(r['members']), iterations.get(r['members']))} at {r['members']:,}"
        for r in rows
    )
    return TIER_NOTES.format(
        chunk=queue.get("chunk_size") or 0,
        function_memory=queue.get("memory_mb") or "-",
        batch=queue.get("batch_size") or "-",
        concurrency=queue.get("max_concurrency") or "-",
        rounds=rounds,
    )


def _verdict(row: dict[str, Any]) -> str:
    over = (row.get("tier_over_limit") or 0) - TIER_TARGET
    return f": missed by {over:.2f}x" if over > 0 else ": met"


def _reading(results: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    largest = rows[-1]
    reads = (results.get("tier") or {}).get("emulator_read_s") or {}
    out = [
        f"At {largest['members']:,} members the tier takes **{_x(largest['tier_over_limit'])}** "
        f"the limit's time (target: at most {TIER_TARGET}x{_verdict(largest)}), inline "
        f"{_x(largest['inline_over_limit'])}; the sample design takes "
        f"{_x(largest['baseline_over_tier'])} the tier's time and "
        f"{_x(largest['baseline_over_inline'])} inline's. Locally the tier's chunks run in "
        "worker processes on the same two cores as everything else, so it shows the path "
        "(queue, poller, chunked posts) and what overlapping the chunks buys here, not AWS's "
        "scale-out; the on-paper table below models that."
    ]
    if reads:
        out += ["", _without_the_read(reads, largest, dynamodb_engine(results))]
    counted = [
        f"{r['fanout_invocations'][TIER]} for {r['broadcasts'] + 1} messages at {r['members']:,}"
        for r in rows
        if r["fanout_invocations"][TIER] is not None
    ]
    if counted:
        inline_calls = sum(r["fanout_invocations"][INLINE] or 0 for r in rows)
        out += [
            "",
            "`fanout` invocations during the tier rows (warm-up included): "
            + ", ".join(counted)
            + f"; during the inline rows: {inline_calls}.",
        ]
    return out


def _connects(results: dict[str, Any]) -> list[tuple[int, int, float]]:
    """(room size, clients connected for it, seconds): the fleet grows from the main phases'
    largest room, then from one tier size to the next."""
    tier = results.get("tier") or {}
    before = tier.get("clients_before") or {}
    previous = max(results["plan"].get("sizes") or [0])
    out = []
    for size, seconds in sorted((int(k), v) for k, v in (tier.get("connect_s") or {}).items()):
        new = size - int(before.get(str(size), min(previous, size)))
        out.append((size, new, seconds))
        previous = size
    return out


def _without_the_read(reads: dict[str, float], largest: dict[str, Any], engine: str) -> str:
    ordered = sorted(reads.items(), key=lambda kv: int(kv[0]))
    text = (
        f"Both of ours read the room first, in `sendAll`, as on AWS; {engine}'s Query of it "
        "(strongly consistent, projected; median of 3, outside the timed runs): "
        + ", ".join(f"{int(k):,}: {v * 1000:,.0f} ms" for k, v in ordered)
        + ". The limit reads nothing. DynamoDB answers the same read in one 1 MB page per "
        "~10,000 members, and the client parses it in ~12 µs a member "
        '(`python -m bench.room_read`: docs/design.md, "Reading a big room").'
    )
    read = reads.get(str(largest["members"]))
    if read and largest["tier_s"] and largest["limit_s"]:
        aws_like = largest["members"] * 12.4e-6 + 0.015  # parse + one page, as in tier.py
        derived = (largest["tier_s"] - read + aws_like) / largest["limit_s"]
        text += (
            " Derived, not measured: with that read at DynamoDB's cost instead of "
            f"{engine}'s ({aws_like * 1000:,.0f} ms instead of {read * 1000:,.0f} ms), the tier "
            f"at {largest['members']:,} would take {derived:.2f}x the limit. The target above "
            "is judged on the measured time."
        )
    return text


def _machine(results: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    tier = results.get("tier") or {}
    connects = [c for c in _connects(results) if c[1] > 0]
    if not connects:
        return []
    new, seconds = sum(c[1] for c in connects), sum(c[2] for c in connects)
    rate = new / seconds
    minutes = sum(results.get("phases_s", {}).values()) / 60
    return [
        "",
        MACHINE_NOTES.format(
            connects=", ".join(f"{n:,} more for {size:,} in {s:.0f} s" for size, n, s in connects),
            concurrency=results["settings"].get("lambda_concurrency"),
            largest=rows[-1]["members"],
            nofile=tier.get("nofile") or 0,
            cpus=results["machine"].get("cpu_count"),
            rate=rate,
            more_s=(10_000 - rows[-1]["members"]) / rate,
            minutes=minutes,
            ten_k_minutes=minutes + 2 * (10_000 - rows[-1]["members"]) / rate / 60,
        ),
    ]


def _paper(results: dict[str, Any]) -> list[str]:
    from .tier import TierModel, paper_table

    cpu = (results.get("posters") or {}).get("signed_us_per_post")
    model = TierModel(cpu_us_per_post=cpu) if cpu else TierModel()
    return [
        "",
        "**On AWS, on paper, with the tier** (`roomchat_tools/bench/tier.py`, prices and quotas "
        f"cited there; CPU per post {model.cpu_us_per_post:,.0f} µs as measured in this run's "
        "poster phase; inline = one `sendAll` invocation at one vCPU):",
        "",
        paper_table(model),
    ]


def markdown_section(results: dict[str, Any]) -> list[str]:
    """The report's tier section: the four variants side by side and the on-paper AWS table."""
    rows = tier_rows(results)
    out = ["", "## 3b. Big rooms: inline vs the fan-out tier vs the sample vs the limit", ""]
    if not rows:
        return [*out, "Not measured in this run (`--tier-sizes 0`).", *_paper(results)]
    out += [_setup(results, rows), "", engine_sentence(results), "", table(rows), ""]
    out += _reading(results, rows)
    return out + _machine(results, rows) + _paper(results)
