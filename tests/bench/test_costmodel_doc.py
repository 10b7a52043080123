"""docs/cost.md is what roomchat_tools/costmodel.py computes; the model adds up as documented."""

from __future__ import annotations

import math

import pytest

from roomchat_tools import costmodel


def test_the_cost_doc_tables_are_the_models_output():
    text = costmodel.COST_DOC.read_text()
    assert costmodel.documented_tables(text) == costmodel.tables()


def test_every_price_in_the_model_is_cited_in_the_doc():
    text = costmodel.COST_DOC.read_text()
    for name, price in costmodel.PRICES.items():
        assert price.source in text, name
    assert costmodel.PRICES_DATE in text


@pytest.mark.parametrize("members", costmodel.ROOM_SIZES)
def test_api_gateway_bills_one_message_in_and_one_per_member(members):
    per_message = costmodel.ours_per_message(members)["API Gateway messages"]
    assert per_message * 1e6 == pytest.approx(1.00 * (1 + members))


def test_a_thousand_member_room_costs_about_a_hundred_times_a_ten_member_room_on_api_gateway():
    small = sum(costmodel.ours_per_message(10).values())
    large = sum(costmodel.ours_per_message(1000).values())
    assert 60 < large / small < 100


def test_a_user_connected_all_month_is_billed_730_hours_of_minutes():
    minutes = costmodel.MINUTES_PER_MONTH
    assert minutes == 43_800
    cost = costmodel.ours_per_user_month()["API Gateway connection minutes"]
    assert cost == pytest.approx(0.25 * minutes / 1e6)


def test_query_reads_round_the_page_not_each_item():
    # 100 members x 200 bytes = 20,000 bytes -> 5 blocks of 4 KB -> 2.5 units (README's figure)
    assert costmodel._query_read_units(100 * 200) == 2.5
    assert costmodel._query_read_units(0) == 0.5
    assert math.isclose(costmodel._query_read_units(4096), 0.5)


def test_check_mode_reports_a_drifted_doc(tmp_path, monkeypatch, capsys):
    drifted = tmp_path / "cost.md"
    text = costmodel.COST_DOC.read_text().replace("$1,001.00", "$999.00")
    drifted.write_text(text)
    monkeypatch.setattr(costmodel, "COST_DOC", drifted)
    assert costmodel.main(["--check"]) == 1
    assert "differs" in capsys.readouterr().out
