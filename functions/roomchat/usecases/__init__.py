"""Use-cases: what each action does, written against the ports only (no boto3 here).

One module per capability, each a function per command taking ``Deps`` (the ports):
    membership   connect, join, leave, disconnect, members
    messages     send (sendAll), history, delete, edit, typing, markRead
    moderation   kick (and ban), disconnectUser
    rooms        createRoom, invite, uninvite, promote, demote
    fanout       the fan-out tier: hand a big room's message over, deliver a queued chunk
    resume       join/resume/history with ``after``: the replay after a reconnect
    threads      replies counted on their parent, thread, follow, threads (followed ones)
    reactions    react (add or take back an emoji)
    mentions     @names resolved on a message, and mentions (what mentions me)
    pins         pin (and unpin); the pins joined lists
and the pieces they share:
    policy       who may do what: roles, membership checks, ``may``, rate limits
    broadcast    posting frames to connections (inline or queued) and pruning gone ones
    core         ``Caller``, ``Deps`` and the clock helpers
    service      ``ChatService``, the router the handlers call (one line per command)
"""

from ..ports import Ban, FanoutJob, Member, Message, Room
from .core import OPERATOR, Caller, Deps, FanoutCounts, iso_ms, now_ms
from .service import ChatService

__all__ = [
    "OPERATOR",
    "Ban",
    "Caller",
    "ChatService",
    "Deps",
    "FanoutCounts",
    "FanoutJob",
    "Member",
    "Message",
    "Room",
    "iso_ms",
    "now_ms",
]
