"""What the current invocation has read from DynamoDB: the items each request returned (a
Query's ScannedCount: what DynamoDB bills, filtered out or not; a GetItem's one item). The
adapters' ``Table`` adds to it; the handlers reset it per invocation and charge the caller's
budgets by it (``usecases.policy.settle``). A Lambda process runs one invocation at a time
(the local runtime too: one warm subprocess per concurrent invocation), so one counter per
process is the invocation's."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_items = 0


def reset() -> None:
    global _items
    with _lock:
        _items = 0


def add(items: int) -> None:
    global _items
    with _lock:
        _items += items


def items_read() -> int:
    return _items
