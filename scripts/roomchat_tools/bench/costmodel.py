"""The cost model: DynamoDB read cost the way DynamoDB bills it (moto's ConsumedCapacity is not
realistic), and the AWS limits the on-paper projection uses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

KB4 = 4096
PAGE_BYTES = 1024 * 1024  # Query and Scan stop a page after 1 MB of items read
LAMBDA_MB_PER_VCPU = 1769  # "at 1,769 MB, a function has the equivalent of one vCPU"
ACCOUNT_RPS = 10_000  # API Gateway throttle quota per account and Region, callback APIs included
LAMBDA_TIMEOUT_S = (
    29  # infra/variables.tf lambda_limits: send_all (the integration timeout caps it)
)
INTEGRATION_TIMEOUT_S = 29
COLD_TARGET_MS = 150
PAPER_RTTS_MS = (10, 50)  # assumed PostToConnection round trips from Lambda, for the projection


def number_size(text: str) -> int:
    """Bytes of a Number value: about 1 byte per two significant digits, plus 1 byte."""
    digits = text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "")
    significant = digits.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one AttributeValue (low-level JSON shape, e.g. {"S": "lobby"})."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(raw) if isinstance(raw, bytes | bytearray) else len(raw.encode("latin-1"))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        size = {"SS": lambda v: len(v.encode("utf-8")), "NS": number_size, "BS": len}[kind]
        return sum(size(v) for v in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """An item's size: the UTF-8 bytes of every attribute name plus its value's bytes."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def rcu_get_item(size: int, consistent: bool = True) -> float:
    """GetItem: the item's size rounded up to 4 KB; strongly consistent 1 RCU per 4 KB."""
    units = max(1, math.ceil(size / KB4))
    return float(units) if consistent else units / 2


def rcu_read_pages(sizes: Iterable[int], consistent: bool = False) -> float:
    """Query or Scan: per page (at most 1 MB read), the summed item sizes rounded up to 4 KB;
    eventually consistent reads cost half. An empty read still costs the minimum unit."""
    pages: list[int] = []
    current = 0
    for size in sizes:
        if current and current + size > PAGE_BYTES:
            pages.append(current)
            current = 0
        current += size
    pages.append(current)
    factor = 1.0 if consistent else 0.5
    return sum(max(1, math.ceil(page / KB4)) * factor for page in pages)


def ours_rcu(member_size: int, room_sizes: Iterable[int]) -> float:
    """sendAll's reads: GetItem of the sender's membership (strongly consistent) + the room's Query
    (eventually consistent, paginated)."""
    return rcu_get_item(member_size, consistent=True) + rcu_read_pages(room_sizes)


def scan_rcu(sizes: Iterable[int]) -> float:
    """The baseline's read: a Scan of every connection (eventually consistent, paginated)."""
    return rcu_read_pages(sizes)
