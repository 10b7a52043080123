"""roomchat-client: the roomchat WebSocket protocol for Python (asyncio, on ``websockets``).

    from roomchat_client import Client, Session

    client = await Client.connect("ws://127.0.0.1:8080/live", token=token, name="ana")
    await client.join("lobby")
    await client.say("lobby", "hello")          # an outbox per room, retries with clientMsgId

``Client`` is one connection with every action (features.py) and waits by predicate
(connection.py); ``Session`` reconnects with back-off and jitter and fills the gap from history
(session.py); ``protocol`` has the frame builders, limits and wording; ``frames`` the typed frames
(generated from docs/asyncapi.yaml).
"""

from roomchat_client import frames, protocol
from roomchat_client.client import Client
from roomchat_client.connection import Connection, Refused
from roomchat_client.outbox import Outbox
from roomchat_client.protocol import RETRYABLE, Frame, Match
from roomchat_client.session import Session

__all__ = [
    "RETRYABLE",
    "Client",
    "Connection",
    "Frame",
    "Match",
    "Outbox",
    "Refused",
    "Session",
    "frames",
    "protocol",
]
__version__ = "0.1.0"
