"""Connect tokens: standard JWTs, verified with PyJWT. No I/O here: keys come from callables.

Two modes (``AUTH_MODE``):

- ``jwt``: tokens the operator's own backend signs, HS256 with a shared secret or ES256 with an
  EC key pair; the verification keys (by ``kid``, for rotation) come from SSM.
- ``oidc``: RS256 tokens of any OpenID Connect issuer (Cognito, Auth0, Keycloak...), checked
  against the issuer's JWKS.

Either way ``iss``, ``aud``, ``exp``, ``iat``, ``sub`` are required, and ``exp - iat`` may not
exceed the configured maximum lifetime (a leaked long-lived token is refused even if signed).
The algorithm comes from the key, never from the token's header, so ``alg=none`` and
HS256-with-a-public-key confusion are refused.

This module is imported by the authorizer only: the chat functions never load PyJWT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .protocol import ROOM_ID_RE, check_name

MAX_TOKEN_CHARS = 8192
MAX_GRANTED_ROOMS = 50
LEEWAY_SECONDS = 30
# Claims that may carry the display name, in order (Cognito ID tokens have no `name` unless
# the pool has that attribute; they always have `cognito:username`).
NAME_CLAIMS = ("name", "cognito:username", "preferred_username", "email")
DEFAULT_KID = "default"


class InvalidToken(Exception):
    """The token is malformed, forged, expired or not for us; the message says which (logs)."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token names: the user id (``sub``), a display name and granted rooms."""

    sub: str
    name: str | None
    rooms: tuple[str, ...] = ()

    def context(self) -> dict[str, str]:
        """The authorizer context (requestContext.authorizer of every later event). API Gateway
        allows only string, number and boolean values there, so rooms are joined by ','
        (never part of a room id)."""
        ctx = {"sub": self.sub}
        if self.name:
            ctx["name"] = self.name
        if self.rooms:
            ctx["rooms"] = ",".join(self.rooms)
        return ctx


