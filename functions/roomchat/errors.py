"""The project's own exceptions. Every one carries a protocol error code and human text."""

from __future__ import annotations


class ChatError(Exception):
    """A request the service refuses; it becomes an error frame for the caller."""

    code = "internal"
    status = 500

    def __init__(self, message: str, *, room_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.room_id = room_id


class BadRequest(ChatError):
    code = "bad_request"
    status = 400


class UnknownAction(ChatError):
    code = "unknown_action"
    status = 400


class NotMember(ChatError):
    code = "not_member"
    status = 403


class Forbidden(ChatError):
    """The caller's role in the room does not allow the action (or there is no sign-in).

    Moderation raises it too: not the author, not a moderator, banned from the room.
    """

    code = "forbidden"
    status = 403


class NotFound(ChatError):
    code = "not_found"
    status = 404


class Rejected(ChatError):
    """The message review hook refused the message; its reason is the text."""

    code = "rejected"
    status = 403


class TooLarge(ChatError):
    code = "too_large"
    status = 413


class RateLimited(ChatError):
    code = "rate_limited"
    status = 429


class TooManyConnections(ChatError):
    """A signed-in user already holds MAX_CONNECTIONS_PER_USER connections: $connect refused."""

    code = "rate_limited"
    status = 429


class TokenExpired(ChatError):
    """The connection's token has expired: the client must reconnect with a fresh one."""

    code = "token_expired"
    status = 401


class ConnectionGone(ChatError):
    """The connection closed while the request ran; what it would have joined is undone."""

    code = "bad_request"
    status = 410


class Internal(ChatError):
    """A dependency failed; nothing was written or delivered on the caller's behalf."""

    code = "internal"
    status = 500


class StorageError(Exception):
    """An adapter could not complete a read or write (throttled past retries, unavailable)."""
