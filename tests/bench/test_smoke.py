"""`make bench` in miniature (python -m roomchat_tools.bench --smoke) against the session's local
stack: every phase runs, every broadcast reaches exactly its members, the reports are written and
nothing the bench started is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]


def _bench_processes() -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "roomchat_tools.bench _serve" in cmdline or "bench/poster.py" in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def smoke(stack, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "roomchat_tools.bench",
            "--smoke",
            "--quiet",
            "--stack-file",
            stack.info["stack_file"],
            "--out",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, json.loads((out / "latest.json").read_text()), done.stdout


def test_every_broadcast_reaches_exactly_its_members(smoke):
    _, results, _ = smoke
    variants = {(row["variant"], row["members"], row["post_delay_ms"]) for row in results["fanout"]}
    for size in (2, 20):
        for variant in ("ours", "baseline", "limit"):
            for delay in (0.0, results["plan"]["rtt_ms"]):
                assert any(v[0].startswith(variant) and v[1:] == (size, delay) for v in variants)
        assert ("bare websocket broadcast", size, 0.0) in variants
    assert ("ours: one of 10 rooms", 20, 0.0) in variants
    for row in results["fanout"]:
        assert row["broadcasts"] >= 1, row
        assert (row["missing"], row["extra"]) == (0, 0), row
        assert row["p50_s"] > 0


def test_read_cost_follows_the_room_and_the_scan_every_connection(smoke):
    _, results, _ = smoke
    cost = results["cost"]
    room_of_two = [e["rcu"] for e in cost["ours"] if e["room_members"] == 2]
    room_of_two += [e["rcu"] for e in cost["ours_one_of_10"] if e["room_members"] == 2]
    assert len(room_of_two) == 2 and len(set(room_of_two)) == 1  # 2 or 20 connections
    scanned = [e["bytes_read"] for e in cost["baseline"]]
    assert scanned == sorted(scanned) and scanned[-1] == 10 * scanned[0]


def test_cold_starts_are_measured_for_both_handlers(smoke):
    _, results, _ = smoke
    for kind in ("roomchat", "baseline"):
        entry = results["cold_start"][kind]
        assert 0 < entry["import_ms"] <= entry["sdk_ms"] <= entry["setup_ms"]
        assert entry["zip_bytes"] > 0


def test_reports_are_written_and_nothing_is_left_running(smoke):
    out, results, stdout = smoke
    report = (out / "latest.md").read_text()
    for heading in (
        "## Targets",
        "## 1-3. Fan-out",
        "## 4. DynamoDB",
        "## 5. Cold",
        "## 6. On AWS",
    ):
        assert heading in report
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert results["machine"]["cpu_count"] and results["machine"]["commit"]
    assert "baseline/ours" in stdout
    assert _bench_processes() == []


def test_cpu_per_post_is_measured_for_both_posters(smoke):
    _, results, stdout = smoke
    posters = results["posters"]
    assert posters["botocore_us_per_post"] > 0 and posters["signed_us_per_post"] > 0
    for kind in ("botocore", "signed"):
        assert len(posters["rounds_us"][kind]) == results["plan"]["cpu_rounds"]
    assert "CPU per post: botocore client" in stdout


def test_the_tier_phase_puts_inline_tier_sample_and_limit_side_by_side(smoke):
    out, results, stdout = smoke
    (size,) = results["plan"]["tier_sizes"]
    series = {s["variant"]: s for s in results["tier"]["series"] if s["members"] == size}
    assert set(series) == {
        "ours inline",
        "ours through the tier",
        "baseline: Scan + every post at once (AWS sample)",
        "limit: management API only",
    }
    for row in series.values():
        assert row["broadcasts"] >= 1 and (row["missing"], row["extra"]) == (0, 0), row
    # The tier rows really went through the queue and the fanout function; the inline ones not.
    assert series["ours through the tier"]["fanout_invocations"] >= 2
    assert series["ours inline"]["fanout_invocations"] == 0
    assert "## 3b. Big rooms" in (out / "latest.md").read_text()
    assert f"tier phase {size:>6,} members" in stdout
