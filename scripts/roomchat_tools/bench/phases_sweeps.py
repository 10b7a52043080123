"""The fan-out pool's width on loopback and against an AWS-like round trip, and the CPU per post
of the two @connections posters (the botocore client and the lean signed poster)."""

from __future__ import annotations

import statistics
from typing import Any

from .fleet import Fleet, Tracker
from .plan import Series
from .processes import SERVE, Helper


class SweepPhases:
    """Mixed into Bench (run.py): sweeps and the poster CPU phase."""

    async def loopback_sweep(
        self, info: dict[str, Any], tracker: Tracker, fleet: Fleet, callback_url: str
    ) -> None:
        """The management-API limit at the largest room for several worker counts."""
        size = max(self.plan.sizes)
        ids = [c.connection_id or "" for c in fleet.clients[:size]]
        rows = []
        for workers in self.plan.local_sweep_workers:
            poster = self.poster(info, workers, callback_url=callback_url)
            await poster.start()
            try:
                iterations = max(1, min(5, self.plan.iterations[size]))
                series = Series(f"limit sweep {workers}", size, size)
                await self.limit_series(tracker, poster, ids, series, iterations)
            finally:
                await poster.stop()
            summary = series.summary()
            rows.append(
                {
                    "workers": workers,
                    "posts": size,
                    "p50_s": summary["p50_s"],
                    "posts_per_s": summary["deliveries_per_s"],
                    "cpu_us_per_post": series.notes["poster_cpu_us_per_post"],
                    "missing": series.missing,
                }
            )
            rate = rows[-1]["posts_per_s"] or 0
            self.log(f"loopback sweep: {workers:>3} workers -> {rate:7.0f} posts/s")
        self.results["sweeps"]["loopback"] = rows

    async def rtt_sweep(self, info: dict[str, Any]) -> None:
        """The fan-out pool against an endpoint that answers after rtt_ms: the AWS-like regime."""
        sink = Helper(
            "latency sink",
            [*SERVE, "sink", "--delay-ms", str(self.plan.rtt_ms)],
        )
        target = await sink.start()
        rows = []
        ids = [f"sink-{i:05d}" for i in range(self.plan.sweep_posts)]
        try:
            for workers in self.plan.sweep_workers:
                poster = self.poster(info, workers, callback_url=target["callback_url"])
                await poster.start()
                try:
                    await poster.send({"ids": ids})
                    await poster.read()
                    walls, cpus = [], []
                    rounds = 1 if workers == 1 else self.plan.sweep_iterations
                    for _ in range(rounds):
                        await poster.send({"data": self.frame(0)})
                        reply = await poster.read(timeout_s=300)
                        walls.append(reply["wall_s"])
                        cpus.append(reply["cpu_s"])
                        if reply["delivered"] != len(ids):
                            raise RuntimeError(f"sink sweep: {reply['delivered']} of {len(ids)}")
                finally:
                    await poster.stop()
                wall = statistics.median(walls)
                rows.append(
                    {
                        "workers": workers,
                        "posts": len(ids),
                        "wall_s": wall,
                        "posts_per_s": len(ids) / wall,
                        "cpu_us_per_post": statistics.median(cpus) / len(ids) * 1e6,
                    }
                )
                self.log(
                    f"{self.plan.rtt_ms:.0f} ms round trip: {workers:>3} workers -> "
                    f"{rows[-1]['posts_per_s']:7.0f} posts/s"
                )
        finally:
            await sink.stop()
        self.results["sweeps"]["rtt"] = {"rtt_ms": self.plan.rtt_ms, "rows": rows}

    async def poster_cpu(self, workers: int) -> None:
        """CPU per post of the botocore client (FANOUT_POSTER=botocore) and of the lean signed
        poster, each in a process like the sendAll function's (bench/poster.py: the deployment
        zip, the function's settings, ``workers`` threads), posting the same frames to the same
        loopback endpoint, rounds interleaved so both see the same machine. The CPU is the poster
        process's own (``time.process_time``): its posting threads, nothing else runs in it."""
        sink = Helper("post sink", [*SERVE, "sink", "--delay-ms", "0"])
        target = await sink.start()
        ids = [f"cpu-{i:05d}" for i in range(self.plan.cpu_posts)]
        kinds = ("botocore", "signed")
        posters = {k: self.poster(None, workers, target["callback_url"], kind=k) for k in kinds}
        per_post: dict[str, list[float]] = {k: [] for k in kinds}
        self.log(f"posters: CPU per post, botocore client vs signed, {workers} workers")
        try:
            for poster in posters.values():
                await poster.start()
                await poster.send({"ids": ids})
                await poster.read()
            for round_no in range(1 + self.plan.cpu_rounds):  # the first round warms up
                order = kinds if round_no % 2 == 0 else kinds[::-1]
                for kind in order:
                    await posters[kind].send({"data": self.frame(round_no)})
                    reply = await posters[kind].read(timeout_s=300)
                    if reply["delivered"] != len(ids):
                        raise RuntimeError(f"{kind} poster: {reply['delivered']} of {len(ids)}")
                    if round_no:
                        per_post[kind].append(reply["cpu_s"] / len(ids) * 1e6)
        finally:
            for poster in posters.values():
                await poster.stop()
            await sink.stop()
        botocore_us = statistics.median(per_post["botocore"])
        signed_us = statistics.median(per_post["signed"])
        self.results["posters"] = {
            "workers": workers,
            "posts": len(ids),
            "rounds": self.plan.cpu_rounds,
            "botocore_us_per_post": botocore_us,
            "signed_us_per_post": signed_us,
            "signed_over_botocore": signed_us / botocore_us,
            "rounds_us": per_post,
        }
        self.log(
            f"posters: botocore {botocore_us:,.0f} µs/post, signed {signed_us:,.0f} µs/post "
            f"({signed_us / botocore_us:.2f}x)"
        )
