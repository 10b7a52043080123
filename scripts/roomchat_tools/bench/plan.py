"""What a run measures (Plan), one measured series of broadcasts (Series), the variants' names,
and the token a measured frame carries."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

TOKEN_WIDTH = 7


def token(seq: int) -> str:
    """The marker a measured frame carries; fixed width so every frame has the same size."""
    return f"~q{seq:0{TOKEN_WIDTH}d}~"


def parse_token(text: str) -> int | None:
    at = text.find("~q")
    if at < 0 or len(text) < at + 3 + TOKEN_WIDTH or text[at + 2 + TOKEN_WIDTH] != "~":
        return None
    digits = text[at + 2 : at + 2 + TOKEN_WIDTH]
    return int(digits) if digits.isdigit() else None


@dataclass
class Plan:
    sizes: list[int]
    iterations: dict[int, int]
    warmup: int = 2
    baseline_rooms: int = 10
    sweep_workers: list[int] = field(default_factory=lambda: [1, 4, 8, 16, 32, 64, 128])
    sweep_posts: int = 500
    sweep_iterations: int = 2
    local_sweep_workers: list[int] = field(default_factory=lambda: [1, 8, 32, 64])
    rtt_ms: float = 10.0
    rtt_iterations: dict[int, int] = field(default_factory=dict)
    cold_runs: int = 7
    cpu_posts: int = 1000  # posts per round of the poster CPU phase
    cpu_rounds: int = 5  # measured rounds per poster, interleaved
    delivery_timeout_s: float = 60.0
    smoke: bool = False
    # The tier phase (tier_phase.py): rooms of these sizes, inline vs tier vs sample vs limit.
    tier_sizes: list[int] = field(default_factory=list)
    tier_iterations: dict[int, int] = field(default_factory=dict)

    @classmethod
    def full(cls) -> Plan:
        return cls(
            sizes=[10, 100, 1000],
            iterations={10: 30, 100: 20, 1000: 10},
            rtt_iterations={10: 10, 100: 5, 1000: 3},
            tier_sizes=[1000, 5000],
            tier_iterations={1000: 5, 5000: 3},
        )

    @classmethod
    def tiny(cls) -> Plan:
        return cls(
            sizes=[2, 20],
            iterations={2: 3, 20: 3},
            rtt_iterations={2: 1, 20: 1},
            warmup=1,
            sweep_workers=[1, 4],
            sweep_posts=20,
            sweep_iterations=1,
            local_sweep_workers=[1, 4],
            rtt_ms=5.0,
            cold_runs=2,
            cpu_posts=50,
            cpu_rounds=2,
            delivery_timeout_s=30.0,
            smoke=True,
            tier_sizes=[20],
            tier_iterations={20: 1},
        )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Series:
    """Repeated broadcasts of one frame to ``expected`` clients."""

    variant: str
    members: int
    expected: int
    post_delay_ms: float = 0.0  # added to every @connections POST (0: loopback as it is)
    last_s: list[float] = field(default_factory=list)  # send -> last member, per broadcast
    median_s: list[float] = field(default_factory=list)  # send -> median member
    received: int = 0
    missing: int = 0
    extra: int = 0  # frames that reached clients which should not get them
    notes: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        ok = bool(self.last_s)
        p50 = statistics.median(self.last_s) if ok else None
        return {
            "variant": self.variant,
            "members": self.members,
            "expected": self.expected,
            "post_delay_ms": self.post_delay_ms,
            "broadcasts": len(self.last_s),
            "p50_s": p50,
            "p95_s": percentile(self.last_s, 0.95) if ok else None,
            "max_s": max(self.last_s) if ok else None,
            "median_member_s": statistics.median(self.median_s) if self.median_s else None,
            "deliveries_per_s": (self.expected / p50) if p50 else None,
            "received": self.received,
            "missing": self.missing,
            "extra": self.extra,
            **self.notes,
        }


OURS = "ours: Query + concurrent fan-out"
OURS_ROOM = "ours: one of 10 rooms"
BASELINE = "baseline: Scan + every post at once (AWS sample)"
LIMIT = "limit: management API only"
BARE = "bare websocket broadcast"
VARIANTS = (OURS, OURS_ROOM, BASELINE, LIMIT, BARE)


ENGINE_NAMES = {"dynamodb-local": "DynamoDB Local", "moto": "moto"}


def dynamodb_engine(results: dict[str, Any]) -> str:
    """Which engine served DynamoDB in a run (the stack's ROOMCHAT_DYNAMODB), for the reports;
    runs before the setting existed were on moto."""
    engine = (results.get("settings") or {}).get("dynamodb_engine") or "moto"
    return ENGINE_NAMES.get(engine, engine)


def engine_sentence(results: dict[str, Any]) -> str:
    """The reports' line on which engine served DynamoDB."""
    engine = dynamodb_engine(results)
    if engine == "moto":
        return (
            "DynamoDB: **moto** (the emulator) served every table of every phase, ours and the "
            "sample design's alike; its reads of large partitions are far slower than DynamoDB's."
        )
    return (
        f"DynamoDB: **{engine}** (AWS's own, in memory) served every table of every phase, ours "
        "and the sample design's alike, so both designs read from the same engine (a fair "
        "comparison). Terraform still applies to moto, which also runs Lambda's and API "
        "Gateway's definitions and SQS; the stack recreates the tables Terraform made in "
        "DynamoDB Local and points the functions there (`ROOMCHAT_DYNAMODB=local`, "
        "local/dataplane.py)."
    )
