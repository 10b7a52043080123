"""What the web page needs from the emulator itself, as a browser asks for it.

With `cognito_user_pool = true` the page signs in by calling Cognito's InitiateAuth on the
emulator's endpoint from another origin (the gateway's page): the browser first sends a CORS
preflight (`OPTIONS` with `Origin`, `Access-Control-Request-Method` and
`Access-Control-Request-Headers`), then the POST, and reads the answer only if it carries
`Access-Control-Allow-Origin`. moto 5.2.6 answered that preflight with 500 (it routed it to S3's
ListBuckets), and the browser test timed out with no hint of why; these tests name the cause.
"""

from __future__ import annotations

import json
import uuid

import boto3
import requests

PAGE_ORIGIN = "http://127.0.0.1:8080"  # the gateway's web page, another origin than the emulator
PASSWORD = "Correct-Horse-9-battery"
# What web/js/identity.js's signInRequest sends (no signature: the call is unauthenticated).
SIGN_IN_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
}


def _pool_with_user(emulator) -> tuple[str, str]:
    idp = boto3.client("cognito-idp", **emulator.client_kwargs())
    pool = idp.create_user_pool(PoolName=f"cors-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="ana", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="ana", Password=PASSWORD, Permanent=True)
    return pool, client


def _allows(response: requests.Response, origin: str) -> bool:
    return response.headers.get("Access-Control-Allow-Origin") in (origin, "*")


def test_the_emulator_answers_the_browsers_cors_preflight_for_sign_in(emulator):
    response = requests.options(
        emulator.endpoint + "/",
        headers={
            "Origin": PAGE_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
        timeout=10,
    )
    assert response.status_code in (200, 204), (
        f"the emulator answered the browser's CORS preflight (OPTIONS / from {PAGE_ORIGIN}) with "
        f"HTTP {response.status_code}: the web page cannot sign in against it. moto 5.2.6 does "
        "this (it routes the preflight to S3 ListBuckets); pin a moto whose server answers 200 "
        f"in pyproject.toml and run make lock. Body: {response.text[:300]!r}"
    )
    assert _allows(response, PAGE_ORIGIN), (
        f"the preflight's answer does not allow the page's origin: {dict(response.headers)}"
    )
    allowed = response.headers.get("Access-Control-Allow-Headers", "").lower()
    assert allowed == "*" or {"content-type", "x-amz-target"} <= {
        h.strip() for h in allowed.split(",")
    }, f"the preflight's answer does not allow the sign-in's headers: {allowed!r}"


def test_a_cross_origin_initiate_auth_signs_in_and_the_page_may_read_the_answer(emulator):
    _, client_id = _pool_with_user(emulator)
    response = requests.post(
        emulator.endpoint + "/",
        headers={**SIGN_IN_HEADERS, "Origin": PAGE_ORIGIN},
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": "ana", "PASSWORD": PASSWORD},
            }
        ),
        timeout=10,
    )
    assert response.status_code == 200, (
        f"InitiateAuth from the page's origin answered HTTP {response.status_code}: "
        f"{response.text[:300]!r}"
    )
    assert _allows(response, PAGE_ORIGIN), (
        "InitiateAuth's answer lacks Access-Control-Allow-Origin, so the browser hides it from "
        f"the page: {dict(response.headers)}"
    )
    token = response.json()["AuthenticationResult"]["IdToken"]
    assert token.count(".") == 2  # a JWT: header.claims.signature
