"""local/moto_rules.py: the emulator refuses what AWS refuses and moto 5.2 allows."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from roomchat_tools.local import moto_rules

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def idp():
    moto_rules.apply()
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-east-1")


def _client(idp, admin_only: bool, write: list[str] | None) -> str:
    pool = idp.create_user_pool(
        PoolName="p", AdminCreateUserConfig={"AllowAdminCreateUserOnly": admin_only}
    )["UserPool"]["Id"]
    extra = {"WriteAttributes": write} if write else {}
    return idp.create_user_pool_client(UserPoolId=pool, ClientName="web", **extra)[
        "UserPoolClient"
    ]["ClientId"]


def _sign_up(idp, client_id: str, **attributes: str) -> str:
    try:
        idp.sign_up(
            ClientId=client_id,
            Username="mallory",
            Password=PASSWORD,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        )
    except ClientError as e:
        return e.response["Error"]["Code"]
    return "created"


def test_sign_up_is_refused_in_a_pool_where_only_admins_create_users(idp):
    assert _sign_up(idp, _client(idp, admin_only=True, write=None)) == "NotAuthorizedException"


def test_sign_up_may_write_only_the_clients_write_attributes(idp):
    client = _client(idp, admin_only=False, write=["email"])
    assert _sign_up(idp, client, name="admin") == "NotAuthorizedException"
    assert _sign_up(idp, client, email="m@example.com") == "created"


def test_an_open_pool_without_write_attributes_still_signs_up(idp):
    assert _sign_up(idp, _client(idp, admin_only=False, write=None), name="x") == "created"
