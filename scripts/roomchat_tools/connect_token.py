"""Issue a development JWT for a stack with `auth_mode = "jwt"`.

    roomchat token --sub user-ana --name Ana [--ttl 3600]        # key from $ROOMCHAT_AUTH_SECRET
    roomchat token --sub user-ana --room team-a --room team-b    # grants private rooms
    roomchat token --sub user-ana --kid 2026-11 --secret-env NEW_KEY   # a rotated key
    roomchat token --sub user-ana --secret 'a-dev-secret-of-32+chars'  # visible in `ps`: dev only

Prints the token alone, for `roomchat chat --token $(...)` or the web client's token field. The
token is HS256, signed by the authorizer's own code (functions/roomchat/auth.py) with the key the
stack was given (Terraform's `auth_secret`, or the SSM parameter `auth_secret_parameter_name`),
with the claims the authorizer checks: sub, name, iss, aud, iat, exp, kid (header) and rooms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from roomchat.auth import MAX_GRANTED_ROOMS, sign
from roomchat.protocol import ROOM_ID_RE, check_name

DEFAULT_SECRET_ENV = "ROOMCHAT_AUTH_SECRET"
# infra/variables.tf's defaults for auth_issuer and auth_audience
DEFAULT_ISSUER = "roomchat-dev"
DEFAULT_AUDIENCE = "roomchat"
MIN_SECRET_CHARS = 32  # RFC 7518 3.2: an HS256 key of at least 256 bits
MAX_TTL_S = 24 * 3600  # the authorizer's default maximum lifetime
MAX_SUB_CHARS = 128


class TokenError(ValueError):
    """Printed as `error: ...` with exit status 2; no token is printed."""


def issue(
    sub: str,
    name: str | None,
    secret: str,
    ttl_s: int,
    now_s: int,
    *,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    kid: str | None = None,
    rooms: list[str] | None = None,
) -> str:
    """A token for `sub` (display name `name`), valid for `ttl_s` seconds from `now_s`."""
    sub = sub.strip()
    if not sub or len(sub) > MAX_SUB_CHARS or not sub.isprintable():
        raise TokenError(f"--sub must be 1-{MAX_SUB_CHARS} printable characters")
    if not 1 <= ttl_s <= MAX_TTL_S:
        raise TokenError(f"--ttl must be between 1 and {MAX_TTL_S} seconds")
    if len(secret) < MIN_SECRET_CHARS:
        raise TokenError(f"the secret must be at least {MIN_SECRET_CHARS} characters")
    claims: dict[str, object] = {
        "sub": sub,
        "iss": issuer,
        "aud": audience,
        "iat": now_s,
        "exp": now_s + ttl_s,
    }
    if name is not None:
        try:
            claims["name"] = check_name(name)
        except Exception as exc:  # the protocol's BadRequest: the authorizer would drop it too
            raise TokenError(f"--name: {exc}") from None
    if rooms:
        if len(rooms) > MAX_GRANTED_ROOMS or not all(ROOM_ID_RE.match(r) for r in rooms):
            raise TokenError(f"--room: at most {MAX_GRANTED_ROOMS} valid room ids")
        claims["rooms"] = list(dict.fromkeys(rooms))
    return sign(claims, secret, kid=kid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print a development JWT for the token authorizer (auth_mode = jwt).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--sub", required=True, help="the user id (the `sub` claim)")
    parser.add_argument("--name", default=None, help="display name (the `name` claim)")
    parser.add_argument(
        "--ttl", type=int, default=3600, help="seconds until the token expires (default 3600)"
    )
    parser.add_argument("--iss", default=DEFAULT_ISSUER, help="issuer (Terraform auth_issuer)")
    parser.add_argument(
        "--aud", default=DEFAULT_AUDIENCE, help="audience (Terraform auth_audience)"
    )
    parser.add_argument("--kid", default=None, help="key id, when the stack has several keys")
    parser.add_argument(
        "--room", action="append", default=[], help="grant a private room (repeatable)"
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--secret", default=None, help="the HMAC key itself (dev only)")
    secret.add_argument(
        "--secret-env",
        default=DEFAULT_SECRET_ENV,
        metavar="VARIABLE",
        help=f"environment variable holding the key (default {DEFAULT_SECRET_ENV})",
    )
    args = parser.parse_args(argv)
    value = args.secret if args.secret is not None else os.environ.get(args.secret_env, "")
    try:
        if not value:
            raise TokenError(f"no secret: set ${args.secret_env} or pass --secret-env/--secret")
        token = issue(
            args.sub,
            args.name,
            value,
            args.ttl,
            int(time.time()),
            issuer=args.iss,
            audience=args.aud,
            kid=args.kid,
            rooms=args.room,
        )
    except TokenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
