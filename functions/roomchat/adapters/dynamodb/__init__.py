"""DynamoDB repositories, one module per kind of item, over an injected low-level client:
    rooms        DynamoRooms: memberships, connection profiles and records (rooms table)
    roles        DynamoRoomAccess: room records and roles, the part of DynamoRooms in acl#
    progress     DynamoFanoutProgress: the fan-out workers' per-chunk records (rooms table)
    history      DynamoHistory: messages and clientMsgId claims (history table)
    changes      DynamoChanges: which messages were edited or deleted when (history table)
    moderation   DynamoModeration: bans and read markers (history table)
    limiter      DynamoRateLimiter: the per-connection counters (history table)
    messages     a message's key and item codec (history, threads, reactions share it)
    threads      DynamoThreads: a parent's reply counters and the follow states (history table)
    reactions    DynamoReactions: who reacted with what, and the summary (history table)
    mentions     DynamoMentions: each user's mentions, across rooms (history table)
    pins         DynamoPins: pins on the room's record (rooms table)
    base         what they share: item codecs, and ``Table``'s requests (a failed condition a
                 None, any other failure a StorageError)
Only this package knows the tables' layout (docs/design.md, "Tables").
"""

from .changes import DynamoChanges
from .history import DynamoHistory
from .limiter import DynamoRateLimiter
from .mentions import DynamoMentions
from .moderation import DynamoModeration
from .pins import DynamoPins
from .progress import DynamoFanoutProgress
from .reactions import DynamoReactions
from .roles import DynamoRoomAccess
from .rooms import DynamoRooms, lives_with_a_connection
from .threads import DynamoThreads

__all__ = [
    "DynamoChanges",
    "DynamoFanoutProgress",
    "DynamoHistory",
    "DynamoMentions",
    "DynamoModeration",
    "DynamoPins",
    "DynamoRateLimiter",
    "DynamoReactions",
    "DynamoRoomAccess",
    "DynamoRooms",
    "DynamoThreads",
    "lives_with_a_connection",
]
