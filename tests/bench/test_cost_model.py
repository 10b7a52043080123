"""The read-cost model of the bench (roomchat_tools.bench.costmodel): item sizes and RCU the way
DynamoDB bills them ("DynamoDB item sizes and formats", "DynamoDB read and write operations")."""

from __future__ import annotations

import pytest

from roomchat_tools.bench.costmodel import (
    item_size,
    number_size,
    ours_rcu,
    rcu_get_item,
    rcu_read_pages,
    scan_rcu,
)


def test_item_size_is_attribute_names_plus_values():
    # given: 6 + 5 ("roomId" + "lobby") and 12 + 3 ("connectionId" + "abc")
    item = {"roomId": {"S": "lobby"}, "connectionId": {"S": "abc"}}

    assert item_size(item) == 26


def test_strings_count_utf8_bytes_not_characters():
    assert item_size({"n": {"S": "żółw"}}) == 1 + 7


@pytest.mark.parametrize(
    ("number", "size"),
    [("7", 2), ("12", 2), ("123", 3), ("1763720000", 4), ("0.0015", 2), ("-12345.6789", 6)],
)
def test_numbers_take_a_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size


def test_get_item_rounds_up_to_4kb_and_is_one_rcu_strongly_consistent():
    assert rcu_get_item(118) == 1.0
    assert rcu_get_item(4097) == 2.0
    assert rcu_get_item(118, consistent=False) == 0.5


def test_query_and_scan_round_the_sum_of_a_page_not_each_item():
    # 300 items of 100 bytes: 30,000 bytes -> 8 blocks of 4 KB -> 4 RCU eventually consistent
    # (moto reports 1.0 for such a Scan).
    assert rcu_read_pages([100] * 300) == 4.0
    assert rcu_read_pages([100] * 300, consistent=True) == 8.0


def test_pages_stop_at_one_megabyte_and_round_up_each():
    # Two 600,000-byte items do not fit one 1 MB page: 2 x ceil(600,000 / 4 KB) x 0.5 = 147,
    # where one page of 1.2 MB would have been 146.5.
    assert rcu_read_pages([600_000, 600_000]) == 147.0


def test_an_empty_read_still_costs_the_minimum():
    assert rcu_read_pages([]) == 0.5


def test_ours_follows_the_room_and_the_scan_follows_every_connection():
    member = 118
    room_of_100 = [member] * 100
    assert ours_rcu(member, room_of_100) == 1.0 + 1.5
    # The same room among 1,000 or 100,000 connections costs the same to read...
    # ...while the Scan of every connection grows with them.
    assert scan_rcu([36] * 100_000) > 100 * scan_rcu([36] * 1_000) / 2
