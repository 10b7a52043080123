"""What the current invocation has read from DynamoDB, in bytes: the size of the items each
Query or GetItem returned (DynamoDB bills strongly consistent reads by the 4 KB read; the size
is estimated from the response's items, ``size_of``). The adapters' ``Table`` adds to it; the
handlers reset it per invocation and charge the caller's budgets by it
(``usecases.budgets.settle``). A Lambda process runs one invocation at a time (the local
runtime too: one warm subprocess per concurrent invocation), so one counter per process is
the invocation's."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_bytes = 0


def size_of(items: object) -> int:
    """About the bytes of DynamoDB items as the response gives them (their text; a little more
    than DynamoDB's own sizing, which counts names and values only)."""
    return len(repr(items))


def reset() -> None:
    global _bytes
    with _lock:
        _bytes = 0


def add(read_bytes: int) -> None:
    global _bytes
    with _lock:
        _bytes += read_bytes


def bytes_read() -> int:
    return _bytes
