"""docs/capacity.md is what roomchat_tools/capacity.py computes; route_throttling's defaults in
infra/variables.tf are the model's; the model picks the quota that really binds."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from roomchat_tools import capacity
from roomchat_tools.capacity import Deployment, RouteLimit

VARIABLES_TF = capacity.ROOT / "infra" / "variables.tf"


def test_the_capacity_doc_tables_are_the_models_output():
    text = capacity.CAPACITY_DOC.read_text()
    assert capacity.documented_tables(text) == capacity.tables()


def test_every_quota_in_the_model_is_cited_in_the_doc():
    text = capacity.CAPACITY_DOC.read_text()
    for name, quota in capacity.QUOTAS.items():
        assert quota.source in text, name


def _route_throttling_defaults() -> dict[str, RouteLimit]:
    text = VARIABLES_TF.read_text()
    block = text[text.index('variable "route_throttling"') :]
    block = block[block.index("default = {") : block.index("\n  }\n")]
    found = {}
    for key, rate, burst in re.findall(
        r'^\s+"?([$\w]+)"?\s*=\s*\{\s*rate_limit\s*=\s*([\d.]+),\s*burst_limit\s*=\s*(\d+)\s*\}',
        block,
        re.MULTILINE,
    ):
        found[key] = RouteLimit(float(rate), int(burst))
    return found


def test_route_throttling_defaults_in_terraform_come_from_the_model():
    assert _route_throttling_defaults() == capacity.recommended_route_throttling()


def test_typing_and_ping_are_cheap_and_low_send_and_connect_sized_for_the_community():
    limits = capacity.recommended_route_throttling()
    assert limits["typing"].rate < limits["ping"].rate < limits["sendAll"].rate
    community = capacity.COMMUNITY
    peak = community.users_online * community.messages_per_user_per_min / 60
    assert limits["sendAll"].rate >= peak * community.peak_factor
    assert limits["$connect"].rate >= community.users_online / community.reconnect_window_s
    assert limits["$connect"].rate <= capacity.QUOTAS["new_connections"].value
    assert limits["$connect"].burst <= capacity.QUOTAS["new_connections"].value


def test_small_rooms_are_bound_by_the_route_throttle_and_big_ones_by_the_account():
    d = capacity.default_deployment()
    assert capacity.accepted("message", 10, d).binding == "stage route throttle"
    big = capacity.accepted("message", 500, d)
    assert big.binding == "account requests/s"
    assert big.accepted == pytest.approx(10_000 / 501)


def test_a_room_above_the_tier_threshold_is_bound_by_the_tiers_posts_and_raising_it_helps():
    d = capacity.default_deployment()
    huge = capacity.accepted("message", 5_000, d)
    assert huge.binding == "@connections posts (fan-out tier)"
    assert huge.accepted == pytest.approx(8 * 1_000 / 5_000)
    assert "fanout_max_concurrency" in huge.advice()
    raised = capacity.accepted("message", 5_000, replace(d, fanout_max_concurrency=16))
    assert raised.binding == "account requests/s"


def test_a_small_reservation_makes_lambda_concurrency_bind():
    d = replace(capacity.default_deployment(), reserved_concurrency={"send_all": 1})
    cap = capacity.accepted("message", 50, d)
    assert cap.binding == "Lambda concurrency"
    assert cap.accepted == pytest.approx(1 / (0.03 + 50 * 0.001))
    assert "send_all" in cap.advice()


def test_unreserved_functions_share_what_reservations_leave():
    d = Deployment(reserved_concurrency={"send_all": 300, "fanout": 8})
    assert d.concurrency("send_all") == 300
    assert d.concurrency("join") == 1_000 - 308


def test_connects_are_bound_by_the_route_then_the_account_new_connection_rate():
    d = capacity.default_deployment()
    cap = capacity.accepted("connect", 0, d)
    assert cap.binding == "stage route throttle" and cap.accepted == 200
    wide = replace(d, route_throttling={**d.route_throttling, "$connect": RouteLimit(2_000, 4_000)})
    assert capacity.accepted("connect", 0, wide).binding == "new connections/s"


def test_a_hot_room_is_bound_by_its_partition_when_the_api_allows_more():
    d = Deployment(route_throttling={"join": RouteLimit(5_000, 5_000)}, account_rps=1_000_000)
    cap = capacity.accepted("join", 5_000, d)
    assert cap.binding in ("DynamoDB partition (room)", "Lambda concurrency")
    assert "partition" in capacity.RAISE["DynamoDB partition (room)"]


def test_check_mode_reports_a_drifted_doc(tmp_path, monkeypatch, capsys):
    drifted = tmp_path / "capacity.md"
    drifted.write_text(capacity.CAPACITY_DOC.read_text().replace("| 200 |", "| 300 |", 1))
    monkeypatch.setattr(capacity, "CAPACITY_DOC", drifted)
    assert capacity.main(["--check"]) == 1
    assert "differs" in capsys.readouterr().out
