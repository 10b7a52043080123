"""`roomchat token` against the project's own authorizer, run by the local gateway as on Lambda."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.support import AUTH_SECRET, Client, handshake_status, run

pytestmark = pytest.mark.e2e

ROOMCHAT = Path(sys.executable).with_name("roomchat")


def _token(name: str, secret: str) -> str:
    result = subprocess.run(
        [str(ROOMCHAT), "token", "--sub", f"user-{name}", "--name", name],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ROOMCHAT_AUTH_SECRET": secret},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_authorizer_accepts_a_token_from_roomchat_token(auth_gateway):
    token = _token("ana", AUTH_SECRET)

    async def scenario():
        client = await Client.connect(f"{auth_gateway.websocket_url}?token={token}")
        reply = await client.request({"action": "echo"}, {"type": "echo"})
        await client.close()
        return reply

    authorizer = run(scenario())["event"]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-ana" and authorizer["name"] == "ana"


def test_the_authorizer_refuses_a_token_signed_with_another_secret(auth_gateway):
    token = _token("ana", "not-the-stack-secret-0123-0123456789")
    assert handshake_status(f"{auth_gateway.websocket_url}?token={token}") == 403