def parse_keys(value: str) -> dict[str, str]:
    """The verification keys of ``jwt`` mode from their stored text: a JSON object
    ``{"<kid>": "<HS256 secret or ES256 public key PEM>", ...}`` (several during a rotation), or
    one key alone (its kid is ``default``, and tokens without a kid use it)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            keys = json.loads(text)
        except ValueError:
            raise ValueError("the key set is not valid JSON") from None
        if not isinstance(keys, dict) or not keys:
            raise ValueError("the key set must be a non-empty JSON object of kid -> key")
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in keys.items()):
            raise ValueError("every kid and key of the key set must be a non-empty string")
        return keys
    if not text:
        raise ValueError("no key")
    return {DEFAULT_KID: text}


def algorithm_of(key: str) -> str:
    """ES256 for a PEM public key, HS256 for a shared secret."""
    return "ES256" if key.lstrip().startswith("-----BEGIN") else "HS256"


def _precheck(token: object) -> str:
    if not isinstance(token, str) or not token:
        raise InvalidToken("missing token")
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("token too long")
    if not token.isascii():
        raise InvalidToken("token is not ASCII")
    if token.count(".") != 2:
        raise InvalidToken("not a JWT (three dot-separated parts)")
    return token


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        raise InvalidToken(f"bad header: {type(e).__name__}") from None


def _name(claims: Mapping[str, Any]) -> str | None:
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        if value is None:
            continue
        try:
            return check_name(value)
        except Exception:
            continue  # e.g. an e-mail address longer than a display name may be
    return None


def _rooms(claims: Mapping[str, Any]) -> tuple[str, ...]:
    rooms = claims.get("rooms")
    if rooms is None:
        return ()
    if (
        not isinstance(rooms, list)
        or len(rooms) > MAX_GRANTED_ROOMS
        or not all(isinstance(r, str) and ROOM_ID_RE.match(r) for r in rooms)
    ):
        raise InvalidToken(f"'rooms' must be a list of at most {MAX_GRANTED_ROOMS} room ids")
    return tuple(dict.fromkeys(rooms))


@dataclass(frozen=True)
class Policy:
    """What every token must satisfy besides its signature."""

    issuer: str
    audience: str
    max_lifetime_s: int

    def identity(self, claims: Mapping[str, Any]) -> Identity:
        iat, exp = claims.get("iat"), claims.get("exp")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (iat, exp)):
            raise InvalidToken("iat and exp must be numbers")
        if exp - iat > self.max_lifetime_s:  # type: ignore[operator]
            raise InvalidToken(f"lifetime over {self.max_lifetime_s} s")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 128 or not sub.isprintable():
            raise InvalidToken("sub must be 1-128 printable characters")
        return Identity(sub=sub, name=_name(claims), rooms=_rooms(claims))

    def audience_ok(self, claims: Mapping[str, Any]) -> bool:
        """``aud`` names us (ID tokens); a Cognito access token has no ``aud`` but names the
        app client in ``client_id`` (with ``token_use`` = access)."""
        aud = claims.get("aud")
        if aud is not None:
            return aud == self.audience or (isinstance(aud, list) and self.audience in aud)
        return claims.get("token_use") == "access" and claims.get("client_id") == self.audience

    def decode(self, token: str, key: Any, algorithm: str) -> Identity:
        options: dict[str, Any] = {
            "require": ["exp", "iat", "iss", "sub"],
            "verify_aud": False,  # checked by audience_ok: access tokens carry client_id
        }
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options=options,
            )
        except jwt.PyJWTError as e:
            raise InvalidToken(f"{type(e).__name__}: {e}") from None
        if not self.audience_ok(claims):
            raise InvalidToken("wrong audience")
        return self.identity(claims)


@dataclass
class JwtVerifier:
    """``jwt`` mode: HS256/ES256 with keys by kid from ``keys()`` (cached by the caller)."""

    policy: Policy
    keys: Callable[[], Mapping[str, str]]

    def verify(self, token: object) -> Identity:
        text = _precheck(token)
        kid = _header(text).get("kid", DEFAULT_KID)
        key = self.keys().get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken(f"unknown kid {str(kid)[:40]!r}")
        return self.policy.decode(text, key.encode(), algorithm_of(key))


class JwksKeys:
    """An OIDC issuer's signing keys from its JWKS URL, through PyJWT's PyJWKClient: cached for
    ``lifespan_s``, fetched again when a token names a kid not in the cache (a key rotation),
    each fetch bounded by ``timeout_s``."""

    def __init__(self, url: str, lifespan_s: int = 3600, timeout_s: int = 3):
        self._client = jwt.PyJWKClient(
            url, cache_keys=True, lifespan=lifespan_s, timeout=timeout_s, max_cached_keys=32
        )

    def key_for(self, token: str) -> Any:
        try:
            return self._client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise  # our problem, not the client's: logged as an error by the authorizer
        except jwt.PyJWTError as e:
            raise InvalidToken(f"no signing key: {type(e).__name__}") from None


@dataclass
class OidcVerifier:
    """``oidc`` mode: RS256 tokens checked against the issuer's JWKS."""

    policy: Policy
    jwks: Any  # JwksKeys, or anything with key_for(token)

    def verify(self, token: object) -> Identity:
        text = _precheck(token)
        if _header(text).get("alg") != "RS256":
            raise InvalidToken("only RS256 tokens are accepted")
        return self.policy.decode(text, self.jwks.key_for(text), "RS256")


def sign(
    claims: Mapping[str, Any], key: str, kid: str | None = None, private_key: Any = None
) -> str:
    """A token in ``jwt`` mode's format: HS256 with ``key``, or ES256 with ``private_key`` (a
    PEM string or key object) when given. For development tokens and tests."""
    headers = {"kid": kid} if kid else None
    if private_key is not None:
        return jwt.encode(dict(claims), private_key, algorithm="ES256", headers=headers)
    return jwt.encode(dict(claims), key.encode(), algorithm="HS256", headers=headers)
