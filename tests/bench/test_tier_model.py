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


def test_the_tier_phase_puts_the_four_variants_side_by_side_with_ratios_of_the_same_run():
    from roomchat_tools.bench.plan import BASELINE
    from roomchat_tools.bench.tier_phase import INLINE, LIMIT, TIER, table, tier_rows, tier_targets

    def series(variant, members, p50, missing=0):
        return {
            "variant": variant,
            "members": members,
            "p50_s": p50,
            "missing": missing,
            "extra": 0,
            "broadcasts": 3,
        }

    results = {
        "tier": {
            "series": [
                series(INLINE, 5000, 4.0),
                series(TIER, 5000, 3.0),
                series(BASELINE, 5000, 6.0, missing=2),
                series(LIMIT, 5000, 2.5),
                series(INLINE, 1000, 1.0),
                series(TIER, 1000, 0.8),
                series(LIMIT, 1000, 0.4),
            ]
        }
    }
    rows = tier_rows(results)
    assert [r["members"] for r in rows] == [1000, 5000]
    big = rows[1]
    assert big["tier_over_limit"] == 3.0 / 2.5
    assert big["baseline_over_tier"] == 2.0
    assert big["missing"] == 2
    assert rows[0]["baseline_s"] is None  # not measured: shown as such, not as zero
    shown = table(rows)
    assert (
        "| 5,000 | 4.00 s | 3.00 s | 6.00 s | 2.50 s | **1.20x** | 1.60x | 0.75x | 2.00x | 2 / 0 |"
        in shown
    )
    assert "| 1,000 | 1.00 s | 0.80 s | - | 0.40 s | **2.00x** |" in shown
    (target,) = tier_targets(results)
    assert "5,000-member room" in target["target"] and target["met"]
    results["tier"]["series"][1]["p50_s"] = 4.0  # 1.6x the limit
    assert not tier_targets(results)[0]["met"]
