"""The fan-out tier's on-paper AWS model (roomchat_tools/bench/tier.py): the issue's targets
hold at the Terraform defaults, and the tier never spends more than its share of the quota."""

from __future__ import annotations

from dataclasses import replace

from roomchat_tools.bench.tier import QUOTA_RPS, TierModel, inline, paper_table, tier


def test_the_targets_hold_at_the_defaults():
    model = TierModel()
    assert tier(model, 10_000)["seconds"] < 2
    assert tier(model, 100_000)["seconds"] < 15
    assert not inline(model, 100_000)["fits_29s"]


def test_the_tier_stays_within_its_share_of_the_quota():
    for concurrency in (2, 8, 50, 1000):
        model = replace(TierModel(), max_concurrency=concurrency)
        assert model.tier_posts_per_s <= 0.8 * QUOTA_RPS
        assert tier(model, 100_000)["seconds"] >= 100_000 / QUOTA_RPS


def test_fewer_instances_take_longer():
    slow = tier(replace(TierModel(), max_concurrency=2), 100_000)["seconds"]
    assert slow > tier(TierModel(), 100_000)["seconds"]


def test_the_table_names_every_size():
    table = paper_table()
    for size in ("1,000", "10,000", "100,000"):
        assert f"| {size} |" in table


def test_the_tier_phase_table_puts_the_modes_side_by_side():
    from roomchat_tools.bench.tier_phase import table as phase_table

    rows = [
        {"mode": "inline", "members": 1000, "p50_s": 1.46, "missing": 0},
        {"mode": "tier", "members": 1000, "p50_s": 0.77, "missing": 0},
    ]
    assert "| 1,000 | 1.46 s | 0.77 s | 0.53x | 0 / 0 |" in phase_table(rows)
