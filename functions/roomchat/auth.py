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

import http.client
import json
import time
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
    # The token's ``exp`` (epoch seconds): every action after it is refused (token_expired).
    expires_at: int | None = None

    def context(self) -> dict[str, str | int]:
        """The authorizer context (requestContext.authorizer of every later event). API Gateway
        allows only string, number and boolean values there, so rooms are joined by ','
        (never part of a room id), and ``exp`` is the token's expiry in epoch seconds."""
        ctx: dict[str, str | int] = {"sub": self.sub}
        if self.name:
            ctx["name"] = self.name
        if self.rooms:
            ctx["rooms"] = ",".join(self.rooms)
        if self.expires_at is not None:
            ctx["exp"] = self.expires_at
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
        return Identity(
            sub=sub,
            name=_name(claims),
            rooms=_rooms(claims),
            expires_at=int(exp),  # type: ignore[arg-type]
        )

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


# How often a token naming a kid the cache does not hold may make the authorizer fetch the JWKS
# again. A minute's wait after a rotation costs a real user one refused connect at worst, while a
# client sending made-up kids costs the issuer one request a minute, not one per connect.
JWKS_REFETCH_SECONDS = 60
# After a failed fetch with no keys at all (a cold start during an outage), try again sooner.
JWKS_RETRY_SECONDS = 5


class JwksKeys:
    """An OIDC issuer's signing keys from its JWKS URL, by kid.

    - The key set is kept for ``lifespan_s``, then fetched again on the next token.
    - A token whose kid is not in the set makes a fetch (a key rotation) at most once per
      ``refetch_s``: a flood of unknown kids costs one fetch per interval, never one per connect,
      and is refused without waiting on the issuer in between.
    - A failed fetch keeps the keys in hand: an issuer outage or a bad answer never signs out
      the users whose keys are known.
    - A key the issuer withdrew goes with the next key set (PyJWKClient's per-kid cache kept it
      for the life of the process, and it fetched again on every unknown kid).

    Fetching is PyJWKClient's (``fetch_data``: urllib, bounded by ``timeout_s``), parsing PyJWT's
    ``PyJWKSet``. The authorizer runs one event at a time per process, so there is no lock.
    """

    def __init__(
        self,
        url: str,
        lifespan_s: float = 3600,
        timeout_s: int = 3,
        refetch_s: float = JWKS_REFETCH_SECONDS,
        retry_s: float = JWKS_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout_s)
        self._lifespan_s = lifespan_s
        self._refetch_s = refetch_s
        self._retry_s = retry_s
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None  # the last fetch that gave a key set
        self._next_fetch_at = float("-inf")  # no fetch before this (unknown kids, failures)
        self._failure: Exception | None = None  # why the last fetch failed, if it did

    def key_for(self, token: str) -> Any:
        kid = _header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no kid")
        now = self._clock()
        expired = self._fetched_at is None or now - self._fetched_at >= self._lifespan_s
        if (expired or kid not in self._keys) and now >= self._next_fetch_at:
            self._fetch(now)
        key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys and self._failure is not None:
            # No key at all because the issuer could not be read: our problem, logged as such.
            raise jwt.PyJWKClientConnectionError(f"JWKS unavailable: {self._failure}")
        raise InvalidToken(f"no signing key for kid {kid[:40]!r}")

    def _fetch(self, now: float) -> None:
        try:
            data = self._client.fetch_data()
            if not isinstance(data, dict):
                raise ValueError("the JWKS is not a JSON object")
            keys = {
                k.key_id: k.key
                for k in jwt.PyJWKSet.from_dict(data).keys
                if k.key_id and k.public_key_use in ("sig", None)
            }
            if not keys:
                raise ValueError("the JWKS holds no signing key")
        except (jwt.PyJWTError, ValueError, OSError, http.client.HTTPException) as e:
            self._failure = e
            self._next_fetch_at = now + (self._refetch_s if self._keys else self._retry_s)
            return
        self._keys, self._fetched_at, self._failure = keys, now, None
        self._next_fetch_at = now + self._refetch_s


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
