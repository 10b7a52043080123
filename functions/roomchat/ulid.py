"""ULIDs: 128-bit ids whose text form sorts by creation time (https://github.com/ulid/spec).

48 bits of milliseconds then 80 random bits, in Crockford base32 (26 characters). Within one
process, ids made in the same millisecond increase monotonically so a room's order is stable.
"""

from __future__ import annotations

import os
import re
import threading

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}\Z")  # \Z: $ accepts a final newline
_RANDOM_BITS = 80


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class UlidGenerator:
    """Makes ULIDs that increase strictly within one generator, even in the same millisecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0

    def __call__(self, now_ms: int) -> str:
        if not 0 <= now_ms < 1 << 48:
            raise ValueError("timestamp out of ULID range")
        with self._lock:
            if now_ms <= self._last_ms:
                # Same (or a backwards-stepping) millisecond: keep order by incrementing.
                now_ms = self._last_ms
                rand = self._last_rand + 1
                if rand >> _RANDOM_BITS:
                    now_ms += 1
                    rand = int.from_bytes(os.urandom(10), "big")
            else:
                rand = int.from_bytes(os.urandom(10), "big")
            self._last_ms, self._last_rand = now_ms, rand
        return _encode((now_ms << _RANDOM_BITS) | rand, 26)


# The process-wide generator the use-cases use.
new_ulid = UlidGenerator()


def is_ulid(text: object) -> bool:
    return isinstance(text, str) and ULID_RE.match(text) is not None


def timestamp_ms(ulid: str) -> int:
    """The millisecond timestamp a ULID carries."""
    value = 0
    for ch in ulid[:10]:
        value = (value << 5) | ALPHABET.index(ch)
    return value


def successor(ulid: str) -> str:
    """The next ULID after ``ulid``: as a ``before`` cursor it takes in ``ulid`` itself."""
    value = 0
    for ch in ulid:
        value = (value << 5) | ALPHABET.index(ch)
    return _encode(value + 1, 26)
