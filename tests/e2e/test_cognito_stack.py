"""Sign-in with a Cognito user pool on the local stack, end to end: Terraform applies the stack
with `auth_mode = "oidc"` and `cognito_user_pool = true` against the emulator (moto implements
user pools, USER_PASSWORD_AUTH and the pool's JWKS), users are created and sign in there, and
connect with their ID tokens, which the authorizer checks against the pool's JWKS.

This is the suite's one second stack (a second apply, ~15-45 s, shared with
tests/browser/test_signed_in_client.py); the opt-in test_auth_stack.py
covers `auth_mode = "jwt"` the same way."""

from __future__ import annotations

import uuid

import jwt
import pytest

from tests.e2e.support import Client, handshake_status, run

pytestmark = pytest.mark.e2e

# oidc_stack and sign_in: tests/stack.py (session-wide, shared with tests/browser).


def test_the_id_token_is_the_pools_with_the_app_client_as_audience(oidc_stack, sign_in):
    token, _ = sign_in(f"ana-{uuid.uuid4().hex[:6]}")
    claims = jwt.decode(token, options={"verify_signature": False})
    outputs = oidc_stack.info["outputs"]
    assert claims["aud"] == outputs["cognito_client_id"]
    assert claims["iss"].endswith("/" + outputs["cognito_user_pool_id"])


def test_connects_without_or_with_a_forged_token_are_refused(oidc_stack, sign_in):
    token, _ = sign_in(f"eve-{uuid.uuid4().hex[:6]}")
    header, payload, _ = token.split(".")
    assert handshake_status(oidc_stack.url) == 401
    assert handshake_status(f"{oidc_stack.url}?token=garbage") == 403
    assert handshake_status(f"{oidc_stack.url}?token={header}.{payload}.AAAA") == 403
    unsigned = jwt.encode({"sub": "x"}, None, algorithm="none")
    assert handshake_status(f"{oidc_stack.url}?token={unsigned}") == 403


def test_signed_in_users_share_a_private_room_and_a_third_sees_nothing(oidc_stack, sign_in):
    suffix = uuid.uuid4().hex[:6]
    (ana_token, _), (bo_token, bo_sub), (cy_token, _) = (
        sign_in(f"{name}-{suffix}") for name in ("ana", "bo", "cy")
    )
    room = f"team-{suffix}"

    async def scenario():
        ana = await Client.connect(f"{oidc_stack.url}?token={ana_token}")
        ana_phone = await Client.connect(f"{oidc_stack.url}?token={ana_token}")
        bo = await Client.connect(f"{oidc_stack.url}?token={bo_token}")
        cy = await Client.connect(f"{oidc_stack.url}?token={cy_token}")
        r = {}
        r["created"] = await ana.request(
            {"action": "createRoom", "roomId": room, "policy": "private"},
            {"type": "roomCreated"},
        )
        r["ana_joined"] = await ana.request(
            {"action": "join", "roomId": room}, {"type": "joined", "roomId": room}
        )
        await ana_phone.request(
            {"action": "join", "roomId": room}, {"type": "joined", "roomId": room}
        )
        await ana.request(
            {"action": "sendAll", "roomId": room, "message": "plan"}, {"type": "message"}
        )
        r["invited"] = await ana.request(
            {"action": "invite", "roomId": room, "userId": bo_sub}, {"type": "role"}
        )
        r["bo_joined"] = await bo.request(
            {"action": "join", "roomId": room}, {"type": "joined", "roomId": room}
        )
        r["members"] = await bo.request({"action": "members", "roomId": room}, {"type": "members"})
        r["cy_join"] = await cy.request({"action": "join", "roomId": room}, {"type": "error"})
        r["cy_history"] = await cy.request({"action": "history", "roomId": room}, {"type": "error"})
        r["cy_saw"] = await cy.quiet(0.5)
        for c in (ana, ana_phone, bo, cy):
            await c.close()
        return r

    r = run(scenario())
    assert r["created"]["policy"] == "private"
    assert r["ana_joined"]["name"].startswith("ana-")  # from cognito:username
    assert r["invited"]["role"] == "member"
    assert [m["message"] for m in r["bo_joined"]["recent"]] == ["plan"]
    assert sorted(r["members"]["members"]) == [f"ana-{suffix}", f"bo-{suffix}"]  # ana once
    assert r["cy_join"]["code"] == "forbidden"
    assert r["cy_history"]["code"] == "not_member"
    assert r["cy_saw"] == []


def test_nobody_signs_up_and_users_cannot_rename_themselves(oidc_stack):
    """Admin-only creation by default (cognito_self_sign_up = false): anyone can read the app
    client id in config.json, and with sign-up open they could make an account and connect.
    The public client may write `email` only, never the `name`/`preferred_username` the
    authorizer takes display names from. The emulator refuses SignUp as AWS does
    (local/moto_rules.py)."""
    from botocore.exceptions import ClientError

    outputs = oidc_stack.info["outputs"]
    idp = oidc_stack.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=outputs["cognito_user_pool_id"])["UserPool"]
    client = idp.describe_user_pool_client(
        UserPoolId=outputs["cognito_user_pool_id"], ClientId=outputs["cognito_client_id"]
    )["UserPoolClient"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert client["WriteAttributes"] == ["email"]
    with pytest.raises(ClientError) as refused:
        idp.sign_up(
            ClientId=outputs["cognito_client_id"],
            Username=f"mallory-{uuid.uuid4().hex[:6]}",
            Password="Correct-Horse-Battery-9",
            UserAttributes=[{"Name": "name", "Value": "admin"}],
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
