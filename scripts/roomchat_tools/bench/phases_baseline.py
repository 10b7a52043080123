"""The references ours is compared with: cold starts of both handlers, the bare WebSocket
broadcast (the floor of this machine) and the AWS sample's design behind its own API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
import zipfile
from typing import Any

from roomchat_tools.stackfile import dynamodb_endpoint

from .costmodel import item_size, scan_rcu
from .fleet import Client, Fleet, Tracker, broadcast_series, pace
from .plan import BASELINE, Series
from .processes import COLDSTART, SERVE, Helper, lambda_like_env, task_python
from .stack import aws_client, baseline_zip, deploy_baseline, remove_baseline


class ReferencePhases:
    """Mixed into Bench (run.py): the phases that measure the references."""

    # ----- 5. cold start ------------------------------------------------------------------------
    def extract_packages(self) -> None:
        """Both deployment zips, built and extracted as Lambda's /var/task."""
        from roomchat_tools.infra import build_lambda

        self.ours_zip, _ = build_lambda.build(self.work / "functions.zip")
        self.base_zip = baseline_zip(self.work / "baseline.zip")
        self.ours_root = self.work / "task-roomchat"
        self.base_root = self.work / "task-baseline"
        for archive, root in ((self.ours_zip, self.ours_root), (self.base_zip, self.base_root)):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(root)

    def cold_starts(self) -> None:
        self.extract_packages()
        ours_zip, base_zip, base_root = self.ours_zip, self.base_zip, self.base_root
        env = lambda_like_env(
            {
                "ROOMS_TABLE": "roomchat-rooms",
                "HISTORY_TABLE": "roomchat-history",
                "TABLE_NAME": "bench-connections",
                "CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/live",
            }
        )
        self.log(f"cold starts: {self.plan.cold_runs} fresh interpreters per handler")
        cold: dict[str, Any] = {}
        for kind, root, archive in (
            ("roomchat", self.ours_root, ours_zip),
            ("baseline", base_root, base_zip),
        ):
            runs = []
            for _ in range(self.plan.cold_runs):
                argv, task_env = task_python(COLDSTART, root, env, kind)
                done = subprocess.run(
                    argv,
                    env=task_env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"cold start of {kind} failed:\n{done.stderr[-2000:]}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            cold[kind] = {
                "runs": runs,
                "import_ms": statistics.median(r["import_ms"] for r in runs),
                "sdk_ms": statistics.median(r["sdk_ms"] for r in runs),
                "setup_ms": statistics.median(r["setup_ms"] for r in runs),
                "modules": runs[-1]["modules"],
                "zip_bytes": archive.stat().st_size,
                "unzipped_bytes": sum(i.file_size for i in zipfile.ZipFile(archive).infolist()),
            }
        starts = []
        for _ in range(self.plan.cold_runs):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-s", "-P", "-c", "pass"], env=env, check=True, timeout=30
            )
            starts.append((time.perf_counter() - t) * 1000)
        cold["interpreter_start_ms"] = statistics.median(starts)
        self.results["cold_start"] = cold

    # ----- 3b. the bare broadcast ---------------------------------------------------------------
    async def bare_phase(self, session: Any) -> None:
        helper = Helper("bare server", [*SERVE, "bare"])
        info = await helper.start()
        tracker = Tracker()
        fleet = Fleet(session, tracker, "bare")
        self.log("bare broadcast: an aiohttp server sending the frame to every socket")
        try:
            for size in self.plan.sizes:
                await fleet.grow(size, lambda i: info["websocket_url"], self.member_name)

                async def trigger(seq: int) -> asyncio.Task[Any]:
                    return asyncio.create_task(
                        session.post(info["broadcast_url"], data=self.frame(seq))
                    )

                async def after(task: asyncio.Task[Any]) -> None:
                    response = await asyncio.wait_for(task, 60)
                    response.release()

                series = Series("bare websocket broadcast", size, size)
                await broadcast_series(
                    series,
                    tracker,
                    trigger,
                    iterations=self.plan.iterations[size],
                    warmup=self.plan.warmup,
                    timeout_s=self.plan.delivery_timeout_s,
                    after=after,
                )
                self.record(series)
        finally:
            await fleet.close()
            await helper.stop()

    # ----- 2. the baseline ----------------------------------------------------------------------
    async def baseline_phase(self, session: Any, info: dict[str, Any]) -> None:
        rooms = self.plan.baseline_rooms
        self.log("baseline: the sample design deployed in the same stack (its own API and table)")
        deployed = deploy_baseline(info, self.base_zip, self.run_id)
        ddb = aws_client("dynamodb", dynamodb_endpoint(info), info["region"])
        helper = self.gateway_helper(info, deployed["api_id"], self.base_zip)
        gateway = await helper.start()
        tracker = Tracker()
        fleet = Fleet(session, tracker, "baseline")
        cost = self.results["cost"].setdefault("baseline", [])
        try:
            for size in self.plan.sizes:
                connect_s = await fleet.grow(
                    size,
                    lambda i: f"{gateway['websocket_url']}?room=r{i % rooms}",
                    self.member_name,
                )
                items = await self.wait_for_items(ddb, deployed["table"], size)
                sizes = [item_size(i) for i in items]
                moto = ddb.scan(TableName=deployed["table"], ReturnConsumedCapacity="TOTAL")
                cost.append(
                    {
                        "connections": size,
                        "rooms": min(rooms, size),
                        "items_read": len(sizes),
                        "bytes_read": sum(sizes),
                        "mean_item_bytes": statistics.mean(sizes),
                        "rcu": scan_rcu(sizes),
                        "moto_reported_rcu": (moto.get("ConsumedCapacity") or {}).get(
                            "CapacityUnits"
                        ),
                        "emulator_read_s": self.time_read(
                            lambda: ddb.scan(
                                TableName=deployed["table"], ProjectionExpression="connectionId"
                            )
                        ),
                    }
                )
                clients = fleet.clients

                async def trigger(seq: int, clients: list[Client] = clients) -> None:
                    sender = clients[seq % len(clients)]
                    await pace(sender)
                    body = {"action": "sendmessage", "data": self.frame(seq)}
                    await sender.ws.send_str(json.dumps(body))

                for delay in self.delays():
                    await self.set_delay(helper, delay)
                    iterations, warmup = self.rounds(size, delay)
                    series = Series(BASELINE, size, size, delay)
                    series.notes["connect_s"] = connect_s
                    series.notes["rooms"] = min(rooms, size)
                    await broadcast_series(
                        series,
                        tracker,
                        trigger,
                        iterations=iterations,
                        warmup=warmup,
                        timeout_s=self.plan.delivery_timeout_s,
                    )
                    self.record(series)
                await self.set_delay(helper, 0)
            if self.plan.tier_sizes:
                await self.baseline_tier(
                    fleet,
                    tracker,
                    lambda i: f"{gateway['websocket_url']}?room=r{i % rooms}",
                    self.member_name,
                    ddb,
                    deployed["table"],
                )
        finally:
            await fleet.close()
            # Let the $disconnects drain before ours is measured; then stop its gateway.
            with contextlib.suppress(Exception):
                await self.wait_for_items(ddb, deployed["table"], 0, timeout_s=90)
            await helper.stop()
            if not self.stack.owned:
                remove_baseline(info, deployed)
