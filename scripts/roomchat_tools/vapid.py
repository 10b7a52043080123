"""VAPID keys (RFC 8292): a P-256 key pair, as the Secrets Manager secret's JSON value
{"privateKey": <base64url 32 raw bytes>, "publicKey": <base64url uncompressed point>}.

The `notify` function signs every push with the private key (read once per cold start from
the secret VAPID_SECRET_ID); the public key is the page's ``applicationServerKey`` and is not
secret. ``roomchat vapid`` prints a new pair (the operator puts it in the secret once:
`aws secretsmanager put-secret-value`); the local stack makes one per emulator.
"""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {"privateKey": _b64u(private), "publicKey": _b64u(public)}


def main() -> None:
    print(json.dumps(new_keys()))


if __name__ == "__main__":
    main()
