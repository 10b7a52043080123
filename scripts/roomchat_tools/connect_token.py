"""Issue a signed connect token for a stack with the token authorizer (`auth_enabled = true`).

    roomchat token --sub user-ana --name Ana [--ttl 3600]        # secret from $ROOMCHAT_AUTH_SECRET
    roomchat token --sub user-ana --secret-env MY_SECRET_VARIABLE
    roomchat token --sub user-ana --secret 'a-dev-secret-of-16+chars'   # visible in `ps`: dev only

Prints the token alone, for `make chat TOKEN=$(...)` or `?token=` in the web client. The token is
signed by the authorizer's own code (functions/roomchat/auth.py) with the same HMAC secret the
stack was given (Terraform's `auth_secret`, or the SSM parameter `auth_secret_parameter_name`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from roomchat.auth import sign
from roomchat.protocol import check_name

DEFAULT_SECRET_ENV = "ROOMCHAT_AUTH_SECRET"
MIN_SECRET_CHARS = 16  # infra/variables.tf refuses a shorter auth_secret
MAX_TTL_S = 30 * 24 * 3600
MAX_SUB_CHARS = 128


class TokenError(ValueError):
    """Printed as `error: ...` with exit status 2; no token is printed."""


def issue(sub: str, name: str | None, secret: str, ttl_s: int, now_s: int) -> str:
    """A v1 token for `sub` (display name `name`), valid for `ttl_s` seconds from `now_s`."""
    sub = sub.strip()
    if not sub or len(sub) > MAX_SUB_CHARS or not sub.isprintable():
        raise TokenError(f"--sub must be 1-{MAX_SUB_CHARS} printable characters")
    if not 1 <= ttl_s <= MAX_TTL_S:
        raise TokenError(f"--ttl must be between 1 and {MAX_TTL_S} seconds")
    if len(secret) < MIN_SECRET_CHARS:
        raise TokenError(f"the secret must be at least {MIN_SECRET_CHARS} characters")
    claims: dict[str, object] = {"sub": sub, "iat": now_s, "exp": now_s + ttl_s}
    if name is not None:
        try:
            claims["name"] = check_name(name)
        except Exception as exc:  # the protocol's BadRequest: the authorizer would refuse it too
            raise TokenError(f"--name: {exc}") from None
    return sign(claims, secret.encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print a signed connect token (the token authorizer's format).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--sub", required=True, help="who the token is for (the `sub` claim)")
    parser.add_argument("--name", default=None, help="display name the connection will use")
    parser.add_argument(
        "--ttl", type=int, default=3600, help="seconds until the token expires (default 3600)"
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--secret", default=None, help="the HMAC secret itself (dev only)")
    secret.add_argument(
        "--secret-env",
        default=DEFAULT_SECRET_ENV,
        metavar="VARIABLE",
        help=f"environment variable holding the secret (default {DEFAULT_SECRET_ENV})",
    )
    args = parser.parse_args(argv)
    value = args.secret if args.secret is not None else os.environ.get(args.secret_env, "")
    try:
        if not value:
            raise TokenError(f"no secret: set ${args.secret_env} or pass --secret-env/--secret")
        token = issue(args.sub, args.name, value, args.ttl, int(time.time()))
    except TokenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
