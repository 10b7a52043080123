"""DynamoDB repositories, one module per kind of item, over an injected low-level client:
    rooms        DynamoRooms: memberships, connection profiles and records (rooms table)
    roles        DynamoRoomAccess: room records and roles, the part of DynamoRooms in acl#
    progress     DynamoFanoutProgress: the fan-out workers' per-chunk records (rooms table)
    history      DynamoHistory: messages and clientMsgId claims (history table)
    moderation   DynamoModeration: bans and read markers (history table)
    limiter      DynamoRateLimiter: the per-connection counters (history table)
    base         what they share: item codecs, and ``Table``'s requests (a failed condition a
                 None, any other failure a StorageError)
Only this package knows the tables' layout (docs/design.md, "Tables").
"""

from .history import DynamoHistory
from .limiter import DynamoRateLimiter
from .moderation import DynamoModeration
from .progress import DynamoFanoutProgress
from .roles import DynamoRoomAccess
from .rooms import DynamoRooms, lives_with_a_connection

__all__ = [
    "DynamoFanoutProgress",
    "DynamoHistory",
    "DynamoModeration",
    "DynamoRateLimiter",
    "DynamoRoomAccess",
    "DynamoRooms",
    "lives_with_a_connection",
]
