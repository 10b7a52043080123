"""The terminal client's reconnect policy (chat.py): how long to wait before the next try, when
to stop trying, and which messages a room has shown already. Pure: no I/O, so it is tested
without a network (tests/unit/test_chat_reconnect.py).

- Back-off: the SDKs' schedule (``backoff_delay``: exponential, jittered between half and all
  of min(cap, base * 2^attempt)), for ``attempts`` tries in a row; then the client gives up.
- Never again after the user quit, after a refused handshake that a retry cannot fix (no token,
  a token refused: expired, or for another server; a bad name), after the server said the
  connection's token expired (`token_expired`), or after a moderator removed
  the user from their last room on that connection (a kick or a ban: the close that follows is
  theirs).
- ``SeenIds``: the messageIds one room has shown, so a message is shown once although the
  replay of a resume and live delivery may both bring it (and a retried send echoes it again).
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable

from roomchat_client.protocol import backoff_delay

RECONNECT_ATTEMPTS = 12  # tries in a row (2 to 4 minutes of waits, capped at 30 s) before giving up
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
SEEN_KEPT = 1000  # messageIds remembered per room; older ones count as shown (the floor)


class Backoff:
    """The wait before each try of one outage; ``None`` once ``attempts`` tries have failed."""

    def __init__(
        self,
        attempts: int = RECONNECT_ATTEMPTS,
        base_s: float = BACKOFF_BASE_S,
        cap_s: float = BACKOFF_CAP_S,
        rng: Callable[[], float] = _random.random,
    ) -> None:
        if attempts < 0 or base_s <= 0 or cap_s < base_s:
            raise ValueError("attempts >= 0 and 0 < base_s <= cap_s")
        self.attempts, self.base_s, self.cap_s, self.rng = attempts, base_s, cap_s, rng

    def delay(self, attempt: int) -> float | None:
        """Seconds to wait before try ``attempt`` (0: the first after the drop), or None: stop."""
        if attempt >= self.attempts:
            return None
        return backoff_delay(attempt, self.base_s, self.cap_s, self.rng)


def refusal_is_final(status: int) -> bool:
    """A refused handshake a retry cannot fix: 401 (no token), 403 (the token was refused:
    expired, or for another server), 400 (a bad name). 429 (too many connections) and 5xx pass."""
    return 400 <= status < 500 and status != 429


def stop_reason(
    quitting: bool, removed_from: list[str], rooms_left: list[str], token_expired: bool = False
) -> str | None:
    """Why a close must not be followed by a reconnect, or None: retry it. A close after a
    moderator kicked or banned you from your last room on that connection is theirs
    (`disconnectUser` closes a connection whose only room is theirs); with other rooms left, it
    rejoins those (not the one you were removed from)."""
    if quitting:
        return "you quit"
    if token_expired:
        return "your token has expired: get a new one (make token) and start again"
    if removed_from and not rooms_left:
        return f"a moderator removed you from {', '.join(removed_from)}; not reconnecting"
    return None


class SeenIds:
    """The messageIds shown in one room: ``add`` says whether one is new. The newest ``kept``
    are remembered; one at or below the floor (the newest forgotten) counts as shown, as
    messageIds are ULIDs that sort by time. ``newest`` is where a resume starts."""

    def __init__(self, kept: int = SEEN_KEPT) -> None:
        self.kept = kept
        self.ids: set[str] = set()
        self.floor = ""
        self.newest: str | None = None

    def __contains__(self, message_id: object) -> bool:
        return isinstance(message_id, str) and (message_id in self.ids or message_id <= self.floor)

    def add(self, message_id: str) -> bool:
        """True the first time (show it), False for a repeat (drop it)."""
        if message_id in self:
            return False
        self.ids.add(message_id)
        if self.newest is None or message_id > self.newest:
            self.newest = message_id
        if len(self.ids) > self.kept * 2:
            ordered = sorted(self.ids)
            self.floor = ordered[-self.kept - 1]
            self.ids = set(ordered[-self.kept :])
        return True
