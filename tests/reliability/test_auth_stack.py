"""A second local stack, applied by Terraform with the token authorizer on (`auth_mode = "jwt"`),
refuses connections without a valid token and names signed-in users after their token.

It costs a second `terraform apply` (about a minute), so it runs only when ROOMCHAT_AUTH_STACK=1
(`make soak`); test_auth_connect.py covers the same authorizer quickly on a boto3-built API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid

import pytest

from tests.e2e.support import Client, handshake_status, run, token_for
from tests.reliability.support import join, say
from tests.stack import _start_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("ROOMCHAT_AUTH_STACK") != "1",
        reason="a second terraform apply (~1 min): set ROOMCHAT_AUTH_STACK=1 (make soak)",
    ),
]

SECRET = "soak-auth-secret-0123456789-0123456789"


@pytest.fixture(scope="module")
def auth_stack(tmp_path_factory):
    """`python -m roomchat_tools.local` with ROOMCHAT_TF_VARS turning the authorizer on."""
    tf_vars = json.dumps({"auth_mode": "jwt", "auth_secret": SECRET})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOMCHAT_TF_VARS", tf_vars)
        stack = _start_stack(tmp_path_factory)
        running = next(stack)
    yield running
    with contextlib.suppress(StopIteration):
        next(stack)  # stops it and checks nothing is left behind


def test_the_applied_api_has_the_authorizer_on_connect(auth_stack):
    api = auth_stack.client("apigatewayv2")
    api_id = auth_stack.info["api_id"]
    connect = next(r for r in api.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect")
    assert connect["AuthorizationType"] == "CUSTOM"


def test_a_connect_without_a_token_is_refused_with_401(auth_stack):
    assert handshake_status(auth_stack.url) == 401
    assert handshake_status(auth_stack.url + "?name=ana") == 401


def test_a_token_signed_with_another_secret_is_refused_with_403(auth_stack):
    forged = token_for("ana", secret="not-the-secret-0123456789-0123456789")
    assert handshake_status(f"{auth_stack.url}?token={forged}") == 403


def test_a_signed_in_user_chats_under_the_token_name(auth_stack):
    room = f"soak-auth-{uuid.uuid4().hex[:8]}"

    async def scenario():
        ana = await Client.connect(f"{auth_stack.url}?token={token_for('ana', secret=SECRET)}")
        joined = await join(ana, room, "mallory")
        said = await say(ana, room, "signed in")
        await ana.close()
        return joined, said

    joined, said = run(scenario())
    assert joined["name"] == "ana"
    assert said["sender"] == "ana"


def test_an_expired_tokens_connection_is_refused_its_next_action(auth_stack):
    """The authorizer passes the token's `exp` on with its identity; once it has passed, the
    same connection's next action is refused with `token_expired` (and nothing is sent)."""
    room = f"soak-exp-{uuid.uuid4().hex[:8]}"

    async def scenario():
        ana = await Client.connect(f"{auth_stack.url}?token={token_for('ana', SECRET, ttl=3)}")
        await join(ana, room, "ana")
        await asyncio.sleep(4.5)  # past the token's exp
        await ana.send({"action": "sendAll", "roomId": room, "message": "too late"})
        refused = await ana.expect({"type": "error"}, timeout=15)
        await ana.close()
        return refused

    refused = run(scenario())
    assert refused["code"] == "token_expired" and refused["action"] == "sendAll", refused
